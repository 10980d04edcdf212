// The whole server (startServer, real listeners on loopback) with three CA backends at once — the embedded CA,
// Vault (double) and AWS Private CA (double) — driven through protocols: the admin API (POST /api/v1/certificates,
// issue with key, the escrowed key bundle as JSON and ZIP) and EST simpleenroll/serverkeygen (RFC 7030 §4.2, §4.4).
// Failure modes end to end: Vault sealed → 503 with the reservation failed and audited; PCA not issuing within the
// bounded wait → 503, the reservation left for the reconciler, which completes it through the idempotency token.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { decodeCertsOnly, decodeServerKeygen, fromBase64Body } from '../../protocols/est/codec.js'
import { loadConfig } from '../../src/config/load.js'
import { normalizeSerial } from '../../src/pki/serial.js'
import { x509 } from '../../src/pki/x509.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { PcaDouble } from '../doubles/acm-pca.js'
import { VaultDouble } from '../doubles/vault.js'
import { makeCsr } from '../helpers/csr.js'
import { b64, estCall, type EstCall } from '../helpers/est.js'
import { anyName, logger, pcaBackend, vaultBackend } from '../helpers/external-ca.js'
import { certIdFor, ocspRequest } from '../helpers/ocsp.js'

const postgresUrl = inject('postgresUrl')
const API_KEY = 'test-admin-key-external-ca-0123456789abcdef'
const EST = '/.well-known/est'
const alice: [string, string] = ['alice', 'wonderland']

let dataDir: string
let vault: VaultDouble
let pca: PcaDouble
let server: RunningServer
let caPem: string

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  json: any
}

function call(listener: 'https' | 'http', method: string, path: string, o: { body?: unknown; raw?: Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  const payload = o.raw ?? (o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body)))
  const headers: Record<string, string> = { Authorization: `Bearer ${API_KEY}`, ...o.headers }
  if (payload) {
    headers['Content-Type'] ??= 'application/json'
    headers['Content-Length'] = String(payload.length)
  }
  const port = listener === 'https' ? server.httpsPort : server.httpPort
  return new Promise((resolve, reject) => {
    const req = (listener === 'https' ? httpsRequest : httpRequest)(
      { host: '127.0.0.1', port, method, path, headers, agent: false, ...(listener === 'https' ? { ca: caPem, servername: 'localhost' } : {}) },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const body = Buffer.concat(chunks)
          let json: unknown
          try {
            json = JSON.parse(body.toString('utf8'))
          } catch {
            json = undefined
          }
          resolve({ status: res.statusCode!, headers: res.headers, body, json })
        })
      },
    )
    req.on('error', reject)
    if (payload) req.write(payload)
    req.end()
  })
}

const est = (o: EstCall) => estCall(server.httpsPort, caPem, o)

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'enroll-extca-e2e-'))
  vault = await VaultDouble.start({ roles: { enroll: {} } })
  pca = await PcaDouble.start()
  const schema = postgresUrl ? `t_${Math.random().toString(16).slice(2, 14)}` : 'public'
  const config = loadConfig({
    env: { ENROLL_ADMIN_API_KEY: API_KEY },
    overrides: {
      dataDir,
      databaseUrl: postgresUrl || undefined,
      databaseSchema: schema,
      httpsPort: 0,
      httpPort: 0,
      listenHost: '127.0.0.1',
      publicHttpUrl: 'http://pki.test:8080',
      logLevel: 'silent',
      backends: { local: { kind: 'local' }, vault: vaultBackend(vault), pca: pcaBackend(pca) },
      profiles: {
        default: { allow: anyName },
        'vault-tls': { backend: 'vault', allow: anyName },
        'pca-tls': { backend: 'pca', allow: anyName },
      },
      est: {
        labels: {
          default: { users: [{ name: alice[0], password: alice[1] }] },
          vault: { profile: 'vault-tls', users: [{ name: alice[0], password: alice[1] }] },
          pca: { profile: 'pca-tls', users: [{ name: alice[0], password: alice[1] }] },
        },
      },
    },
  })
  server = await startServer(config, logger)
  caPem = readFileSync(join(dataDir, 'ca.pem'), 'utf8')
})

afterAll(async () => {
  await server?.close()
  await vault?.close()
  await pca?.close()
  if (postgresUrl && server) {
    const { dropSchema } = await import('../helpers/store.js')
    await dropSchema(postgresUrl, server.config.databaseSchema)
  }
  rmSync(dataDir, { recursive: true, force: true })
})

beforeEach(() => {
  vault.sealed = false
  vault.faults.length = 0
  pca.pendingPolls = 0
})

const issuerOf = (pem: string) => new x509.X509Certificate(pem).issuer

async function auditFor(serial: string): Promise<{ action: string; detail: unknown }[]> {
  const r = await call('https', 'GET', `/api/v1/audit?serial=${serial}&limit=20`)
  return r.json.items as { action: string; detail: unknown }[]
}

describe('one server, three CAs: the profile names the backend', () => {
  it('ok/admin-api: vault-tls is signed by Vault and pca-tls by AWS Private CA on the same server', async () => {
    const a = await makeCsr({ subject: 'CN=v1.example.com', dns: ['v1.example.com'] })
    const b = await makeCsr({ subject: 'CN=p1.example.com', dns: ['p1.example.com'] })
    const [rv, rp] = await Promise.all([
      call('https', 'POST', '/api/v1/certificates', { body: { csr: a.pem, profile: 'vault-tls' } }),
      call('https', 'POST', '/api/v1/certificates', { body: { csr: b.pem, profile: 'pca-tls' } }),
    ])
    expect(rv.status, rv.body.toString()).toBe(201)
    expect(rp.status, rp.body.toString()).toBe(201)
    expect(issuerOf(rv.json.pem)).toBe(vault.ca.issuing.subject)
    expect(issuerOf(rp.json.pem)).toBe(pca.ca.issuing.subject)
    expect(rv.json.backend).toBe('vault')
    expect(rp.json.backend).toBe('pca')
    expect(vault.issued.has(rv.json.serial)).toBe(true)
    expect([...pca.certificates.values()].some((c) => c.serialHex === rp.json.serial)).toBe(true)
  })

  it('ok/est-simpleenroll: EST labels sign through Vault and PCA', async () => {
    for (const [label, issuer] of [['vault', vault.ca.issuing.subject], ['pca', pca.ca.issuing.subject]] as const) {
      const made = await makeCsr({ subject: `CN=e-${label}.example.com`, dns: [`e-${label}.example.com`] })
      const r = await est({ path: `${EST}/${label}/simpleenroll`, body: b64(made.der), basic: alice })
      expect(r.status, r.text).toBe(200)
      const [cert] = decodeCertsOnly(fromBase64Body(r.text)).map((d) => new x509.X509Certificate(d))
      expect(cert!.issuer).toBe(issuer)
    }
  })

  it('ok/ready: /ready reports every backend; a sealed Vault makes it 503', async () => {
    expect((await call('https', 'GET', '/ready')).status).toBe(200)
    vault.sealed = true
    const r = await call('https', 'GET', '/ready')
    expect(r.status).toBe(503)
    expect(r.json.checks.backends).toMatchObject({ local: 'ok', vault: 'unavailable', pca: 'ok' })
  })
})

describe('failure modes end to end', () => {
  it('fail/vault-sealed-admin: 503 problem, the reservation failed with the reason, audited, nothing issued', async () => {
    vault.sealed = true
    const issued = vault.issued.size
    const made = await makeCsr({ subject: 'CN=s1.example.com', dns: ['s1.example.com'] })
    const r = await call('https', 'POST', '/api/v1/certificates', { body: { csr: made.pem, profile: 'vault-tls' } })
    expect(r.status).toBe(503)
    expect(r.headers['content-type']).toBe('application/problem+json')
    expect(vault.issued.size).toBe(issued)
    const list = await call('https', 'GET', '/api/v1/certificates?status=failed&profile=vault-tls&limit=1')
    const [failed] = list.json.items
    expect(failed.failure).toMatch(/sealed/)
    expect((await auditFor(failed.serial)).find((a) => a.action === 'certificate.failed')?.detail).toMatchObject({ reason: expect.stringMatching(/sealed/) })
  })

  it('fail/vault-sealed-est: EST simpleenroll answers 503 text/plain; the reservation is failed', async () => {
    vault.sealed = true
    const made = await makeCsr({ subject: 'CN=s2.example.com', dns: ['s2.example.com'] })
    const r = await est({ path: `${EST}/vault/simpleenroll`, body: b64(made.der), basic: alice })
    expect(r.status).toBe(503)
    expect(r.headers['content-type']).toMatch(/^text\/plain/)
    const [failed] = await server.store.certificates.list({ status: 'failed', profile: 'vault-tls', limit: 1 })
    expect(failed?.subject).toMatch(/s2\.example\.com/)
    expect(failed?.der).toBeNull()
  })

  it('ok/vault-403: a revoked token is answered with a fresh login, the EST client sees nothing', async () => {
    vault.revokeAllTokens()
    const made = await makeCsr({ subject: 'CN=r1.example.com', dns: ['r1.example.com'] })
    const r = await est({ path: `${EST}/vault/simpleenroll`, body: b64(made.der), basic: alice })
    expect(r.status, r.text).toBe(200)
    expect(vault.callsTo(/^pki\/sign\/enroll$/).slice(-2).map((c) => c.status)).toEqual([403, 200])
  })

  it('fail/pca-timeout-est: not issued within the bounded wait → 503; the reservation stays open, audited; the reconciler completes it', async () => {
    pca.pendingPolls = Infinity
    const made = await makeCsr({ subject: 'CN=t1.example.com', dns: ['t1.example.com'] })
    const r = await est({ path: `${EST}/pca/simpleenroll`, body: b64(made.der), basic: alice })
    expect(r.status).toBe(503)
    const [open] = await server.store.certificates.list({ status: 'reserved', profile: 'pca-tls', limit: 1 })
    expect(open?.der).toBeNull()
    const failed = (await auditFor(open!.serial)).find((a) => a.action === 'certificate.failed')
    expect(failed?.detail).toMatchObject({ outcome: 'unknown', reason: expect.stringMatching(/not issued within 4s/) })
    pca.release()
    const made0 = pca.certificates.size
    expect(await server.issuance.reconcile(0)).toMatchObject({ completed: 1 })
    expect(pca.certificates.size).toBe(made0)
    const done = await server.store.certificates.getById(open!.id)
    expect(done?.status).toBe('valid')
  })

  it('ok/pca-throttled-admin: throttling is retried; the admin API answers 201', async () => {
    pca.throttle = { target: 'IssueCertificate', count: 2 }
    const made = await makeCsr({ subject: 'CN=t2.example.com', dns: ['t2.example.com'] })
    const r = await call('https', 'POST', '/api/v1/certificates', { body: { csr: made.pem, profile: 'pca-tls' } })
    expect(r.status, r.body.toString()).toBe(201)
  })
})

describe('revocation reaches the backend; its CRL and OCSP are served here', () => {
  it('ok/vault-revoke-crl-ocsp: admin revoke → Vault revoke; /crl/vault is Vault\'s CRL; OCSP signed by a Vault-issued responder', async () => {
    const made = await makeCsr({ subject: 'CN=x1.example.com', dns: ['x1.example.com'] })
    const issued = await call('https', 'POST', '/api/v1/certificates', { body: { csr: made.pem, profile: 'vault-tls' } })
    const serial: string = issued.json.serial
    const revoke = await call('https', 'POST', `/api/v1/certificates/${issued.json.id}/revoke`, { body: { reason: 'keyCompromise' } })
    expect(revoke.status).toBe(200)
    expect(vault.revoked.has(serial)).toBe(true)
    const crl = await call('http', 'GET', '/.well-known/pki/crl/vault')
    expect(crl.status).toBe(200)
    expect(crl.headers['content-type']).toBe('application/pkix-crl')
    const parsed = new x509.X509Crl(new Uint8Array(crl.body))
    expect(parsed.issuer).toBe(vault.ca.issuing.subject)
    expect(parsed.entries.map((e) => normalizeSerial(e.serialNumber))).toContain(serial)

    const ocsp = await call('http', 'POST', '/.well-known/pki/ocsp', {
      raw: Buffer.from(ocspRequest([certIdFor(new Uint8Array(vault.ca.issuing.rawData), serial)])),
      headers: { 'Content-Type': 'application/ocsp-request' },
    })
    expect(ocsp.status).toBe(200)
    const response = pkijs.OCSPResponse.fromBER(new Uint8Array(ocsp.body))
    expect(response.responseStatus.valueBlock.valueDec).toBe(0)
    const basic = pkijs.BasicOCSPResponse.fromBER(new Uint8Array(response.responseBytes!.response.valueBlock.valueHexView))
    const responder = new x509.X509Certificate(new Uint8Array(basic.certs![0]!.toSchema().toBER()))
    expect(responder.issuer).toBe(vault.ca.issuing.subject)
    expect(responder.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual(['1.3.6.1.5.5.7.3.9'])
    const status = basic.tbsResponseData.responses[0]!.certStatus as asn1js.Constructed
    expect(status.idBlock.tagNumber).toBe(1) // revoked
  })

  it('ok/pca-revoke-crl: admin revoke → RevokeCertificate (KEY_COMPROMISE); /crl/pca is PCA\'s published CRL', async () => {
    const made = await makeCsr({ subject: 'CN=x2.example.com', dns: ['x2.example.com'] })
    const issued = await call('https', 'POST', '/api/v1/certificates', { body: { csr: made.pem, profile: 'pca-tls' } })
    const serial: string = issued.json.serial
    await call('https', 'POST', `/api/v1/certificates/${serial}/revoke`, { body: { reason: 'keyCompromise' } })
    expect(pca.revoked.get(serial)?.reason).toBe('KEY_COMPROMISE')
    const crl = await call('http', 'GET', '/.well-known/pki/crl/pca')
    const parsed = new x509.X509Crl(new Uint8Array(crl.body))
    expect(parsed.entries.map((e) => normalizeSerial(e.serialNumber))).toContain(serial)
  })
})

describe('server-side key generation with Vault KV escrow', () => {
  it('ok/est-serverkeygen: the key comes from Vault issue/<role> and is escrowed in KV v2', async () => {
    const made = await makeCsr({ subject: 'CN=g1.example.com', dns: ['g1.example.com'] })
    const r = await est({ path: `${EST}/vault/serverkeygen`, body: b64(made.der), basic: alice })
    expect(r.status, r.text).toBe(200)
    const parts = decodeServerKeygen(r.text, String(r.headers['content-type']))
    const cert = new x509.X509Certificate(decodeCertsOnly(parts.find((p) => p.type.includes('pkcs7'))!.der)[0]!)
    expect(cert.issuer).toBe(vault.ca.issuing.subject)
    expect(vault.callsTo(/^pki\/issue\/enroll$/).at(-1)?.status).toBe(200)
    const serial = normalizeSerial(cert.serialNumber)
    const record = await server.store.certificates.getBySerial(serial)
    expect(vault.kv.get(`certs/${record!.id}`)?.[0]?.data['serial_number']).toBe(serial.match(/../g)!.join(':'))
  })

  it('ok/bundle: issue with key, then the bundle as JSON and as a ZIP that Python zipfile reads; each read audited', async () => {
    const issued = await call('https', 'POST', '/api/v1/certificates/with-key', { body: { profile: 'vault-tls', commonName: 'z1.example.com', dns: ['z1.example.com'] } })
    expect(issued.status, issued.body.toString()).toBe(201)
    expect(issued.json.keyEscrowed).toBe(true)
    expect(issued.json.privateKeyPem).toBeUndefined()
    const json = await call('https', 'GET', issued.json.bundle)
    expect(json.status).toBe(200)
    expect(json.headers['cache-control']).toBe('no-store')
    expect(Object.keys(json.json.files)).toEqual(['server.crt', 'server.key', 'ca-chain.crt'])
    expect(json.json.files['server.crt']).toBe(issued.json.pem)
    const zip = await call('https', 'GET', `${issued.json.bundle}?format=zip`)
    expect(zip.headers['content-type']).toBe('application/zip')
    const dir = mkdtempSync(join(tmpdir(), 'enroll-zip-'))
    try {
      writeFileSync(join(dir, 'b.zip'), zip.body)
      execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', join(dir, 'b.zip'), dir])
      expect(readFileSync(join(dir, 'server.key'), 'utf8')).toBe(json.json.files['server.key'])
      expect(readFileSync(join(dir, 'ca-chain.crt'), 'utf8')).toBe(json.json.files['ca-chain.crt'])
      // The key belongs to the certificate: openssl compares the public keys.
      const pub = (args: string[]) => execFileSync('openssl', args).toString()
      expect(pub(['pkey', '-in', join(dir, 'server.key'), '-pubout'])).toBe(pub(['x509', '-in', join(dir, 'server.crt'), '-noout', '-pubkey']))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    const reads = (await auditFor(issued.json.serial)).filter((a) => a.action === 'certificate.key_bundle_read')
    expect(reads).toHaveLength(2)
  })

  it('fail/bundle-none: a certificate without escrow answers 404; an unauthenticated caller 401', async () => {
    const made = await makeCsr({ subject: 'CN=n1.example.com', dns: ['n1.example.com'] })
    const issued = await call('https', 'POST', '/api/v1/certificates', { body: { csr: made.pem, profile: 'vault-tls' } })
    expect((await call('https', 'GET', `/api/v1/certificates/${issued.json.id}/bundle`)).status).toBe(404)
    expect((await call('https', 'GET', `/api/v1/certificates/${issued.json.id}/bundle`, { headers: { Authorization: '' } })).status).toBe(401)
  })
})
