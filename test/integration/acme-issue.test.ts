// RFC 8555 end to end over app.request(): directory, nonces, newAccount, newOrder, http-01 / dns-01 really
// validated against local responders, finalize, certificate download; on PostgreSQL and on PGlite.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { x509 } from '../../src/pki/x509.js'
import { fromPemAll } from '../../src/pki/pem.js'
import { AcmeTestClient, startHttp01Responder, startTlsAlpnResponder } from '../helpers/acme-client.js'
import { DIRECTORY, PUBLIC_URL, startAcmeTestServer, type AcmeTestServer } from '../helpers/acme-server.js'
import { makeCsr } from '../helpers/csr.js'
import { startTestDns, type TestDnsServer } from '../helpers/dns-server.js'
import { createHash } from 'node:crypto'

const postgresUrl = inject('postgresUrl')
const targets = [...(postgresUrl ? [['postgres', postgresUrl] as const] : []), ['pglite', undefined] as const]

describe.each(targets)('ACME issuance on %s', (_name, url) => {
  let server: AcmeTestServer
  let http01: Awaited<ReturnType<typeof startHttp01Responder>>
  let dns: TestDnsServer
  let tls: Awaited<ReturnType<typeof startTlsAlpnResponder>>

  beforeAll(async () => {
    http01 = await startHttp01Responder()
    tls = await startTlsAlpnResponder()
    dns = await startTestDns()
    server = await startAcmeTestServer({
      postgresUrl: url,
      acme: { http01Port: http01.port, tlsAlpn01Port: tls.port, dnsResolver: dns.address, caaIdentities: ['enroll.test'] },
    })
  })
  afterAll(async () => {
    await server?.close()
    await http01?.close()
    await tls?.close()
    await dns?.close()
  })

  async function validateOne(client: AcmeTestClient, name: string, type: 'http-01' | 'tls-alpn-01') {
    const order = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'dns', value: name }] })
    const authz = await client.post(order.body.authorizations[0], '')
    const ch = authz.body.challenges.find((c: { type: string }) => c.type === type)
    if (type === 'http-01') http01.tokens.set(ch.token, client.keyAuthorization(ch.token))
    else tls.keyAuthorizations.set(name, client.keyAuthorization(ch.token))
    await client.post(ch.url, {})
    await server.settle()
    return client.poll(order.body.authorizations[0])
  }

  it('ok/tls-alpn-01-validated-over-a-real-handshake', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY, 'ES384')
    await client.newAccount()
    expect((await validateOne(client, 'alpn.tls.test', 'tls-alpn-01')).body.status).toBe('valid')
  })

  it('#3 - order stays pending when its authorizations validate at the same time', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
    await client.newAccount()
    for (let round = 0; round < 8; round++) {
      const names = [`a${round}.race.test`, `b${round}.race.test`, `c${round}.race.test`]
      const order = await client.post(client.directory['newOrder'], { identifiers: names.map((value) => ({ type: 'dns', value })) })
      const challenges = []
      for (const url of order.body.authorizations) {
        const ch = (await client.post(url, '')).body.challenges.find((c: { type: string }) => c.type === 'http-01')
        http01.tokens.set(ch.token, client.keyAuthorization(ch.token))
        challenges.push(ch.url)
      }
      // Respond to all three before any validation can finish.
      const signed = await Promise.all(challenges.map(async (u) => [u, JSON.stringify(await client.sign(u, {}, { nonce: await client.freshNonce() }))]))
      await Promise.all(signed.map(([u, body]) => client.postRaw(u!, body!)))
      await server.settle()
      expect((await client.post(order.headers.get('location')!, '')).body.status).toBe('ready')
    }
  })

  it('fail/caa-naming-another-ca-is-caa', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
    await client.newAccount()
    dns.caa.set('caa.test', [{ tag: 'issue', value: 'other-ca.example' }])
    const denied = await validateOne(client, 'www.caa.test', 'http-01')
    expect(denied.body.status).toBe('invalid')
    expect(denied.body.challenges.find((c: { type: string }) => c.type === 'http-01').error.type).toBe('urn:ietf:params:acme:error:caa')
    dns.caa.set('ok-caa.test', [{ tag: 'issue', value: 'enroll.test; validationmethods=http-01' }])
    expect((await validateOne(client, 'ok-caa.test', 'http-01')).body.status).toBe('valid')
  })

  it('fail/dns-servfail-is-dns-problem', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
    await client.newAccount()
    dns.fail.add('broken.test')
    const r = await validateOne(client, 'broken.test', 'http-01')
    expect(r.body.challenges.find((c: { type: string }) => c.type === 'http-01').error.type).toBe('urn:ietf:params:acme:error:dns')
  })

  it('ok/directory-lists-resources-and-meta', async () => {
    const r = await server.fetch(DIRECTORY)
    expect(r.status).toBe(200)
    expect(r.headers.get('replay-nonce')).toMatch(/^[A-Za-z0-9_-]{22}$/)
    const d = await r.json()
    expect(d).toMatchObject({
      newNonce: `${PUBLIC_URL}/acme/new-nonce`,
      newAccount: `${PUBLIC_URL}/acme/new-account`,
      newOrder: `${PUBLIC_URL}/acme/new-order`,
      revokeCert: `${PUBLIC_URL}/acme/revoke-cert`,
      keyChange: `${PUBLIC_URL}/acme/key-change`,
      renewalInfo: `${PUBLIC_URL}/acme/renewal-info`,
      meta: { externalAccountRequired: false, profiles: { default: expect.any(String) } },
    })
  })

  it('ok/newNonce-head-200-get-204-no-store', async () => {
    const head = await server.fetch(`${PUBLIC_URL}/acme/new-nonce`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('cache-control')).toBe('no-store')
    expect(head.headers.get('replay-nonce')).toBeTruthy()
    expect(head.headers.get('link')).toBe(`<${DIRECTORY}>;rel="index"`)
    const get = await server.fetch(`${PUBLIC_URL}/acme/new-nonce`)
    expect(get.status).toBe(204)
  })

  it('ok/issue-ip-identifier-with-http-01', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
    const missing = await client.post(client.directory['newAccount'], { onlyReturnExisting: true }, { jwk: true })
    expect(missing.status).toBe(400)
    expect(missing.headers.get('content-type')).toBe('application/problem+json')
    expect(missing.body.type).toBe('urn:ietf:params:acme:error:accountDoesNotExist')
    expect(missing.headers.get('replay-nonce')).toBeTruthy()

    const created = await client.newAccount({ termsOfServiceAgreed: true, contact: ['mailto:ops@example.com'] })
    expect(created.status).toBe(201)
    expect(created.headers.get('location')).toMatch(new RegExp(`^${PUBLIC_URL}/acme/acct/`))
    expect(created.body).toMatchObject({ status: 'valid', contact: ['mailto:ops@example.com'] })
    const again = await client.newAccount()
    expect(again.status).toBe(200)
    expect(again.headers.get('location')).toBe(created.headers.get('location'))

    const order = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }] })
    expect(order.status).toBe(201)
    expect(order.body.status).toBe('pending')
    const authz = await client.post(order.body.authorizations[0], '')
    expect(authz.body.identifier).toEqual({ type: 'ip', value: '127.0.0.1' })
    expect(authz.body.challenges.map((c: { type: string }) => c.type)).toEqual(['http-01', 'tls-alpn-01'])
    const ch = authz.body.challenges.find((c: { type: string }) => c.type === 'http-01')
    http01.tokens.set(ch.token, client.keyAuthorization(ch.token))
    const started = await client.post(ch.url, {})
    expect(started.status).toBe(200)
    // Validated within acme.validation.awaitSeconds: the answer carries the outcome (RFC 8555 §7.5.1 allows it).
    expect(started.body.status).toBe('valid')
    expect(started.body.validated).toBeTruthy()
    expect(started.headers.get('retry-after')).toBeNull()
    expect(started.headers.get('link')).toContain('rel="up"')
    await server.settle()
    expect((await client.poll(order.body.authorizations[0])).body.status).toBe('valid')
    expect((await client.poll(order.headers.get('location')!)).body.status).toBe('ready')

    const csr = await makeCsr({ dns: [], ip: ['127.0.0.1'] })
    const fin = await client.post(order.body.finalize, { csr: Buffer.from(csr.der).toString('base64url') })
    expect(fin.status).toBe(200)
    expect(fin.body.status).toBe('valid')
    const cert = await client.post(fin.body.certificate, '')
    expect(cert.status).toBe(200)
    expect(cert.headers.get('content-type')).toBe('application/pem-certificate-chain')
    const [leaf, issuing, ...more] = fromPemAll(cert.text, 'CERTIFICATE')
    expect(more).toEqual([])
    const parsed = new x509.X509Certificate(leaf!)
    expect(await parsed.verify({ publicKey: new x509.X509Certificate(issuing!).publicKey, signatureOnly: true })).toBe(true)
    // The chain is complete: no "up" link (Caddy's client would fetch it and append the issuer a second time).
    expect(cert.headers.get('link')).not.toContain('rel="up"')

    // The single-certificate format: the leaf in DER, and "up" to its issuer, which links up to the root.
    const single = await client.post(fin.body.certificate, '', { accept: 'application/pkix-cert' })
    expect(single.headers.get('content-type')).toBe('application/pkix-cert')
    const upOf = (r: { headers: Headers }) => /<([^>]+)>;rel="up"/.exec(r.headers.get('link') ?? '')?.[1]
    const issuerUrl = upOf(single)
    expect(issuerUrl).toBe(`${PUBLIC_URL}/acme/issuer/local/0`)
    const up = await client.post(issuerUrl!, '')
    expect(up.headers.get('content-type')).toBe('application/pem-certificate-chain')
    expect(fromPemAll(up.text, 'CERTIFICATE')).toEqual([issuing])
    const upDer = await client.post(issuerUrl!, '', { accept: 'application/pkix-cert' })
    expect(upDer.headers.get('content-type')).toBe('application/pkix-cert')
    const root = await client.post(upOf(upDer)!, '')
    const rootCert = new x509.X509Certificate(fromPemAll(root.text, 'CERTIFICATE')[0]!)
    expect(rootCert.subject).toBe(rootCert.issuer)
    expect(upOf(root)).toBeUndefined()
    expect((await client.post(`${PUBLIC_URL}/acme/issuer/local/2`, '')).status).toBe(404)
    expect((await client.post(`${PUBLIC_URL}/acme/issuer/nope/0`, '')).status).toBe(404)
    const san = parsed.getExtension(x509.SubjectAlternativeNameExtension)!
    expect(san.names.items.map((n) => n.value)).toEqual(['127.0.0.1'])
    expect(http01.requests.some((r) => r.includes(ch.token))).toBe(true)

    const list = await client.post(created.body.orders, '')
    expect(list.body).toEqual({ orders: [order.headers.get('location')] })
  })

  it('ok/issue-dns-names-and-wildcard-with-dns-01', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY, 'EdDSA')
    await client.newAccount()
    const names = ['www.dns01.test', '*.dns01.test']
    const order = await client.post(client.directory['newOrder'], { identifiers: names.map((value) => ({ type: 'dns', value })) })
    expect(order.status).toBe(201)
    for (const authzUrl of order.body.authorizations) {
      const authz = await client.post(authzUrl, '')
      const ch = authz.body.challenges.find((c: { type: string }) => c.type === 'dns-01')
      if (authz.body.wildcard) expect(authz.body.challenges).toHaveLength(1)
      const digest = createHash('sha256').update(client.keyAuthorization(ch.token)).digest('base64url')
      const name = `_acme-challenge.${authz.body.identifier.value}`
      dns.txt.set(name, [...(dns.txt.get(name) ?? []), digest])
      const started = await client.post(ch.url, {})
      expect(started.status, JSON.stringify(started.body)).toBe(200)
    }
    await server.settle()
    expect((await client.poll(order.headers.get('location')!)).body.status).toBe('ready')
    const csr = await makeCsr({ subject: 'CN=www.dns01.test', dns: names, key: 'rsa-2048' })
    const fin = await client.post(order.body.finalize, { csr: Buffer.from(csr.der).toString('base64url') })
    expect(fin.body.status).toBe('valid')
  })

  it('fail/http-01-wrong-key-authorization-makes-order-invalid', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY, 'RS256')
    await client.newAccount()
    const order = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'dns', value: 'wrong.http01.test' }] })
    const authz = await client.post(order.body.authorizations[0], '')
    const ch = authz.body.challenges.find((c: { type: string }) => c.type === 'http-01')
    http01.tokens.set(ch.token, 'not-the-key-authorization')
    await client.post(ch.url, {})
    await server.settle()
    const settled = await client.poll(order.body.authorizations[0])
    expect(settled.body.status).toBe('invalid')
    const failed = settled.body.challenges.find((c: { type: string }) => c.type === 'http-01')
    expect(failed.error.type).toBe('urn:ietf:params:acme:error:unauthorized')
    const o = await client.post(order.headers.get('location')!, '')
    expect(o.body.status).toBe('invalid')
  })
})
