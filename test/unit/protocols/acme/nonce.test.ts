// RFC 8555 §6.5 nonce source: batched storage, single use through the store, malformed nonces refused unread.
import { describe, expect, it } from 'vitest'
import { createNonceSource } from '../../../../protocols/acme/nonce.js'
import type { AcmeAccount } from '../../../../src/store/index.js'

function fakeStore() {
  const stored = new Set<string>()
  const calls = { issue: 0, consume: 0, consumed: [] as string[] }
  return {
    calls,
    nonces: {
      async issue(values: string[]) {
        calls.issue++
        for (const v of values) stored.add(v)
      },
      async consume(value: string) {
        calls.consume++
        return stored.delete(value)
      },
      async consumeWithAccount(value: string, signer: { id: string } | { thumbprint: string }) {
        calls.consume++
        calls.consumed.push(value)
        return { fresh: stored.delete(value), account: 'id' in signer && signer.id === 'known' ? ({ id: 'known' } as AcmeAccount) : undefined }
      },
      async purgeExpired() {
        return 0
      },
    },
  }
}

describe('nonce source', () => {
  it('ok/distinct-nonces-stored-in-batches-single-use', async () => {
    const store = fakeStore()
    const nonces = createNonceSource(store, 3600)
    const issued = await Promise.all(Array.from({ length: 40 }, () => nonces.issue()))
    expect(new Set(issued).size).toBe(40)
    expect(store.calls.issue).toBe(2)
    for (const n of issued) expect(n).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(await nonces.consume(issued[0])).toBe(true)
    expect(await nonces.consume(issued[0])).toBe(false)
  })

  it.each([[undefined], [42], [''], ['has spaces in it!'], ['x'.repeat(200)]])('fail/malformed-%s-refused-without-a-lookup', async (value) => {
    const store = fakeStore()
    expect(await createNonceSource(store, 3600).consume(value)).toBe(false)
    expect(store.calls.consume).toBe(0)
  })

  it('ok/consume-with-account-reads-the-signer-in-the-same-call', async () => {
    const store = fakeStore()
    const nonces = createNonceSource(store, 3600)
    const nonce = await nonces.issue()
    expect(await nonces.consumeWithAccount(nonce, { id: 'known' })).toEqual({ fresh: true, account: { id: 'known' } })
    expect(await nonces.consumeWithAccount(nonce, { id: 'known' })).toMatchObject({ fresh: false })
    expect(store.calls.consume).toBe(2)
  })

  it('fail/malformed-nonce-matches-no-row-but-the-account-is-still-read', async () => {
    const store = fakeStore()
    expect(await createNonceSource(store, 3600).consumeWithAccount('has spaces!', { id: 'known' })).toEqual({ fresh: false, account: { id: 'known' } })
    expect(store.calls.consumed).toEqual([''])
  })
})
