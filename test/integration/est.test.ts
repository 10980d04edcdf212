// EST (RFC 7030 + RFC 8951) over real HTTPS: startServer() on loopback, clients authenticating with HTTP Basic
// and with real TLS client certificates (ours and an external CA's), channel binding on TLS 1.3 and 1.2,
// re-enrollment, the 202 approval path, serverkeygen and csrattrs.
import { X509Certificate as NodeX509, createPrivateKey, createPublicKey } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import * as asn1js from 'asn1js'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../src/config/est.js'
import { loadConfig } from '../../src/config/load.js'
import { parseCsr } from '../../src/pki/csr.js'
import { fromPemAll, toPem, type Der } from '../../src/pki/pem.js'
import { x509 } from '../../src/pki/x509.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { CERTS_ONLY, decodeCertsOnly, decodeServerKeygen, fromBase64Body } from '../../protocols/est/codec.js'
import { makeCsr, makeKeys, type MakeCsrOptions } from '../helpers/csr.js'
import { b64, estCall, privateKeyPem, type EstCall, type EstReply } from '../helpers/est.js'

const logger = pino({ level: 'silent' })
const EST = '/.well-known/est'
const alice: [string, string] = ['alice', 'wonderland']
const bob: [string, string] = ['bob', 'builder-0815']

let dataDir: string
let server: RunningServer
let caPem: string
let chain: Der[]
/** An external CA (a device manufacturer's): its root PEM, and a client certificate it issued. */
let external: { rootPem: string; clientKey: string; clientCert: string }

const call = (o: EstCall) => estCall(server.httpsPort, caPem, o)
const counts = () => server.store.certificates.countByStatus()
const total = async () => Object.values(await counts()).reduce((a, b) => a + b, 0)

/** The certificates of a 200 certs-only answer. */
function certsOf(r: EstReply): x509.X509Certificate[] {
  expect(r.status, r.text).toBe(200)
  expect(r.headers['content-type']).toBe(CERTS_ONLY)
  expect(r.headers['content-transfer-encoding']).toBe('base64')
  return decodeCertsOnly(fromBase64Body(r.text)).map((d) => new x509.X509Certificate(d))
}

async function verifiesWithOurCa(cert: x509.X509Certificate): Promise<boolean> {
  const issuing = new x509.X509Certificate(chain[0]!)
  return cert.issuer === issuing.subject && (await cert.verify({ publicKey: issuing.publicKey, signatureOnly: true }))
}

/** Enrolls on the default label with Basic; returns PEM key and certificate for TLS client authentication. */
async function enrolled(o: MakeCsrOptions) {
  const made = await makeCsr(o)
  const [cert] = certsOf(await call({ path: `${EST}/simpleenroll`, body: b64(made.der), basic: alice }))
  return { keys: made.keys, key: await privateKeyPem(made.keys), cert: cert!.toString('pem'), x509: cert! }
}

/** RFC 9266 tls-exporter of the client's side of the connection. */
const exporter = (s: TLSSocket) => s.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', undefined as unknown as Buffer)

async function externalCa() {
  const rootKeys = await makeKeys('ecdsa-p256')
  const alg = { name: 'ECDSA', hash: 'SHA-256' }
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Acme Devices Manufacturer Root (TEST ONLY)',
    keys: rootKeys,
    signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  })
  const leafKeys = await makeKeys('ecdsa-p256')
  const leaf = await x509.X509CertificateGenerator.create({
    subject: 'CN=idevid-0042',
    issuer: root.subject,
    publicKey: leafKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: alg,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  })
  return { rootPem: root.toString('pem'), clientKey: await privateKeyPem(leafKeys), clientCert: leaf.toString('pem') }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'enroll-est-'))
  external = await externalCa()
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      httpsPort: 0,
      httpPort: 0,
      listenHost: '127.0.0.1',
      publicHttpUrl: 'http://pki.test:8080',
      logLevel: 'silent',
      profiles: {
        default: { allow: { dns: ['**.example.com'] } },
        devices: {
          allow: { commonName: ['device-*', 'idevid-*'] },
          keys: { rsaMinBits: 0, ecdsaCurves: ['P-256'], ed25519: false },
          extKeyUsage: ['clientAuth'],
        },
        approval: { requireApproval: true, allow: { dns: ['**.example.com'] } },
      },
      est: {
        retryAfterSeconds: 7,
        labels: {
          default: { users: [{ name: alice[0], password: alice[1] }] },
          devices: { profile: 'devices', auth: 'cert', externalCas: [external.rootPem], channelBinding: 'required' },
          certonly: { auth: 'cert' },
          bridge: { auth: 'cert', clientProfiles: ['default', 'devices'] },
          basiconly: { auth: 'basic', users: [{ name: bob[0], scrypt: await hashPassword(bob[1], 10) }], base64LineLength: 0 },
          both: { auth: 'both', users: [{ name: alice[0], password: alice[1] }] },
          approval: { profile: 'approval', users: [{ name: alice[0], password: alice[1] }] },
          nokeygen: { serverKeygen: false, users: [{ name: alice[0], password: alice[1] }] },
        },
      },
    },
  })
  server = await startServer(config, logger)
  caPem = readFileSync(join(dataDir, 'ca.pem'), 'utf8')
  chain = fromPemAll(caPem, 'CERTIFICATE')
})

afterAll(async () => {
  await server?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('cacerts (RFC 7030 §4.1, RFC 8951 §3.2)', () => {
  it('ok/certs-only-with-the-chain-base64-wrapped-at-76-crlf', async () => {
    const r = await call({ path: `${EST}/cacerts` })
    const certs = certsOf(r)
    expect(certs.map((c) => Buffer.from(c.rawData).toString('base64'))).toEqual(chain.map((d) => Buffer.from(d).toString('base64')))
    const lines = r.text.split('\r\n')
    expect(lines.at(-1)).toBe('')
    expect(lines.slice(0, -2).every((l) => l.length === 76)).toBe(true)
    expect(r.text.replace(/\r\n/g, '')).not.toMatch(/\n/)
  })

  it('ok/label-path-and-unwrapped-body-when-configured', async () => {
    const r = await call({ path: `${EST}/basiconly/cacerts` })
    expect(certsOf(r)).toHaveLength(chain.length)
    expect(r.text).not.toMatch(/\s/)
  })

  it.each([
    ['fail/unknown-label', 'GET', `${EST}/nosuch/cacerts`, 404],
    ['fail/post-to-cacerts', 'POST', `${EST}/cacerts`, 405],
    ['fail/get-simpleenroll', 'GET', `${EST}/simpleenroll`, 405],
    ['fail/fullcmc-not-supported', 'POST', `${EST}/fullcmc`, 501],
  ] as const)('%s', async (_name, method, path, status) => {
    const r = await call({ method, path, ...(method === 'POST' ? { body: 'MA==', basic: alice } : {}) })
    expect(r.status).toBe(status)
    expect(r.headers['content-type']).toMatch(/^text\/plain/)
  })
})

describe('simpleenroll (RFC 7030 §4.2.1) with HTTP Basic', () => {
  it.each([
    ['ok/one-line-base64', (der: Uint8Array) => b64(der), {}],
    ['ok/crlf-wrapped-base64', (der: Uint8Array) => b64(der).match(/.{1,64}/g)!.join('\r\n') + '\r\n', {}],
    ['ok/pem-body', (der: Uint8Array) => toPem(der, 'CERTIFICATE REQUEST'), {}],
    ['ok/request-cte-header-ignored', (der: Uint8Array) => b64(der), { 'Content-Transfer-Encoding': 'binary' }],
  ] as const)('%s', async (_name, encode, headers) => {
    const made = await makeCsr({ subject: 'CN=host.example.com', dns: ['host.example.com'] })
    const [cert] = certsOf(await call({ path: `${EST}/simpleenroll`, body: encode(made.der), basic: alice, headers }))
    expect(cert!.subject).toBe('CN=host.example.com')
    expect(await verifiesWithOurCa(cert!)).toBe(true)
    const record = await server.issuance.find(cert!.serialNumber)
    expect(record).toMatchObject({ status: 'valid', protocol: 'est', requester: 'basic:alice', profile: 'default' })
  })

  it('ok/scrypt-user-on-basic-label', async () => {
    const made = await makeCsr({ dns: ['scrypt.example.com'] })
    expect(certsOf(await call({ path: `${EST}/basiconly/simpleenroll`, body: b64(made.der), basic: bob }))).toHaveLength(1)
  })

  it.each([
    ['fail/no-credentials', undefined, 401],
    ['fail/wrong-password', ['alice', 'nope'], 401],
    ['fail/unknown-user', ['mallory', 'wonderland'], 401],
  ] as const)('%s', async (_name, basic, status) => {
    const before = await total()
    const made = await makeCsr({ dns: ['x.example.com'] })
    const r = await call({ path: `${EST}/simpleenroll`, body: b64(made.der), ...(basic ? { basic: [...basic] as [string, string] } : {}) })
    expect(r.status).toBe(status)
    expect(r.headers['www-authenticate']).toBe('Basic realm="EST default", charset="UTF-8"')
    expect(await total()).toBe(before)
  })

  it.each([
    ['fail/wrong-content-type', { contentType: 'application/json', body: 'e30=' }, 415],
    ['fail/junk-base64', { body: 'not base64 at all!' }, 400],
    ['fail/binary-der', { body: '\u0030\u0082\u0001' }, 400],
    ['fail/base64-of-junk', { body: Buffer.from('hello world').toString('base64') }, 400],
    ['fail/empty-body', { body: '' }, 400],
  ] as const)('%s', async (_name, o, status) => {
    const before = await total()
    const r = await call({ path: `${EST}/simpleenroll`, basic: alice, ...o })
    expect(r.status, r.text).toBe(status)
    expect(await total()).toBe(before)
  })

  it('fail/forbidden-san-is-403-and-nothing-stored', async () => {
    const before = await total()
    const made = await makeCsr({ dns: ['evil.example.net'] })
    const r = await call({ path: `${EST}/simpleenroll`, body: b64(made.der), basic: alice })
    expect(r.status).toBe(403)
    expect(r.text).toMatch(/evil\.example\.net/)
    expect(await total()).toBe(before)
  })
})

describe('simpleenroll with TLS client certificates (RFC 7030 §3.3.2)', () => {
  it('ok/our-certificate-on-either-label', async () => {
    const client = await enrolled({ dns: ['client.example.com'] })
    const made = await makeCsr({ dns: ['other.example.com'] })
    const [cert] = certsOf(await call({ path: `${EST}/simpleenroll`, body: b64(made.der), clientKey: client.key, clientCert: client.cert }))
    const record = await server.issuance.find(cert!.serialNumber)
    expect(record.requester).toBe(`cert:${client.x509.subject}#${client.x509.serialNumber.toLowerCase()}`)
  })

  it('ok/both-needs-certificate-and-basic', async () => {
    const client = await enrolled({ dns: ['both.example.com'] })
    const body = b64((await makeCsr({ dns: ['both2.example.com'] })).der)
    const tls = { clientKey: client.key, clientCert: client.cert }
    expect((await call({ path: `${EST}/both/simpleenroll`, body, basic: alice })).status).toBe(403)
    expect((await call({ path: `${EST}/both/simpleenroll`, body, ...tls })).status).toBe(401)
    expect(certsOf(await call({ path: `${EST}/both/simpleenroll`, body, basic: alice, ...tls }))).toHaveLength(1)
  })

  it('fail/basic-on-cert-only-label-is-403', async () => {
    const r = await call({ path: `${EST}/certonly/simpleenroll`, body: b64((await makeCsr({ dns: ['c.example.com'] })).der), basic: alice })
    expect(r.status).toBe(403)
    expect(r.text).toMatch(/TLS client certificate is required/)
  })

  it('fail/revoked-certificate-is-refused', async () => {
    const client = await enrolled({ dns: ['revoked.example.com'] })
    await server.issuance.revoke({ serial: client.x509.serialNumber.toLowerCase(), reason: 1, actor: 'test', protocol: 'admin' })
    const before = await total()
    const r = await call({ path: `${EST}/certonly/simpleenroll`, body: b64((await makeCsr({ dns: ['r2.example.com'] })).der), clientKey: client.key, clientCert: client.cert })
    expect(r.status).toBe(403)
    expect(r.text).toMatch(/is revoked/)
    expect(await total()).toBe(before)
  })

  /** A certificate issued here outside EST (as the admin API or ACME would), with its key, for TLS. */
  async function issuedDirectly(protocol: 'admin' | 'acme', profile: string, o: MakeCsrOptions) {
    const made = await makeCsr(o)
    const outcome = await server.issuance.issue({ csr: await parseCsr(made.der), profile, protocol, requester: 'test' })
    if (outcome.status !== 'issued') throw new Error('not issued')
    return { clientKey: await privateKeyPem(made.keys), clientCert: toPem(outcome.certificateDer, 'CERTIFICATE') }
  }

  it.each([
    ['fail/certificate-of-another-profile', 'certonly', 'admin', 'devices', { subject: 'CN=device-0100' }, 403, /profile "devices", which this label does not accept/],
    ['ok/certificate-of-a-listed-client-profile', 'bridge', 'admin', 'devices', { subject: 'CN=device-0101' }, 200, /.*/],
    ['fail/certificate-issued-through-acme', 'certonly', 'acme', 'default', { dns: ['acme.example.com'] }, 403, /issued through ACME/],
  ] as const)('%s', async (_name, label, protocol, profile, o, status, message) => {
    const tls = await issuedDirectly(protocol, profile, o as MakeCsrOptions)
    const r = await call({ path: `${EST}/${label}/simpleenroll`, body: b64((await makeCsr({ dns: ['via.example.com'] })).der), ...tls })
    expect(r.status, r.text).toBe(status)
    expect(r.text).toMatch(message)
  })

  it('fail/self-signed-certificate-is-refused', async () => {
    const keys = await makeKeys('ecdsa-p256')
    const self = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=self.example.com', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } })
    const r = await call({ path: `${EST}/certonly/simpleenroll`, body: b64((await makeCsr({ dns: ['s.example.com'] })).der), clientKey: await privateKeyPem(keys), clientCert: self.toString('pem') })
    expect(r.status).toBe(403)
    expect(r.text).toMatch(/does not chain to a trusted CA/)
  })

  it('ok/external-ca-certificate-with-tls-exporter-binding (RFC 9266)', async () => {
    const keys = await makeKeys('ecdsa-p256')
    const r = await call({
      path: `${EST}/devices/simpleenroll`,
      clientKey: external.clientKey,
      clientCert: external.clientCert,
      body: async (socket) => {
        expect(socket.getProtocol()).toBe('TLSv1.3')
        return b64((await makeCsr({ subject: 'CN=device-0042', challengePassword: exporter(socket).toString('base64') }, keys)).der)
      },
    })
    const [cert] = certsOf(r)
    expect(cert!.subject).toBe('CN=device-0042')
    expect((await server.issuance.find(cert!.serialNumber)).requester).toMatch(/^cert:CN=idevid-0042#/)
  })

  it('ok/tls-unique-binding-on-tls-1.2 (RFC 5929 §3)', async () => {
    const r = await call({
      path: `${EST}/devices/simpleenroll`,
      clientKey: external.clientKey,
      clientCert: external.clientCert,
      maxVersion: 'TLSv1.2',
      body: async (socket) => {
        const unique = socket.getFinished()!
        return b64((await makeCsr({ subject: 'CN=device-0043', challengePassword: unique.toString('base64') })).der)
      },
    })
    expect(certsOf(r)).toHaveLength(1)
  })

  it.each([
    ['fail/binding-required-but-absent', undefined, /requires proof-of-possession linking/],
    ['fail/binding-of-another-session', Buffer.alloc(32, 7).toString('base64'), /does not match/],
  ])('%s', async (_name, challengePassword, message) => {
    const before = await total()
    const body = b64((await makeCsr({ subject: 'CN=device-0044', ...(challengePassword ? { challengePassword } : {}) })).der)
    const r = await call({ path: `${EST}/devices/simpleenroll`, clientKey: external.clientKey, clientCert: external.clientCert, body })
    expect(r.status).toBe(403)
    expect(r.text).toMatch(message)
    expect(await total()).toBe(before)
  })
})

describe('simplereenroll (RFC 7030 §4.2.2)', () => {
  it('ok/renews-with-the-current-certificate-and-supersedes-it', async () => {
    const old = await enrolled({ subject: 'CN=renew.example.com', dns: ['renew.example.com'] })
    const csr = await makeCsr({ subject: 'CN=renew.example.com', dns: ['renew.example.com'] })
    const [cert] = certsOf(await call({ path: `${EST}/simplereenroll`, body: b64(csr.der), clientKey: old.key, clientCert: old.cert }))
    expect(cert!.subject).toBe(old.x509.subject)
    expect(cert!.serialNumber).not.toBe(old.x509.serialNumber)
    const [oldRecord, newRecord] = await Promise.all([server.issuance.find(old.x509.serialNumber), server.issuance.find(cert!.serialNumber)])
    expect(oldRecord.supersededBy).toBe(newRecord.id)
    expect(oldRecord.status).toBe('valid')
    const audit = await server.store.audit.list({ serial: oldRecord.serial, limit: 10 })
    expect(audit.map((a) => a.action)).toContain('certificate.superseded')

    const again = await call({ path: `${EST}/simplereenroll`, body: b64((await makeCsr({ subject: 'CN=renew.example.com', dns: ['renew.example.com'] })).der), clientKey: old.key, clientCert: old.cert })
    expect(again.status).toBe(403)
    expect(again.text).toMatch(/already renewed/)
  })

  it('ok/cn-only-request-renews-a-certificate-whose-cn-became-a-san', async () => {
    const old = await enrolled({ subject: 'CN=cnonly.example.com' })
    const csr = await makeCsr({ subject: 'CN=cnonly.example.com' })
    expect(certsOf(await call({ path: `${EST}/simplereenroll`, body: b64(csr.der), clientKey: old.key, clientCert: old.cert }))).toHaveLength(1)
  })

  it.each([
    ['fail/different-subject', { subject: 'CN=other.example.com', dns: ['renew2.example.com'] }, /subject/],
    ['fail/different-san', { subject: 'CN=renew2.example.com', dns: ['renew2.example.com', 'extra.example.com'] }, /subjectAltName/],
  ])('%s', async (_name, o, message) => {
    const old = await enrolled({ subject: 'CN=renew2.example.com', dns: ['renew2.example.com'] })
    const before = await total()
    const r = await call({ path: `${EST}/simplereenroll`, body: b64((await makeCsr(o)).der), clientKey: old.key, clientCert: old.cert })
    expect(r.status).toBe(403)
    expect(r.text).toMatch(message)
    expect(await total()).toBe(before)
    expect((await server.issuance.find(old.x509.serialNumber)).supersededBy).toBeNull()
  })

  it('fail/without-client-certificate', async () => {
    const r = await call({ path: `${EST}/simplereenroll`, body: b64((await makeCsr({ dns: ['n.example.com'] })).der), basic: alice })
    expect(r.status).toBe(403)
    expect(r.text).toMatch(/needs the TLS client certificate being renewed/)
  })

  it('fail/externally-issued-certificate', async () => {
    const r = await call({
      path: `${EST}/devices/simplereenroll`,
      clientKey: external.clientKey,
      clientCert: external.clientCert,
      body: async (s) => b64((await makeCsr({ subject: 'CN=idevid-0042', challengePassword: exporter(s).toString('base64') })).der),
    })
    expect(r.status).toBe(403)
    expect(r.text).toMatch(/issued elsewhere/)
  })
})

describe('pending approval (RFC 7030 §4.2.3)', () => {
  it('ok/202-retry-after-then-certificate-once-approved', async () => {
    const made = await makeCsr({ dns: ['held.example.com'] })
    const send = () => call({ path: `${EST}/approval/simpleenroll`, body: b64(made.der), basic: alice })
    const first = await send()
    expect(first.status).toBe(202)
    expect(first.headers['retry-after']).toBe('7')
    const pendingBefore = (await counts())['pending']
    const second = await send()
    expect(second.status).toBe(202)
    expect((await counts())['pending']).toBe(pendingBefore)
    const id = /request (\d+)/.exec(first.text)![1]!
    const approved = await server.issuance.approve(id, 'admin:test')
    const [cert] = certsOf(await send())
    expect(Buffer.from(cert!.rawData).equals(Buffer.from(approved.certificateDer))).toBe(true)
    const audit = await server.store.audit.list({ serial: approved.certificate.serial, limit: 10 })
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['certificate.requested', 'request.approved', 'certificate.issued']))
  })

  it('fail/rejected-request-is-403', async () => {
    const made = await makeCsr({ dns: ['rejected.example.com'] })
    const send = () => call({ path: `${EST}/approval/simpleenroll`, body: b64(made.der), basic: alice })
    const first = await send()
    await server.issuance.reject(/request (\d+)/.exec(first.text)![1]!, 'admin:test', 'not a known device')
    const r = await send()
    expect(r.status).toBe(403)
    expect(r.text).toMatch(/not a known device/)
  })
})

describe('serverkeygen (RFC 7030 §4.4)', () => {
  it.each([
    ['ok/ecdsa-p256-key-for-an-ecdsa-request', 'ecdsa-p256', 'ec'],
    ['ok/rsa-2048-key-for-an-rsa-request', 'rsa-2048', 'rsa'],
  ] as const)('%s', async (_name, key, expectedType) => {
    const made = await makeCsr({ key, subject: 'CN=keygen.example.com', dns: ['keygen.example.com'] })
    const r = await call({ path: `${EST}/serverkeygen`, body: b64(made.der), basic: alice })
    expect(r.status, r.text).toBe(200)
    expect(r.headers['content-type']).toMatch(/^multipart\/mixed; boundary=/)
    const parts = decodeServerKeygen(r.text, r.headers['content-type']!)
    expect(parts.map((p) => p.type)).toEqual(['application/pkcs8', CERTS_ONLY])
    expect(r.text).toMatch(/Content-Transfer-Encoding: base64\r\n\r\n/)
    const privateKey = createPrivateKey({ key: Buffer.from(parts[0]!.der), format: 'der', type: 'pkcs8' })
    const [certDer] = decodeCertsOnly(parts[1]!.der)
    const cert = new NodeX509(Buffer.from(certDer!))
    expect(privateKey.asymmetricKeyType).toBe(expectedType)
    expect(cert.publicKey.export({ format: 'der', type: 'spki' }).equals(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }))).toBe(true)
    expect(cert.subject).toBe('CN=keygen.example.com')
    expect(cert.subjectAltName).toBe('DNS:keygen.example.com')
    // The client's own key is not the certified one.
    expect(cert.publicKey.export({ format: 'der', type: 'spki' }).equals(Buffer.from(new x509.Pkcs10CertificateRequest(made.der).publicKey.rawData))).toBe(false)
  })

  it.each([
    ['fail/label-without-serverkeygen', 'nokeygen', 501],
    ['fail/profile-with-approval', 'approval', 403],
  ])('%s', async (_name, label, status) => {
    const before = await total()
    const r = await call({ path: `${EST}/${label}/serverkeygen`, body: b64((await makeCsr({ dns: ['k.example.com'] })).der), basic: alice })
    expect(r.status).toBe(status)
    expect(await total()).toBe(before)
  })
})

describe('csrattrs (RFC 7030 §4.5)', () => {
  it('ok/204-when-the-profile-requires-nothing', async () => {
    const r = await call({ path: `${EST}/csrattrs` })
    expect(r.status).toBe(204)
  })

  it('ok/challenge-password-and-key-type-of-a-restricted-profile', async () => {
    const r = await call({ path: `${EST}/devices/csrattrs` })
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/csrattrs')
    expect(r.headers['content-transfer-encoding']).toBe('base64')
    const seq = asn1js.fromBER(fromBase64Body(r.text)).result as asn1js.Sequence
    const [cp, key] = seq.valueBlock.value as [asn1js.ObjectIdentifier, asn1js.Sequence]
    expect(cp.valueBlock.toString()).toBe('1.2.840.113549.1.9.7')
    const [type, values] = key.valueBlock.value as [asn1js.ObjectIdentifier, asn1js.Set]
    expect(type.valueBlock.toString()).toBe('1.2.840.10045.2.1')
    expect((values.valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString()).toBe('1.2.840.10045.3.1.7')
  })
})
