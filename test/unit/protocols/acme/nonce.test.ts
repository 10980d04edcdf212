// RFC 8555 §6.5 nonce source: batched storage, single use through the store, malformed nonces refused unread.
import { describe, expect, it } from 'vitest'
import { createNonceSource } from '../../../../protocols/acme/nonce.js'

function fakeStore() {
  const stored = new Set<string>()
  const calls = { issue: 0, consume: 0 }
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
})
