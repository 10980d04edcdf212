// The ACME codecs against requests and responses captured from real clients (fixtures/acme/, see
// fixtures/README.md): RFC 8555 §6.2 JWS framing and signatures, §7.3–§7.6 payloads, §7.1 resource shapes.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  decodeFlattenedJws,
  decodeNestedJws,
  decodePayload,
  importAccountKey,
  requireSupportedAlgorithm,
  toPublicJwk,
  verifySignature,
} from '../../../../../protocols/acme/codec/jws.js'
import {
  decodeAccountUpdate,
  decodeFinalize,
  decodeKeyChangeInner,
  decodeNewAccount,
  decodeNewOrder,
  decodeRevokeCert,
} from '../../../../../protocols/acme/codec/resources.js'
import { normalizeOrderIdentifiers, requireCsrMatchesOrder } from '../../../../../protocols/acme/identifiers.js'
import { parseCsr } from '../../../../../src/pki/csr.js'

interface Fixture {
  source: string
  kind: string
  request: { method: string; url: string; headers: Record<string, string>; body: string }
  response: { status: number; headers: Record<string, string | string[]>; body: string }
}

const dir = join(import.meta.dirname, '../../../../../fixtures/acme')
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
const load = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Fixture
const fixtures = files.map((f) => [f.replace(/\.json$/, ''), load(f)] as const)
const posts = fixtures.filter(([, f]) => f.request.method === 'POST')
// The client is the first word of the capture's source ("acme-tiny 5.0"): names may contain dashes.
const sourceOf = new Map(fixtures.map(([n, f]) => [n, f.source]))
const clientOf = (name: string) => sourceOf.get(name)!.split(' ')[0]!
const find = (client: string, kind: string) => fixtures.find(([n, f]) => clientOf(n) === client && f.kind === kind)?.[1]

/** The account keys a client used: its newAccount jwk, then the new key of a keyChange. */
function accountKeys(client: string): unknown[] {
  const keys: unknown[] = []
  const created = find(client, 'new-account')
  if (created) keys.push(decodeFlattenedJws(created.request.body).header.jwk)
  const change = find(client, 'key-change')
  if (change) {
    const outer = decodeFlattenedJws(change.request.body)
    const payload = JSON.parse(Buffer.from(outer.jws.payload, 'base64url').toString())
    keys.push(decodeNestedJws(payload, 'inner').header.jwk)
  }
  return keys
}

describe('captured ACME requests (RFC 8555 §6.2)', () => {
  it('has fixtures from all seven clients', () => {
    expect(new Set(fixtures.map(([n]) => clientOf(n)))).toEqual(
      new Set(['acme-tiny', 'acmetool', 'caddy', 'certbot', 'dehydrated', 'lego', 'uacme']),
    )
  })

  it.each(posts)('ok/%s-is-flattened-jws-with-url-and-nonce', (_name, f) => {
    expect(f.request.headers['content-type']).toBe('application/jose+json')
    const { header } = decodeFlattenedJws(f.request.body)
    requireSupportedAlgorithm(header.alg)
    expect(new URL(header.url as string).pathname + new URL(header.url as string).search).toBe(f.request.url)
    expect(header.nonce).toMatch(/^[A-Za-z0-9_-]{16,64}$/)
    expect((header.jwk === undefined) !== (header.kid === undefined)).toBe(true)
  })

  it.each(posts)('ok/%s-signature-verifies', async (name, f) => {
    const { jws, header } = decodeFlattenedJws(f.request.body)
    const alg = requireSupportedAlgorithm(header.alg)
    const candidates = header.jwk ? [header.jwk] : accountKeys(clientOf(name))
    let verified = false
    for (const jwk of candidates) {
      try {
        await verifySignature(jws, await importAccountKey(toPublicJwk(jwk), alg), alg)
        verified = true
      } catch {
        // next key
      }
    }
    expect(verified).toBe(true)
  })

  it.each(posts.filter(([, f]) => f.kind === 'new-account'))('ok/%s-payload-decodes', (_name, f) => {
    const req = decodeNewAccount(decodePayload(Buffer.from(decodeFlattenedJws(f.request.body).jws.payload, 'base64url')))
    expect(req.onlyReturnExisting).not.toBe(true)
    expect(f.response.status).toBe(201)
    expect(f.response.headers['location']).toMatch(/\/acme\/acct\//)
  })

  it.each(posts.filter(([, f]) => f.kind === 'new-account-only-return-existing'))('ok/%s-gets-accountDoesNotExist-or-200', (_name, f) => {
    if (f.response.status === 200) {
      expect(f.response.headers['location']).toMatch(/\/acme\/acct\//)
      return
    }
    expect(f.response.status).toBe(400)
    expect(f.response.headers['content-type']).toBe('application/problem+json')
    expect(JSON.parse(f.response.body).type).toBe('urn:ietf:params:acme:error:accountDoesNotExist')
  })

  it.each(posts.filter(([, f]) => f.kind === 'new-order'))('ok/%s-identifiers-normalize', (_name, f) => {
    const req = decodeNewOrder(decodePayload(Buffer.from(decodeFlattenedJws(f.request.body).jws.payload, 'base64url')))
    expect(normalizeOrderIdentifiers(req.identifiers).length).toBe(req.identifiers.length)
    expect(f.response.status).toBe(201)
  })

  it.each(posts.filter(([, f]) => f.kind === 'finalize'))('ok/%s-csr-matches-its-order', async (name, f) => {
    const csr = await parseCsr(decodeFinalize(decodePayload(Buffer.from(decodeFlattenedJws(f.request.body).jws.payload, 'base64url'))))
    const order = find(clientOf(name), 'new-order')!
    const req = decodeNewOrder(decodePayload(Buffer.from(decodeFlattenedJws(order.request.body).jws.payload, 'base64url')))
    expect(() => requireCsrMatchesOrder(csr, normalizeOrderIdentifiers(req.identifiers))).not.toThrow()
  })

  it.each(posts.filter(([, f]) => f.kind === 'revoke-cert'))('ok/%s-payload-decodes', (_name, f) => {
    const req = decodeRevokeCert(decodePayload(Buffer.from(decodeFlattenedJws(f.request.body).jws.payload, 'base64url')))
    expect(req.certificate[0]).toBe(0x30)
    expect(f.response.status).toBe(200)
  })

  it.each(posts.filter(([, f]) => f.kind === 'key-change'))('ok/%s-inner-jws-decodes', async (_name, f) => {
    const outer = decodeFlattenedJws(f.request.body)
    const inner = decodeNestedJws(decodePayload(Buffer.from(outer.jws.payload, 'base64url')), 'inner')
    expect(inner.header.url).toBe(outer.header.url)
    expect(inner.header.nonce).toBeUndefined()
    const alg = requireSupportedAlgorithm(inner.header.alg)
    const payload = await verifySignature(inner.jws, await importAccountKey(toPublicJwk(inner.header.jwk), alg), alg)
    expect(decodeKeyChangeInner(decodePayload(payload)).account).toBe(outer.header.kid)
  })

  it.each(posts.filter(([, f]) => f.kind === 'account-update' || f.kind === 'account-deactivate'))('ok/%s-payload-decodes', (_name, f) => {
    expect(() => decodeAccountUpdate(decodePayload(Buffer.from(decodeFlattenedJws(f.request.body).jws.payload, 'base64url')))).not.toThrow()
  })
})

describe('captured ACME responses (RFC 8555 §6.5, §7.1)', () => {
  it.each(fixtures)('ok/%s-has-replay-nonce', (_name, f) => {
    expect(f.response.headers['replay-nonce']).toMatch(/^[A-Za-z0-9_-]{22}$/)
  })

  it.each(fixtures.filter(([, f]) => f.kind !== 'directory'))('ok/%s-links-index-one-line-per-relation', (_name, f) => {
    const link = f.response.headers['link']
    const lines = Array.isArray(link) ? link : [link]
    expect(lines.filter((l) => l?.endsWith(';rel="index"'))).toHaveLength(1)
    for (const l of lines) expect(l).toMatch(/^<[^>]+>;rel="[a-z]+"$/)
  })

  it.each(fixtures.filter(([, f]) => f.kind === 'certificate'))('ok/%s-is-a-pem-chain', (_name, f) => {
    expect(f.response.headers['content-type']).toBe('application/pem-certificate-chain')
    expect(f.response.body.match(/-----BEGIN CERTIFICATE-----/g)?.length).toBeGreaterThanOrEqual(2)
  })
})
