// Revocation end to end in-process (app.request): OCSP (RFC 6960/5019/8954) and CRLs (RFC 5280) from the
// inventory, on the real PostgreSQL and on PGlite.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { webcrypto } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/load.js'
import { createMetrics } from '../../src/metrics.js'
import { parseCsr } from '../../src/pki/csr.js'
import { x509 } from '../../src/pki/x509.js'
import { createRevocation, type Revocation } from '../../src/revocation/index.js'
import { openCore, type Core } from '../../src/server.js'
import { makeCsr } from '../helpers/csr.js'
import { certIdFor, ocspRequest } from '../helpers/ocsp.js'
import { dropSchema, storeTargets } from '../helpers/store.js'

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }))

const logger = pino({ level: 'silent' })

interface Env {
  core: Core
  revocation: Revocation
  http: ReturnType<typeof createApp>['http']
  issuingDer: Uint8Array<ArrayBuffer>
  close(): Promise<void>
}

async function openEnv(url: string | undefined, schema: string, dataDir: string, extra: Record<string, unknown> = {}): Promise<Env> {
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      databaseUrl: url,
      databaseSchema: schema,
      publicHttpUrl: 'http://pki.test:8080',
      revocation: { crl: { debounceMs: 50 } },
      ...extra,
    },
  })
  const core = await openCore(config, logger, { createCa: true })
  const revocation = createRevocation({ ...core, logger })
  await revocation.start()
  const apps = createApp({ ...core, logger, metrics: createMetrics({ defaultMetrics: false }), apiKeys: [], revocation })
  const [issuingDer] = await core.issuance.chainFor('default')
  return {
    core,
    revocation,
    http: apps.http,
    issuingDer: new Uint8Array(issuingDer!),
    async close() {
      await revocation.stop()
      await core.store.close()
    },
  }
}

async function issue(env: Env, name: string) {
  const { der } = await makeCsr({ subject: `CN=${name}`, dns: [name] })
  const out = await env.core.issuance.issue({ csr: await parseCsr(der), protocol: 'admin', requester: 'test' })
  if (out.status !== 'issued') throw new Error('not issued')
  return out.certificate
}

async function postOcsp(env: Env, body: Uint8Array) {
  const res = await env.http.request('/.well-known/pki/ocsp', {
    method: 'POST',
    headers: { 'Content-Type': 'application/ocsp-request' },
    body: body as Uint8Array<ArrayBuffer>,
  })
  return { res, der: new Uint8Array(await res.arrayBuffer()) as Uint8Array<ArrayBuffer> }
}

type Parsed = { status: number; basic?: pkijs.BasicOCSPResponse }
function parseResponse(der: Uint8Array<ArrayBuffer>): Parsed {
  const resp = pkijs.OCSPResponse.fromBER(der)
  const status = resp.responseStatus.valueBlock.valueDec
  if (!resp.responseBytes) return { status }
  return { status, basic: pkijs.BasicOCSPResponse.fromBER(resp.responseBytes.response.valueBlock.valueHexView.slice()) }
}

/** 0 good, 1 revoked, 2 unknown (RFC 6960 CertStatus tags). */
const certStatusTag = (basic: pkijs.BasicOCSPResponse, i = 0) =>
  (basic.tbsResponseData.responses[i]!.certStatus as asn1js.BaseBlock).idBlock.tagNumber

describe.each(storeTargets())('revocation on $name', (target) => {
  let env: Env
  let opened: Awaited<ReturnType<typeof target.open>>

  beforeAll(async () => {
    // The target opens (and migrates) a fresh store; the revocation env then reopens it through openCore.
    opened = await target.open()
    await opened.store.close()
    env = await openEnv(opened.url, opened.schema, opened.dataDir)
  })
  afterAll(async () => {
    await env.close()
    if (opened.url) await dropSchema(opened.url, opened.schema)
    rmSync(opened.dataDir, { recursive: true, force: true })
  })

  it('ok/good-then-revoked-with-reason (POST, no nonce, cache dropped on revocation)', async () => {
    const cert = await issue(env, 'good.example.com')
    const req = ocspRequest([certIdFor(env.issuingDer, cert.serial)])
    const first = await postOcsp(env, req)
    expect(first.res.status).toBe(200)
    expect(first.res.headers.get('content-type')).toBe('application/ocsp-response')
    expect(first.res.headers.get('cache-control')).toMatch(/^max-age=\d+, public, no-transform, must-revalidate$/)
    const good = parseResponse(first.der)
    expect(good.status).toBe(0)
    expect(certStatusTag(good.basic!)).toBe(0)
    expect(await good.basic!.verify({ trustedCerts: [pkijs.Certificate.fromBER(env.issuingDer)] })).toBe(true)
    expect(env.revocation.ocsp.size()).toBeGreaterThan(0)

    await env.core.issuance.revoke({ id: cert.id, reason: 1, actor: 'test', protocol: 'admin' })
    const after = parseResponse((await postOcsp(env, req)).der)
    expect(certStatusTag(after.basic!)).toBe(1)
    const revokedInfo = after.basic!.tbsResponseData.responses[0]!.certStatus as asn1js.Constructed
    expect(revokedInfo.valueBlock.value).toHaveLength(2) // revocationTime and [0] reason
  })

  it('ok/nonce-echoed-and-not-cached', async () => {
    const cert = await issue(env, 'nonce.example.com')
    const nonce = webcrypto.getRandomValues(new Uint8Array(32))
    const { res, der } = await postOcsp(env, ocspRequest([certIdFor(env.issuingDer, cert.serial, 'sha256')], nonce))
    expect(res.headers.get('cache-control')).toBe('no-cache, no-store')
    const basic = parseResponse(der).basic!
    const ext = basic.tbsResponseData.responseExtensions!.find((e) => e.extnID === '1.3.6.1.5.5.7.48.1.2')!
    const inner = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView).result as asn1js.OctetString
    expect(Buffer.from(inner.valueBlock.valueHexView)).toEqual(Buffer.from(nonce))
  })

  it.each([
    ['fail/nonce-129-octets', 129, 1],
    ['fail/nonce-empty', 0, 1],
    ['ok/nonce-128-octets', 128, 0],
    ['ok/nonce-1-octet', 1, 0],
  ])('%s', async (_name, length, status) => {
    const cert = await issue(env, `n${length}.example.com`)
    const { der } = await postOcsp(env, ocspRequest([certIdFor(env.issuingDer, cert.serial)], new Uint8Array(length).fill(7)))
    expect(parseResponse(der).status).toBe(status)
  })

  it('ok/unknown-serial-never-issued', async () => {
    const basic = parseResponse((await postOcsp(env, ocspRequest([certIdFor(env.issuingDer, '0123456789abcdef')]))).der).basic!
    expect(certStatusTag(basic)).toBe(2)
  })

  it('fail/issuer-not-served-is-unauthorized', async () => {
    const id = certIdFor(env.issuingDer, '01')
    id.issuerKeyHash = new Uint8Array(20).fill(1)
    expect(parseResponse((await postOcsp(env, ocspRequest([id]))).der).status).toBe(6)
  })

  it('ok/several-certids-one-response', async () => {
    const a = await issue(env, 'a.example.com')
    const b = await issue(env, 'b.example.com')
    await env.core.issuance.revoke({ id: b.id, reason: 4, actor: 'test', protocol: 'admin' })
    const req = ocspRequest([certIdFor(env.issuingDer, a.serial), certIdFor(env.issuingDer, b.serial, 'sha256')])
    const basic = parseResponse((await postOcsp(env, req)).der).basic!
    expect(basic.tbsResponseData.responses).toHaveLength(2)
    expect([certStatusTag(basic, 0), certStatusTag(basic, 1)]).toEqual([0, 1])
  })

  it('ok/get-form-with-rfc5019-headers-and-304', async () => {
    const cert = await issue(env, 'get.example.com')
    const b64 = Buffer.from(ocspRequest([certIdFor(env.issuingDer, cert.serial)])).toString('base64')
    const res = await env.http.request(`/.well-known/pki/ocsp/${encodeURIComponent(b64)}`)
    expect(res.status).toBe(200)
    const etag = res.headers.get('etag')!
    expect(res.headers.get('last-modified')).toBeTruthy()
    expect(res.headers.get('expires')).toBeTruthy()
    expect(certStatusTag(parseResponse(new Uint8Array(await res.arrayBuffer())).basic!)).toBe(0)
    // macOS-style unencoded base64 in the path works too.
    const raw = await env.http.request(`/.well-known/pki/ocsp/${b64}`)
    expect(parseResponse(new Uint8Array(await raw.arrayBuffer())).status).toBe(0)
    const again = await env.http.request(`/.well-known/pki/ocsp/${encodeURIComponent(b64)}`, { headers: { 'If-None-Match': etag } })
    expect(again.status).toBe(304)
  })

  it.each([
    ['fail/empty-body', new Uint8Array(0)],
    ['fail/junk', new Uint8Array([1, 2, 3, 4])],
    ['fail/truncated', ocspRequest([{ hash: 'sha1', issuerNameHash: new Uint8Array(20), issuerKeyHash: new Uint8Array(20), serial: '01' }]).subarray(0, 20)],
    ['fail/md5-certid', ocspRequest([{ hashOid: '1.2.840.113549.2.5', issuerNameHash: new Uint8Array(16), issuerKeyHash: new Uint8Array(16), serial: '01' }])],
  ])('%s → malformedRequest', async (_name, body) => {
    const { res, der } = await postOcsp(env, body)
    expect(res.status).toBe(200)
    expect(parseResponse(der).status).toBe(1)
  })

  it('ok/crl-lists-revoked-with-reason-and-verifies', async () => {
    const cert = await issue(env, 'crl.example.com')
    await env.core.issuance.revoke({
      id: cert.id,
      reason: 1,
      actor: 'test',
      protocol: 'admin',
      invalidityDate: new Date('2026-01-02T03:04:05Z'),
    })
    await new Promise((r) => setTimeout(r, 400)) // debounce 50 ms + build
    const res = await env.http.request('/.well-known/pki/crl/local')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/pkix-crl')
    const crl = new x509.X509Crl(new Uint8Array(await res.arrayBuffer()))
    const issuing = new x509.X509Certificate(env.issuingDer)
    expect(await crl.verify({ publicKey: issuing.publicKey })).toBe(true)
    const entry = crl.entries.find((e) => e.serialNumber.toLowerCase() === cert.serial)!
    expect(entry.reason).toBe(x509.X509CrlReason.keyCompromise)
    expect(entry.invalidity?.toISOString()).toBe('2026-01-02T03:04:05.000Z')
    expect(crl.getExtension('2.5.29.46')).toBeTruthy() // Freshest CRL → delta
    const number = crl.getExtension('2.5.29.20')!

    const etag = res.headers.get('etag')!
    expect((await env.http.request('/.well-known/pki/crl/local', { headers: { 'If-None-Match': etag } })).status).toBe(304)
    const pem = await env.http.request('/.well-known/pki/crl/local.pem')
    expect(await pem.text()).toMatch(/^-----BEGIN X509 CRL-----/)
    const byDefault = await env.http.request('/.well-known/pki/crl', { headers: { Accept: 'application/x-pem-file' } })
    expect(await byDefault.text()).toMatch(/^-----BEGIN X509 CRL-----/)

    const delta = new x509.X509Crl(new Uint8Array(await (await env.http.request('/.well-known/pki/crl/local/delta')).arrayBuffer()))
    expect(await delta.verify({ publicKey: issuing.publicKey })).toBe(true)
    const indicator = delta.getExtension('2.5.29.27')!
    expect(indicator.critical).toBe(true)
    expect(Buffer.from(indicator.value)).toEqual(Buffer.from(number.value)) // base = the full CRL's number
    expect(delta.entries.some((e) => e.serialNumber.toLowerCase() === cert.serial)).toBe(true)
  })

  it('ok/crl-number-strictly-increases', async () => {
    const numbers: bigint[] = []
    for (const name of ['n1.example.com', 'n2.example.com']) {
      const cert = await issue(env, name)
      await env.core.issuance.revoke({ id: cert.id, reason: 5, actor: 'test', protocol: 'admin' })
      await new Promise((r) => setTimeout(r, 400))
      const crl = await env.revocation.crl.get('local', -1, 'full')
      numbers.push(crl!.number)
    }
    expect(numbers[1]! > numbers[0]!).toBe(true)
  })

  it.each([['/.well-known/pki/crl/nope'], ['/.well-known/pki/crl/local/3'], ['/.well-known/pki/crl/local/x/y/z']])(
    'fail/unknown-crl-path %s → 404',
    async (path) => {
      expect((await env.http.request(path)).status).toBe(404)
    },
  )
})

describe('partitioned CRLs', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'enroll-shards-'))
  let env: Env
  beforeAll(async () => {
    env = await openEnv(undefined, 'public', dataDir, {
      backends: { local: { kind: 'local', crlShards: 4 } },
    })
  })
  afterAll(async () => {
    await env.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('ok/cdp-names-shard-and-shard-crl-has-critical-idp', async () => {
    const cert = await issue(env, 'shard.example.com')
    const leaf = new x509.X509Certificate(cert.der!)
    const cdp = new x509.CRLDistributionPointsExtension(leaf.getExtension('2.5.29.31')!.rawData)
    const url = cdp.distributionPoints[0]!.distributionPoint!.fullName![0]!.uniformResourceIdentifier!
    const shard = Number(url.split('/').at(-1))
    expect(url).toBe(`http://pki.test:8080/.well-known/pki/crl/local/${shard}`)
    expect(shard).toBe(Number.parseInt(cert.serial.slice(-8), 16) % 4)

    await env.core.issuance.revoke({ id: cert.id, reason: 1, actor: 'test', protocol: 'admin' })
    await new Promise((r) => setTimeout(r, 400))
    const res = await env.http.request(`/.well-known/pki/crl/local/${shard}`)
    const crl = new x509.X509Crl(new Uint8Array(await res.arrayBuffer()))
    const idp = crl.getExtension('2.5.29.28')!
    expect(idp.critical).toBe(true)
    expect(Buffer.from(idp.value).toString('latin1')).toContain(url)
    expect(crl.entries.map((e) => e.serialNumber.toLowerCase())).toContain(cert.serial)
    // The whole-CA CRL does not exist when the CA is partitioned.
    expect((await env.http.request('/.well-known/pki/crl/local')).status).toBe(404)
  })
})

describe.each(storeTargets().filter((t) => t.name === 'postgres'))('two instances on one $name', (target) => {
  it('ok/revocation-on-one-instance-reaches-the-others-ocsp-cache-within-1s', async () => {
    const opened = await target.open()
    await opened.store.close()
    const a = await openEnv(opened.url, opened.schema, opened.dataDir)
    // Instance B shares the database and the CA files, as N instances behind a load balancer do.
    const b = await openEnv(opened.url, opened.schema, opened.dataDir)
    try {
      const cert = await issue(a, 'shared.example.com')
      const req = ocspRequest([certIdFor(a.issuingDer, cert.serial)])
      expect(certStatusTag(parseResponse((await postOcsp(b, req)).der).basic!)).toBe(0)
      expect(b.revocation.ocsp.size()).toBe(1)
      const revokedAt = Date.now()
      await a.core.issuance.revoke({ id: cert.id, reason: 1, actor: 'test', protocol: 'admin' })
      let status = 0
      while (status !== 1 && Date.now() - revokedAt < 1000) {
        status = certStatusTag(parseResponse((await postOcsp(b, req)).der).basic!)
        if (status !== 1) await new Promise((r) => setTimeout(r, 20))
      }
      expect(status).toBe(1)
      expect(Date.now() - revokedAt).toBeLessThan(1000)
    } finally {
      await b.close()
      await a.close()
      await dropSchema(opened.url!, opened.schema)
      rmSync(opened.dataDir, { recursive: true, force: true })
    }
  })
})
