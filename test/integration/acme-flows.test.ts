// RFC 8555 account, order and revocation flows over app.request() on the real store: keyChange (§7.3.5),
// deactivation (§7.3.6), EAB (§7.3.4), authorization reuse and newAuthz (§7.4.1), revokeCert (§7.6) by account
// and by certificate key, RFC 9773 renewalInfo and replaces, profiles, and the request checks of §6.
import { createHash, randomBytes } from 'node:crypto'
import { FlattenedSign } from 'jose'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { certIdOf } from '../../protocols/acme/codec/cert-id.js'
import { fromPemAll } from '../../src/pki/pem.js'
import { AcmeTestClient, startHttp01Responder } from '../helpers/acme-client.js'
import { DIRECTORY, PUBLIC_URL, startAcmeTestServer, type AcmeTestServer } from '../helpers/acme-server.js'
import { makeCsr, makeKeys } from '../helpers/csr.js'

const postgresUrl = inject('postgresUrl') || undefined
const urn = (t: string) => `urn:ietf:params:acme:error:${t}`

let server: AcmeTestServer
let http01: Awaited<ReturnType<typeof startHttp01Responder>>

beforeAll(async () => {
  http01 = await startHttp01Responder()
  server = await startAcmeTestServer({
    postgresUrl,
    acme: { http01Port: http01.port, termsOfService: 'https://acme.test/tos' },
    profiles: {
      default: { allow: { dns: ['**.test'], ip: ['127.0.0.0/8'] } },
      short: { description: 'one-day certificates', validityDays: 1, allow: { dns: ['**.test'], ip: ['127.0.0.0/8'] } },
      hidden: { exposed: false, allow: { dns: ['**.test'] } },
      approval: { requireApproval: true, allow: { ip: ['127.0.0.0/8'] } },
    },
  })
})
afterAll(async () => {
  await server?.close()
  await http01?.close()
})

async function account(alg: 'ES256' | 'RS256' | 'EdDSA' | 'ES384' = 'ES256') {
  const client = await AcmeTestClient.create(server.fetch, DIRECTORY, alg)
  const r = await client.newAccount({ termsOfServiceAgreed: true })
  expect(r.status).toBe(201)
  return client
}

/** Order → http-01 on 127.0.0.1 (IP) or the names (resolved through the system: only IPs here) → ready. */
async function readyOrder(client: AcmeTestClient, extra: Record<string, unknown> = {}, ip = '127.0.0.1') {
  const order = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'ip', value: ip }], ...extra })
  expect(order.status).toBe(201)
  for (const url of order.body.authorizations) {
    const authz = await client.post(url, '')
    if (authz.body.status === 'valid') continue
    const ch = authz.body.challenges.find((c: { type: string }) => c.type === 'http-01')
    http01.tokens.set(ch.token, client.keyAuthorization(ch.token))
    await client.post(ch.url, {})
  }
  await server.settle()
  const ready = await client.poll(order.headers.get('location')!)
  expect(ready.body.status).toBe('ready')
  return { url: order.headers.get('location')!, body: ready.body }
}

async function issue(client: AcmeTestClient, extra: Record<string, unknown> = {}, ip = '127.0.0.1') {
  const order = await readyOrder(client, extra, ip)
  const csr = await makeCsr({ ip: [ip] })
  const fin = await client.post(order.body.finalize, { csr: Buffer.from(csr.der).toString('base64url') })
  expect(fin.body.status).toBe('valid')
  const pem = await client.post(fin.body.certificate, '')
  const [leaf] = fromPemAll(pem.text, 'CERTIFICATE')
  return { order, leaf: leaf!, keys: csr.keys, final: fin.body }
}

describe('accounts (RFC 8555 §7.3)', () => {
  it('ok/rs256-es384-eddsa-account-keys', async () => {
    for (const alg of ['RS256', 'ES384', 'EdDSA'] as const) await account(alg)
  })

  it('fail/terms-of-service-not-agreed-is-malformed', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
    const r = await client.newAccount({})
    expect(r.body.type).toBe(urn('malformed'))
  })

  it('fail/contact-other-scheme-is-unsupportedContact-bad-mailto-invalidContact', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
    expect((await client.newAccount({ termsOfServiceAgreed: true, contact: ['tel:+1555'] })).body.type).toBe(urn('unsupportedContact'))
    expect((await client.newAccount({ termsOfServiceAgreed: true, contact: ['mailto:a@b.com?subject=x'] })).body.type).toBe(urn('invalidContact'))
  })

  it('ok/update-contact-and-deactivate', async () => {
    const client = await account()
    const updated = await client.post(client.kid!, { contact: ['mailto:new@example.com'] })
    expect(updated.body.contact).toEqual(['mailto:new@example.com'])
    const deactivated = await client.post(client.kid!, { status: 'deactivated' })
    expect(deactivated.body.status).toBe('deactivated')
    const after = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }] })
    expect(after.status).toBe(403)
    expect(after.body.type).toBe(urn('unauthorized'))
  })

  it('fail/account-url-of-another-account-is-unauthorized', async () => {
    const a = await account()
    const b = await account()
    const r = await a.post(b.kid!, '', { url: b.kid! })
    expect(r.body.type).toBe(urn('unauthorized'))
  })

  it('ok/key-change-rolls-over-and-old-key-stops-working', async () => {
    const client = await account()
    const oldKeys = client.keys
    const oldJwk = client.jwk
    const newKeys = await AcmeTestClient.keyPair('ES256')
    const url = client.directory['keyChange']
    const inner = await client.sign(url, { account: client.kid, oldKey: oldJwk }, { jwk: true, keys: newKeys, nonce: null })
    const r = await client.post(url, inner)
    expect(r.status).toBe(200)
    await client.setKeys(newKeys)
    expect((await client.post(client.kid!, '')).status).toBe(200)
    const stale = await client.post(client.kid!, '', { keys: oldKeys })
    expect(stale.body.type).toBe(urn('malformed'))
    // newAccount with the new key finds the same account
    const found = await client.post(client.directory['newAccount'], { onlyReturnExisting: true }, { jwk: true })
    expect(found.headers.get('location')).toBe(client.kid)
  })

  it('fail/key-change-to-a-key-in-use-is-409-with-location', async () => {
    const a = await account()
    const b = await account()
    const url = a.directory['keyChange']
    const inner = await a.sign(url, { account: a.kid, oldKey: a.jwk }, { jwk: true, keys: b.keys, nonce: null })
    const r = await a.post(url, inner)
    expect(r.status).toBe(409)
    expect(r.headers.get('location')).toBe(b.kid)
  })
})

describe('orders and authorizations (RFC 8555 §7.4, §7.5)', () => {
  it('ok/valid-authorization-is-reused-by-the-next-order', async () => {
    const client = await account()
    const first = await readyOrder(client)
    const second = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }] })
    expect(second.body.status).toBe('ready')
    expect(second.body.authorizations).toEqual(first.body.authorizations)
  })

  it('ok/new-authz-pre-authorization', async () => {
    const client = await account()
    const r = await client.post(client.directory['newAuthz'], { identifier: { type: 'ip', value: '127.0.0.2' } })
    expect(r.status).toBe(201)
    expect(r.body.status).toBe('pending')
    const wild = await client.post(client.directory['newAuthz'], { identifier: { type: 'dns', value: '*.x.test' } })
    expect(wild.body.type).toBe(urn('rejectedIdentifier'))
  })

  it('ok/authorization-deactivation-invalidates-the-order', async () => {
    const client = await account()
    const order = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'dns', value: 'deact.test' }] })
    const d = await client.post(order.body.authorizations[0], { status: 'deactivated' })
    expect(d.body.status).toBe('deactivated')
    expect((await client.post(order.headers.get('location')!, '')).body.status).toBe('invalid')
  })

  it('fail/identifiers-bad-and-unsupported-have-subproblems', async () => {
    const client = await account()
    const r = await client.post(client.directory['newOrder'], {
      identifiers: [{ type: 'dns', value: 'bad..name' }, { type: 'email', value: 'a@b.test' }],
    })
    expect(r.status).toBe(400)
    expect(r.body.subproblems).toHaveLength(2)
    expect(r.body.subproblems[1]).toMatchObject({ type: urn('unsupportedIdentifier'), identifier: { type: 'email' } })
  })

  it('fail/identifiers-the-profile-refuses-are-rejected-at-newOrder', async () => {
    const client = await account()
    const r = await client.post(client.directory['newOrder'], {
      identifiers: [{ type: 'dns', value: 'ok.test' }, { type: 'dns', value: 'www.example.com' }, { type: 'ip', value: '10.1.2.3' }],
    })
    expect(r.status).toBe(400)
    expect(r.body.type).toBe(urn('rejectedIdentifier'))
    expect(r.body.subproblems.map((p: { identifier: { value: string } }) => p.identifier.value)).toEqual(['www.example.com', '10.1.2.3'])
  })

  it('ok/profile-requiring-approval-keeps-the-order-processing-until-approved', async () => {
    const client = await account()
    const order = await readyOrder(client, { profile: 'approval' })
    const csr = await makeCsr({ ip: ['127.0.0.1'] })
    const fin = await client.post(order.body.finalize, { csr: Buffer.from(csr.der).toString('base64url') })
    expect(fin.body.status).toBe('processing')
    expect(fin.headers.get('retry-after')).toBe('1')
    const [pending] = await server.core.store.certificates.list({ status: 'pending', limit: 1 })
    await server.core.issuance.approve(pending!.id, 'admin:test')
    const done = await client.post(order.url, '')
    expect(done.body.status).toBe('valid')
    expect((await client.post(done.body.certificate, '')).status).toBe(200)
  })

  it('ok/profile-is-used-and-unknown-profile-is-invalidProfile', async () => {
    const client = await account()
    const dir = await (await server.fetch(DIRECTORY)).json()
    expect(Object.keys(dir.meta.profiles).sort()).toEqual(['approval', 'default', 'short'])
    const bad = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }], profile: 'hidden' })
    expect(bad.body.type).toBe(urn('invalidProfile'))
    const { leaf, final } = await issue(client, { profile: 'short' })
    expect(final.profile).toBe('short')
    const { x509 } = await import('../../src/pki/x509.js')
    const cert = new x509.X509Certificate(leaf)
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBeLessThanOrEqual(86400_000 + 61_000)
  })

  it('fail/finalize-csr-with-other-names-is-badCSR-and-order-stays-ready', async () => {
    const client = await account()
    const order = await readyOrder(client)
    const csr = await makeCsr({ ip: ['127.0.0.1', '127.0.0.9'] })
    const r = await client.post(order.body.finalize, { csr: Buffer.from(csr.der).toString('base64url') })
    expect(r.body.type).toBe(urn('badCSR'))
    expect((await client.post(order.url, '')).body.status).toBe('ready')
  })

  it('fail/csr-with-the-account-key-is-badCSR', async () => {
    const client = await account()
    const order = await readyOrder(client)
    const csr = await makeCsr({ ip: ['127.0.0.1'] }, client.keys)
    const r = await client.post(order.body.finalize, { csr: Buffer.from(csr.der).toString('base64url') })
    expect(r.body.type).toBe(urn('badCSR'))
    expect(r.body.detail).toContain('account key')
  })

  it('fail/finalize-pending-order-is-orderNotReady', async () => {
    const client = await account()
    const order = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'dns', value: 'pending.test' }] })
    const csr = await makeCsr({ dns: ['pending.test'] })
    const r = await client.post(order.body.finalize, { csr: Buffer.from(csr.der).toString('base64url') })
    expect(r.status).toBe(403)
    expect(r.body.type).toBe(urn('orderNotReady'))
  })

  it('fail/another-accounts-order-is-unauthorized', async () => {
    const a = await account()
    const b = await account()
    const order = await readyOrder(a)
    expect((await b.post(order.url, '')).body.type).toBe(urn('unauthorized'))
  })

  it('ok/orders-list-pages-with-link-next', async () => {
    const client = await account()
    for (let i = 0; i < 3; i++) await client.post(client.directory['newOrder'], { identifiers: [{ type: 'dns', value: `o${i}.test` }] })
    const acct = await client.post(client.kid!, '')
    const list = await client.post(acct.body.orders, '')
    expect(list.body.orders).toHaveLength(3)
    expect(list.headers.get('link')).not.toContain('rel="next"')
  })
})

describe('revokeCert (RFC 8555 §7.6)', () => {
  it('ok/by-account-then-alreadyRevoked', async () => {
    const client = await account()
    const { leaf } = await issue(client)
    const url = client.directory['revokeCert']
    const r = await client.post(url, { certificate: Buffer.from(leaf).toString('base64url'), reason: 4 })
    expect(r.status).toBe(200)
    const again = await client.post(url, { certificate: Buffer.from(leaf).toString('base64url') })
    expect(again.body.type).toBe(urn('alreadyRevoked'))
  })

  it('ok/by-certificate-key-jwk', async () => {
    const client = await account()
    const { leaf, keys } = await issue(client)
    const url = client.directory['revokeCert']
    const r = await client.post(url, { certificate: Buffer.from(leaf).toString('base64url'), reason: 1 }, { jwk: true, keys })
    expect(r.status).toBe(200)
  })

  it('fail/other-account-without-authorizations-is-unauthorized', async () => {
    const owner = await account()
    const { leaf } = await issue(owner)
    const other = await account()
    const r = await other.post(other.directory['revokeCert'], { certificate: Buffer.from(leaf).toString('base64url') })
    expect(r.body.type).toBe(urn('unauthorized'))
  })

  it('fail/reason-cACompromise-is-badRevocationReason', async () => {
    const client = await account()
    const { leaf } = await issue(client)
    const r = await client.post(client.directory['revokeCert'], { certificate: Buffer.from(leaf).toString('base64url'), reason: 2 })
    expect(r.body.type).toBe(urn('badRevocationReason'))
  })

  it('fail/wrong-certificate-key-is-unauthorized', async () => {
    const client = await account()
    const { leaf } = await issue(client)
    const stranger = await makeKeys('ecdsa-p256')
    const r = await client.post(client.directory['revokeCert'], { certificate: Buffer.from(leaf).toString('base64url') }, { jwk: true, keys: stranger })
    expect(r.body.type).toBe(urn('unauthorized'))
  })
})

describe('renewalInfo and replaces (RFC 9773)', () => {
  it('ok/window-in-last-third-then-replaces-claims-once', async () => {
    const client = await account()
    const { leaf } = await issue(client)
    const certId = certIdOf(leaf).id
    const r = await server.fetch(`${client.directory['renewalInfo']}/${certId}`)
    expect(r.status).toBe(200)
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
    const body = await r.json()
    const start = Date.parse(body.suggestedWindow.start)
    expect(start).toBeGreaterThan(Date.now() + 50 * 86400_000)
    expect(Date.parse(body.suggestedWindow.end)).toBeGreaterThan(start)

    const replacing = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }], replaces: certId })
    expect(replacing.status).toBe(201)
    expect(replacing.body.replaces).toBe(certId)
    const twice = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }], replaces: certId })
    expect(twice.status).toBe(409)
    expect(twice.body.type).toBe(urn('alreadyReplaced'))
  })

  it('ok/flagged-profile-moves-window-to-now', async () => {
    const client = await account()
    const { leaf } = await issue(client, { profile: 'short' })
    await server.core.store.acme.renewal.setFlag('profile', 'short', 'https://acme.test/incident')
    const body = await (await server.fetch(`${client.directory['renewalInfo']}/${certIdOf(leaf).id}`)).json()
    expect(Date.parse(body.suggestedWindow.start)).toBeLessThanOrEqual(Date.now())
    expect(body.explanationURL).toBe('https://acme.test/incident')
    await server.core.store.acme.renewal.clearFlag('profile', 'short')
  })

  it('fail/unknown-cert-id-is-404', async () => {
    const r = await server.fetch(`${PUBLIC_URL}/acme/renewal-info/AAAA.AQID`)
    expect(r.status).toBe(404)
    expect(r.headers.get('replay-nonce')).toBeTruthy()
  })
})

describe('request checks (RFC 8555 §6)', () => {
  it('fail/reused-nonce-is-badNonce-with-a-fresh-nonce', async () => {
    const client = await account()
    const nonce = await client.freshNonce()
    expect((await client.post(client.kid!, '', { nonce })).status).toBe(200)
    const replay = await client.post(client.kid!, '', { nonce })
    expect(replay.body.type).toBe(urn('badNonce'))
    expect(replay.headers.get('replay-nonce')).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect((await client.post(client.kid!, '', { nonce: replay.headers.get('replay-nonce')! })).status).toBe(200)
  })

  it('fail/url-mismatch-is-unauthorized', async () => {
    const client = await account()
    const r = await client.post(client.kid!, '', { url: `${PUBLIC_URL}/acme/new-order` })
    expect(r.body.type).toBe(urn('unauthorized'))
  })

  it('fail/alg-none-and-hs256-are-badSignatureAlgorithm', async () => {
    const client = await account()
    for (const alg of ['none', 'HS256']) {
      const protectedHeader = Buffer.from(JSON.stringify({ alg, kid: client.kid, nonce: await client.freshNonce(), url: client.kid })).toString('base64url')
      const r = await client.postRaw(client.kid!, JSON.stringify({ protected: protectedHeader, payload: '', signature: '' }))
      expect(r.body.type).toBe(urn('badSignatureAlgorithm'))
      expect(r.body.algorithms).toContain('ES256')
    }
  })

  it('fail/wrong-content-type-is-415', async () => {
    const client = await account()
    const body = JSON.stringify(await client.sign(client.kid!, ''))
    const r = await client.postRaw(client.kid!, body, 'application/json')
    expect(r.status).toBe(415)
    expect(r.body.type).toBe(urn('malformed'))
  })

  it('fail/unknown-kid-is-accountDoesNotExist', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
    client.kid = `${PUBLIC_URL}/acme/acct/doesnotexist`
    const r = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'dns', value: 'x.test' }] })
    expect(r.body.type).toBe(urn('accountDoesNotExist'))
  })

  it('fail/rsa-1024-account-key-is-badPublicKey', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
    const keys = (await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair
    const { exportJWK } = await import('jose')
    const jwk = await exportJWK(keys.publicKey)
    const header = { alg: 'RS256', jwk, nonce: await client.freshNonce(), url: client.directory['newAccount'] }
    // jose refuses to sign with a short RSA key; sign with WebCrypto directly.
    const protectedB64 = Buffer.from(JSON.stringify(header)).toString('base64url')
    const payload = Buffer.from(JSON.stringify({ termsOfServiceAgreed: true })).toString('base64url')
    const sig = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', keys.privateKey, new TextEncoder().encode(`${protectedB64}.${payload}`))
    const r = await client.postRaw(client.directory['newAccount'], JSON.stringify({ protected: protectedB64, payload, signature: Buffer.from(sig).toString('base64url') }))
    expect(r.body.type).toBe(urn('badPublicKey'))
  })

  it('fail/jwk-on-a-kid-resource-is-malformed', async () => {
    const client = await account()
    const r = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'dns', value: 'x.test' }] }, { jwk: true })
    expect(r.body.type).toBe(urn('malformed'))
  })

  it('fail/get-on-a-post-resource-is-405', async () => {
    const r = await server.fetch(`${PUBLIC_URL}/acme/new-order`)
    expect(r.status).toBe(405)
    expect(r.headers.get('replay-nonce')).toBeTruthy()
  })
})

describe('External Account Binding (RFC 8555 §7.3.4)', () => {
  let eabServer: AcmeTestServer
  beforeAll(async () => {
    eabServer = await startAcmeTestServer({ postgresUrl, acme: { externalAccountRequired: true } })
  })
  afterAll(async () => eabServer?.close())

  async function eab(client: AcmeTestClient, keyId: string, hmac: Uint8Array, alg = 'HS256', url = client.directory['newAccount']) {
    return new FlattenedSign(new TextEncoder().encode(JSON.stringify(client.jwk))).setProtectedHeader({ alg, kid: keyId, url }).sign(hmac)
  }

  it('ok/required-and-bound-once', async () => {
    const dir = await (await eabServer.fetch(DIRECTORY)).json()
    expect(dir.meta.externalAccountRequired).toBe(true)
    const hmac = randomBytes(32)
    await eabServer.core.store.acme.eabKeys.create({ id: 'kid-1', hmacKey: hmac, description: 'test', domains: [] })
    const client = await AcmeTestClient.create(eabServer.fetch, DIRECTORY)
    expect((await client.newAccount({})).body.type).toBe(urn('externalAccountRequired'))
    const ok = await client.newAccount({ externalAccountBinding: await eab(client, 'kid-1', hmac, 'HS384') })
    expect(ok.status).toBe(201)
    const second = await AcmeTestClient.create(eabServer.fetch, DIRECTORY)
    const reused = await second.newAccount({ externalAccountBinding: await eab(second, 'kid-1', hmac) })
    expect(reused.body.type).toBe(urn('unauthorized'))
  })

  it('fail/wrong-mac-or-url-is-unauthorized', async () => {
    const hmac = randomBytes(32)
    await eabServer.core.store.acme.eabKeys.create({ id: 'kid-2', hmacKey: hmac, description: '', domains: [] })
    const client = await AcmeTestClient.create(eabServer.fetch, DIRECTORY)
    expect((await client.newAccount({ externalAccountBinding: await eab(client, 'kid-2', randomBytes(32)) })).body.type).toBe(urn('unauthorized'))
    expect((await client.newAccount({ externalAccountBinding: await eab(client, 'kid-2', hmac, 'HS256', `${PUBLIC_URL}/acme/elsewhere`) })).body.type).toBe(urn('unauthorized'))
    expect(createHash('sha256').update(hmac).digest()).toHaveLength(32)
  })
})

describe('EAB pre-authorization and rate limits (configured departures and limits)', () => {
  let other: AcmeTestServer
  beforeAll(async () => {
    other = await startAcmeTestServer({
      postgresUrl,
      acme: {
        eabPreauthorization: true,
        rateLimits: { newOrdersPerAccountPerHour: 3 },
        http01Port: http01.port,
        validation: { attempts: 1, retryDelaySeconds: 0, timeoutSeconds: 3, awaitSeconds: 0 },
      },
    })
  })
  afterAll(async () => other?.close())

  it('ok/names-matching-the-eab-key-patterns-skip-challenges', async () => {
    const hmac = randomBytes(32)
    await other.core.store.acme.eabKeys.create({ id: 'pre-1', hmacKey: hmac, description: '', domains: ['**.corp.test'] })
    const client = await AcmeTestClient.create(other.fetch, DIRECTORY)
    const eab = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(client.jwk)))
      .setProtectedHeader({ alg: 'HS256', kid: 'pre-1', url: client.directory['newAccount'] })
      .sign(hmac)
    expect((await client.newAccount({ externalAccountBinding: eab })).status).toBe(201)
    const pre = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'dns', value: 'db.corp.test' }] })
    expect(pre.body.status).toBe('ready')
    const mixed = await client.post(client.directory['newOrder'], {
      identifiers: [{ type: 'dns', value: 'db.corp.test' }, { type: 'dns', value: 'elsewhere.test' }],
    })
    expect(mixed.body.status).toBe('pending')
  })

  it('ok/challenge-answered-processing-when-the-validation-is-not-awaited', async () => {
    const client = await AcmeTestClient.create(other.fetch, DIRECTORY)
    await client.newAccount()
    const order = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }] })
    const authz = await client.post(order.body.authorizations[0], '')
    const ch = authz.body.challenges.find((c: { type: string }) => c.type === 'http-01')
    http01.tokens.set(ch.token, client.keyAuthorization(ch.token))
    const started = await client.post(ch.url, {})
    expect(started.body.status).toBe('processing')
    expect(started.headers.get('retry-after')).toBe('1')
    await other.settle()
    expect((await client.post(ch.url, '')).body.status).toBe('valid')
    expect((await client.post(order.headers.get('location')!, '')).body.status).toBe('ready')
  })

  it('fail/orders-over-the-hourly-limit-are-rateLimited-with-retry-after', async () => {
    const client = await AcmeTestClient.create(other.fetch, DIRECTORY)
    await client.newAccount()
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      const r = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'dns', value: `r${i}.test` }] })
      statuses.push(r.status)
      if (r.status === 429) {
        expect(r.body.type).toBe(urn('rateLimited'))
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
      }
    }
    expect(statuses).toEqual([201, 201, 201, 429])
  })
})
