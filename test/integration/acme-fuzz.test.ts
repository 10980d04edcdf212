// Fuzzing ACME requests end to end (fast-check over app.request(), real store): wrong alg, `none`, oversized
// payloads, unknown kid, url mismatch, replayed nonce, corrupted signature, CSR not matching the order,
// resources of other accounts — each gets its ACME problem type, and the ACME state and inventory are unchanged.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { AcmeTestClient, startHttp01Responder } from '../helpers/acme-client.js'
import { DIRECTORY, PUBLIC_URL, startAcmeTestServer, type AcmeTestServer } from '../helpers/acme-server.js'
import { makeCsr } from '../helpers/csr.js'

const postgresUrl = inject('postgresUrl') || undefined
const urn = (t: string) => `urn:ietf:params:acme:error:${t}`

let server: AcmeTestServer
let http01: Awaited<ReturnType<typeof startHttp01Responder>>
let alice: AcmeTestClient
let bob: AcmeTestClient
let aliceOrder: { url: string; finalize: string; authz: string }
let bobOrder: { url: string; authz: string }
let csrDer: { match: string; other: string }

/** What must not change: accounts, orders, authorizations (with challenges) and the certificate inventory. */
async function snapshot(): Promise<string> {
  const s = server.core.store
  const parts: unknown[] = []
  for (const c of [alice, bob]) {
    const id = c.kid!.split('/').at(-1)!
    const account = await s.acme.accounts.byId(id)
    const orders = await s.acme.orders.forAccount(id, undefined, 1000)
    const authz = await s.acme.authorizations.byIds(orders.flatMap((o) => o.authzIds))
    parts.push(account, orders, authz)
  }
  parts.push((await s.certificates.list({ limit: 1000 })).map((r) => [r.id, r.status]))
  return JSON.stringify(parts)
}

beforeAll(async () => {
  http01 = await startHttp01Responder()
  server = await startAcmeTestServer({ postgresUrl, acme: { http01Port: http01.port } })
  alice = await AcmeTestClient.create(server.fetch, DIRECTORY)
  bob = await AcmeTestClient.create(server.fetch, DIRECTORY, 'RS256')
  await alice.newAccount()
  await bob.newAccount()
  const a = await alice.post(alice.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }] })
  const authz = await alice.post(a.body.authorizations[0], '')
  const ch = authz.body.challenges[0]
  http01.tokens.set(ch.token, alice.keyAuthorization(ch.token))
  await alice.post(ch.url, {})
  await server.settle()
  aliceOrder = { url: a.headers.get('location')!, finalize: a.body.finalize, authz: a.body.authorizations[0] }
  const b = await bob.post(bob.directory['newOrder'], { identifiers: [{ type: 'dns', value: 'bob.test' }] })
  bobOrder = { url: b.headers.get('location')!, authz: b.body.authorizations[0] }
  const b64 = async (o: Parameters<typeof makeCsr>[0]) => Buffer.from((await makeCsr(o)).der).toString('base64url')
  csrDer = { match: await b64({ ip: ['127.0.0.1'] }), other: await b64({ ip: ['127.0.0.1'], dns: ['extra.test'] }) }
})
afterAll(async () => {
  await server?.close()
  await http01?.close()
})

type Case =
  | { kind: 'alg'; alg: string }
  | { kind: 'oversized'; size: number }
  | { kind: 'unknownKid'; id: string }
  | { kind: 'urlMismatch'; path: string }
  | { kind: 'replayedNonce' }
  | { kind: 'badSignature'; flip: number }
  | { kind: 'csrMismatch' }
  | { kind: 'otherAccount'; target: 'order' | 'authz' | 'account' }
  | { kind: 'garbage'; body: string }

const cases: fc.Arbitrary<Case> = fc.oneof(
  fc.record({ kind: fc.constant('alg' as const), alg: fc.oneof(fc.constantFrom('none', 'HS256', 'HS512', 'RS384', 'PS256', 'ES256K'), fc.string({ maxLength: 12 })) }),
  fc.record({ kind: fc.constant('oversized' as const), size: fc.integer({ min: 4100, max: 400_000 }) }),
  fc.record({ kind: fc.constant('unknownKid' as const), id: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/) }),
  fc.record({ kind: fc.constant('urlMismatch' as const), path: fc.constantFrom('/acme/new-account', '/acme/order/x', '/other', '/acme/new-order?x=1') }),
  fc.record({ kind: fc.constant('replayedNonce' as const) }),
  fc.record({ kind: fc.constant('badSignature' as const), flip: fc.nat() }),
  fc.record({ kind: fc.constant('csrMismatch' as const) }),
  fc.record({ kind: fc.constant('otherAccount' as const), target: fc.constantFrom('order' as const, 'authz' as const, 'account' as const) }),
  fc.record({ kind: fc.constant('garbage' as const), body: fc.oneof(fc.string(), fc.json()) }),
)

async function send(c: Case): Promise<{ type: string; status: number; nonce: string | null }> {
  const newOrder = alice.directory['newOrder'] as string
  let r
  switch (c.kind) {
    case 'alg': {
      const header = { alg: c.alg, kid: alice.kid, nonce: await alice.freshNonce(), url: newOrder }
      const body = { protected: Buffer.from(JSON.stringify(header)).toString('base64url'), payload: '', signature: 'AAAA' }
      r = await alice.postRaw(newOrder, JSON.stringify(body))
      break
    }
    case 'oversized':
      r = await alice.post(newOrder, { identifiers: Array.from({ length: Math.ceil(c.size / 40) }, (_, i) => ({ type: 'dns', value: `n${i}.${'x'.repeat(30)}.test` })) })
      break
    case 'unknownKid': {
      const saved = alice.kid
      alice.kid = `${PUBLIC_URL}/acme/acct/${c.id}-unknown`
      r = await alice.post(newOrder, { identifiers: [{ type: 'dns', value: 'x.test' }] })
      alice.kid = saved
      break
    }
    case 'urlMismatch':
      r = await alice.postRaw(newOrder, JSON.stringify(await alice.sign(newOrder, { identifiers: [{ type: 'dns', value: 'x.test' }] }, { url: `${PUBLIC_URL}${c.path}` })))
      break
    case 'replayedNonce': {
      const nonce = await alice.freshNonce()
      await alice.post(alice.kid!, '', { nonce })
      r = await alice.post(newOrder, { identifiers: [{ type: 'dns', value: 'x.test' }] }, { nonce })
      break
    }
    case 'badSignature': {
      const jws = await alice.sign(newOrder, { identifiers: [{ type: 'dns', value: 'x.test' }] })
      const sig = Buffer.from(jws['signature']!, 'base64url')
      sig[c.flip % sig.length]! ^= 0x01
      r = await alice.postRaw(newOrder, JSON.stringify({ ...jws, signature: sig.toString('base64url') }))
      break
    }
    case 'csrMismatch':
      r = await alice.post(aliceOrder.finalize, { csr: csrDer.other })
      break
    case 'otherAccount':
      r = await bob.post(c.target === 'order' ? aliceOrder.url : c.target === 'authz' ? aliceOrder.authz : alice.kid!, '', {
        url: c.target === 'order' ? aliceOrder.url : c.target === 'authz' ? aliceOrder.authz : alice.kid!,
      })
      break
    case 'garbage':
      r = await alice.postRaw(newOrder, c.body)
      break
  }
  return { type: r.body?.type, status: r.status, nonce: r.headers.get('replay-nonce') }
}

const expected: Record<Case['kind'], string[]> = {
  alg: ['badSignatureAlgorithm'],
  oversized: ['malformed'],
  unknownKid: ['accountDoesNotExist'],
  urlMismatch: ['unauthorized'],
  replayedNonce: ['badNonce'],
  badSignature: ['malformed'],
  csrMismatch: ['badCSR'],
  otherAccount: ['unauthorized'],
  garbage: ['malformed'],
}

describe('fuzz: bad ACME requests change nothing', () => {
  it('each mutated request gets its problem type and a fresh nonce; the store is unchanged (400 cases)', async () => {
    const before = await snapshot()
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const got = await send(c)
        expect(expected[c.kind].map(urn), JSON.stringify(c).slice(0, 200)).toContain(got.type)
        expect(got.status).toBeGreaterThanOrEqual(400)
        expect(got.status).toBeLessThan(500)
        expect(got.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/)
      }),
      { numRuns: 400 },
    )
    expect(await snapshot()).toBe(before)
    // …and the good request still works afterwards.
    const ok = await alice.post(aliceOrder.finalize, { csr: csrDer.match })
    expect(ok.body.status).toBe('valid')
    expect(bobOrder.url).toBeTruthy()
  }, 120_000)
})
