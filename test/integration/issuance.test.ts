// The one issuance path (src/issuance/service.ts) through openCore: policy → write-ahead reservation → local CA →
// inventory → audit; certificates checked field by field (RFC 5280 §4) with @peculiar/x509 and openssl.
import { createHash, randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import * as asn1js from 'asn1js'
import { pino } from 'pino'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { CaBackend, SignRequest, SignResult } from '../../src/ca/backend.js'
import type { BackendRegistry } from '../../src/ca/registry.js'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import { IssuanceError, type IssuanceErrorKind } from '../../src/errors.js'
import {
  createIssuanceService,
  type IssuanceService,
  type IssueOutcome,
} from '../../src/issuance/service.js'
import { parseCsr } from '../../src/pki/csr.js'
import { toPem, type Der } from '../../src/pki/pem.js'
import { x509 } from '../../src/pki/x509.js'
import { openCore, type Core } from '../../src/server.js'
import type { CertificateRecord } from '../../src/store/index.js'
import { makeCsr, type MakeCsrOptions } from '../helpers/csr.js'

const DAY = 24 * 3600 * 1000
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1'
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'
const logger = pino({ level: 'silent' })
const postgresUrl = inject('postgresUrl')

let dataDir: string
let schema: string
let config: Config
let core: Core
let issuance: IssuanceService
/** Every certificate handed out by any test here; the inventory must hold each one. */
const handedOut: Der[] = []

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'enroll-issuance-'))
  schema = postgresUrl ? `t_${randomBytes(6).toString('hex')}` : 'public'
  config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      databaseUrl: postgresUrl || undefined,
      databaseSchema: schema,
      publicHttpUrl: 'http://pki.test:8080',
      profiles: {
        default: {
          allow: { dns: ['example.com', '**.example.com'], ip: ['192.0.2.0/24', '2001:db8::/32'] },
        },
        approval: { requireApproval: true, allow: { dns: ['**.example.com'] } },
        short: { validityDays: 1, maxValidityDays: 2, allow: { dns: ['**.example.com'] } },
      },
    },
  })
  core = await openCore(config, logger, { createCa: true })
  issuance = core.issuance
})

afterAll(async () => {
  await core?.store.close()
  if (postgresUrl) {
    const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} })
    await sql`drop schema if exists ${sql(schema)} cascade`
    await sql.end()
  }
  rmSync(dataDir, { recursive: true, force: true })
})

const request = async (
  o: MakeCsrOptions,
  extra: { profile?: string; requester?: string; notAfter?: Date } = {},
) => {
  const made = await makeCsr(o)
  return {
    made,
    req: {
      csr: await parseCsr(made.der),
      protocol: 'admin' as const,
      requester: extra.requester ?? 'admin:test',
      profile: extra.profile,
      notAfter: extra.notAfter,
    },
  }
}

function issued(outcome: IssueOutcome) {
  if (outcome.status !== 'issued')
    throw new Error(`expected an issued certificate, got ${outcome.status}`)
  handedOut.push(outcome.certificateDer)
  return outcome
}

async function issuanceError(p: Promise<unknown>): Promise<IssuanceError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(IssuanceError)
  return e as IssuanceError
}

const expectKind = async (p: Promise<unknown>, kind: IssuanceErrorKind) =>
  expect((await issuanceError(p)).kind).toBe(kind)

/** RFC 5280 §4.2.1.2 (1): SHA-1 of the subjectPublicKey BIT STRING value, computed here from the SPKI. */
function sha1OfKeyBits(spki: Uint8Array): string {
  const seq = asn1js.fromBER(spki).result as asn1js.Sequence
  const bits = seq.valueBlock.value[1] as asn1js.BitString
  return createHash('sha1').update(bits.valueBlock.valueHexView).digest('hex')
}

const hex = (b: ArrayBuffer | Uint8Array) =>
  Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex')
const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** Writes leaf, issuing CA and root as PEM files for openssl; returns their paths. */
function pemFiles(leaf: Der, chain: Der[]) {
  const dir = mkdtempSync(join(tmpdir(), 'enroll-pem-'))
  const files = {
    dir,
    leaf: join(dir, 'leaf.pem'),
    issuing: join(dir, 'issuing.pem'),
    root: join(dir, 'root.pem'),
  }
  writeFileSync(files.leaf, toPem(leaf, 'CERTIFICATE'))
  writeFileSync(files.issuing, toPem(chain[0]!, 'CERTIFICATE'))
  writeFileSync(files.root, toPem(chain[1]!, 'CERTIFICATE'))
  return files
}

interface Expected {
  keys: CryptoKeyPair
  rsa: boolean
  sans: x509.JsonGeneralName[]
  subject: string
  requestedAt: number
}

/** Checks one issued certificate against RFC 5280 §4 and the profile, extension by extension. */
async function checkCertificate(der: Der, chain: Der[], record: CertificateRecord, want: Expected) {
  const cert = new x509.X509Certificate(der)
  const [issuingDer, rootDer] = chain
  expect(chain).toHaveLength(2)
  const issuing = new x509.X509Certificate(issuingDer!)
  const root = new x509.X509Certificate(rootDer!)

  // Exactly these extensions, in this order, and nothing else.
  expect(cert.extensions.map((e) => e.type)).toEqual([
    '2.5.29.19', // basicConstraints
    '2.5.29.15', // keyUsage
    '2.5.29.37', // extKeyUsage
    '2.5.29.14', // subjectKeyIdentifier
    '2.5.29.35', // authorityKeyIdentifier
    '2.5.29.17', // subjectAltName
    '2.5.29.31', // cRLDistributionPoints
    '2.5.29.46', // freshestCRL (delta CRL)
    '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
  ])

  const bc = cert.getExtension(x509.BasicConstraintsExtension)!
  expect([bc.critical, bc.ca, bc.pathLength]).toEqual([true, false, undefined])

  const ku = cert.getExtension(x509.KeyUsagesExtension)!
  expect(ku.critical).toBe(true)
  expect(ku.usages).toBe(
    want.rsa
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature,
  )

  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)!
  expect(eku.critical).toBe(false)
  expect(eku.usages).toEqual([SERVER_AUTH, CLIENT_AUTH])

  const spki = new Uint8Array(cert.publicKey.rawData)
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension)!
  expect(ski.critical).toBe(false)
  expect(ski.keyId).toBe(sha1OfKeyBits(spki))
  expect(ski.keyId).toBe(
    (await x509.SubjectKeyIdentifierExtension.create(want.keys.publicKey)).keyId,
  )

  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension)!
  expect(aki.critical).toBe(false)
  expect(aki.keyId).toBe(issuing.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId)
  expect(aki.keyId).toBe(sha1OfKeyBits(new Uint8Array(issuing.publicKey.rawData)))

  const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!
  // RFC 5280 §4.2.1.6: critical exactly when the subject is empty.
  expect(san.critical).toBe(want.subject === '')
  expect(san.names.toJSON()).toEqual(want.sans)

  const cdp = cert.getExtension(x509.CRLDistributionPointsExtension)!
  expect(cdp.critical).toBe(false)
  expect(
    cdp.distributionPoints.map((p) =>
      p.distributionPoint?.fullName?.map((n) => n.uniformResourceIdentifier),
    ),
  ).toEqual([['http://pki.test:8080/.well-known/pki/crl/local']])
  const freshest = new x509.CRLDistributionPointsExtension(cert.getExtension('2.5.29.46')!.rawData)
  expect(
    freshest.distributionPoints[0]!.distributionPoint?.fullName?.[0]?.uniformResourceIdentifier,
  ).toBe('http://pki.test:8080/.well-known/pki/crl/local/delta')

  const aia = cert.getExtension(x509.AuthorityInfoAccessExtension)!
  expect(aia.critical).toBe(false)
  expect(aia.ocsp.map((n) => n.value)).toEqual(['http://pki.test:8080/.well-known/pki/ocsp'])
  expect(aia.caIssuers.map((n) => n.value)).toEqual([
    'http://pki.test:8080/.well-known/pki/ca/local.der',
  ])

  // RFC 5280 §4.1.2.2: positive, 16 octets, the reserved serial.
  expect(cert.serialNumber).toMatch(/^[0-9a-f]{32}$/)
  expect(parseInt(cert.serialNumber.slice(0, 2), 16)).toBeGreaterThanOrEqual(1)
  expect(parseInt(cert.serialNumber.slice(0, 2), 16)).toBeLessThanOrEqual(0x7f)
  expect(cert.serialNumber).toBe(record.serial)

  // notBefore backdated by at most a minute (DER time has whole seconds).
  const back = want.requestedAt - cert.notBefore.getTime()
  expect(back).toBeGreaterThanOrEqual(0)
  expect(back).toBeLessThanOrEqual(61_000)
  expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBeGreaterThan(90 * DAY - 2000)
  expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBeLessThanOrEqual(90 * DAY + 1000)

  expect(cert.subject).toBe(want.subject)
  expect(cert.issuer).toBe(issuing.subject)
  expect(hex(cert.publicKey.rawData)).toBe(
    hex(await globalThis.crypto.subtle.exportKey('spki', want.keys.publicKey)),
  )
  expect(await cert.verify({ publicKey: issuing.publicKey, signatureOnly: true })).toBe(true)
  expect(await cert.verify({ publicKey: root.publicKey, signatureOnly: true })).toBe(false)
  const path = await new x509.X509ChainBuilder({ certificates: [issuing, root] }).build(cert)
  expect(path.map((c) => c.subject)).toEqual([cert.subject, issuing.subject, root.subject])

  // The inventory row is what was signed.
  expect(record.status).toBe('valid')
  expect(hex(record.der!)).toBe(hex(der))
  expect(record.fingerprintSha256).toBe(createHash('sha256').update(der).digest('hex'))
  expect(record.notBefore).toEqual(cert.notBefore)
  expect(record.notAfter).toEqual(cert.notAfter)

  // An independent reading and path validation by openssl.
  const files = pemFiles(der, chain)
  try {
    const text = openssl('x509', '-in', files.leaf, '-noout', '-text')
    expect(text).toContain('Version: 3 (0x2)')
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/)
    expect(text).toMatch(
      want.rsa
        ? /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/
        : /X509v3 Key Usage: critical\s+Digital Signature\n/,
    )
    expect(text).toMatch(
      /X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/,
    )
    expect(text).toMatch(
      /X509v3 CRL Distribution Points:\s+Full Name:\s+URI:http:\/\/pki\.test:8080\/\.well-known\/pki\/crl\/local\n/,
    )
    expect(text).toContain('OCSP - URI:http://pki.test:8080/.well-known/pki/ocsp')
    expect(text).toContain('CA Issuers - URI:http://pki.test:8080/.well-known/pki/ca/local.der')
    expect(
      openssl(
        'verify',
        '-x509_strict',
        '-purpose',
        'sslserver',
        '-CAfile',
        files.root,
        '-untrusted',
        files.issuing,
        files.leaf,
      ).trim(),
    ).toBe(`${files.leaf}: OK`)
    expect(
      openssl(
        'verify',
        '-x509_strict',
        '-purpose',
        'sslclient',
        '-CAfile',
        files.root,
        '-untrusted',
        files.issuing,
        files.leaf,
      ).trim(),
    ).toBe(`${files.leaf}: OK`)
  } finally {
    rmSync(files.dir, { recursive: true, force: true })
  }
}

describe('issue', () => {
  it('ok/rsa-2048-with-cn-dns-and-ip', async () => {
    const { made, req } = await request({
      key: 'rsa-2048',
      subject: 'CN=www.example.com, O=Ignored Org',
      dns: ['www.example.com', 'API.example.com'],
      ip: ['192.0.2.10'],
    })
    const requestedAt = Date.now()
    const out = issued(await issuance.issue(req))
    await checkCertificate(out.certificateDer, out.chainDer, out.certificate, {
      keys: made.keys,
      rsa: true,
      subject: 'CN=www.example.com',
      requestedAt,
      sans: [
        { type: 'dns', value: 'www.example.com' },
        { type: 'dns', value: 'api.example.com' },
        { type: 'ip', value: '192.0.2.10' },
      ],
    })
    expect(out.certificate).toMatchObject({
      profile: 'default',
      protocol: 'admin',
      requester: 'admin:test',
      backendId: 'local',
    })
  })

  it('ok/ecdsa-p256-san-only', async () => {
    const { made, req } = await request({
      key: 'ecdsa-p256',
      dns: ['a.b.example.com'],
      ip: ['2001:db8::7'],
    })
    const requestedAt = Date.now()
    const out = issued(await issuance.issue(req))
    await checkCertificate(out.certificateDer, out.chainDer, out.certificate, {
      keys: made.keys,
      rsa: false,
      subject: '',
      requestedAt,
      sans: [
        { type: 'dns', value: 'a.b.example.com' },
        { type: 'ip', value: '2001:db8::7' },
      ],
    })
  })

  it('ok/reply-built-while-recording-comes-back-once-recorded', async () => {
    const { req } = await request({ subject: 'CN=reply.example.com' })
    let builtFor: Der | undefined
    const out = issued(
      await issuance.issue(req, {
        replyWhileRecording: async (certificateDer, chainDer) => {
          builtFor = certificateDer
          return new Uint8Array([...certificateDer.subarray(0, 4), chainDer.length])
        },
      }),
    )
    expect(builtFor).toEqual(out.certificateDer)
    expect(out.reply).toEqual(new Uint8Array([...out.certificateDer.subarray(0, 4), out.chainDer.length]))
    expect((await issuance.find(out.certificate.id)).status).toBe('valid')
  })

  it('ok/a-reply-that-fails-to-build-is-dropped-not-the-issuance', async () => {
    const { req } = await request({ subject: 'CN=no-reply.example.com' })
    const out = issued(
      await issuance.issue(req, {
        replyWhileRecording: async () => {
          throw new Error('the reply cannot be built')
        },
      }),
    )
    expect(out.reply).toBeUndefined()
    expect((await issuance.find(out.certificate.id)).der).toEqual(out.certificateDer)
  })

  it('ok/cn-only-becomes-san', async () => {
    const { made, req } = await request({ subject: 'CN=example.com' })
    const requestedAt = Date.now()
    const out = issued(await issuance.issue(req))
    await checkCertificate(out.certificateDer, out.chainDer, out.certificate, {
      keys: made.keys,
      rsa: false,
      subject: 'CN=example.com',
      requestedAt,
      sans: [{ type: 'dns', value: 'example.com' }],
    })
  })

  it('ok/ed25519-key', async () => {
    const { req } = await request({ key: 'ed25519', dns: ['ed.example.com'] })
    const out = issued(await issuance.issue(req))
    const cert = new x509.X509Certificate(out.certificateDer)
    expect(cert.publicKey.algorithm.name).toBe('Ed25519')
    expect(cert.getExtension(x509.KeyUsagesExtension)!.usages).toBe(
      x509.KeyUsageFlags.digitalSignature,
    )
  })

  it('ok/requested-not-after-capped-by-profile', async () => {
    const { req } = await request(
      { dns: ['short.example.com'] },
      { profile: 'short', notAfter: new Date(Date.now() + 30 * DAY) },
    )
    const out = issued(await issuance.issue(req))
    const cert = new x509.X509Certificate(out.certificateDer)
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(2 * DAY)
  })

  it('ok/requested-not-after-kept-when-shorter', async () => {
    const notAfter = new Date(Math.floor((Date.now() + 3 * DAY) / 1000) * 1000)
    const { req } = await request({ dns: ['three-days.example.com'] }, { notAfter })
    const out = issued(await issuance.issue(req))
    expect(new x509.X509Certificate(out.certificateDer).notAfter).toEqual(notAfter)
  })

  it('ok/issued-audit-event', async () => {
    const { req } = await request({ dns: ['audit.example.com'] })
    const out = issued(await issuance.issue({ ...req, requestId: 'req-audit-1' }))
    const events = await core.store.audit.list({ serial: out.certificate.serial, limit: 10 })
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      action: 'certificate.issued',
      actor: 'admin:test',
      protocol: 'admin',
      certificateId: out.certificate.id,
      requestId: 'req-audit-1',
      detail: { profile: 'default' },
    })
  })
})

describe('issue refusals', () => {
  it('fail/policy-denied-identifier', async () => {
    const before = (await core.store.certificates.list({ limit: 10_000 })).length
    const { req } = await request({ dns: ['www.example.org'] })
    const e = await issuanceError(issuance.issue(req))
    expect(e).toMatchObject({
      kind: 'policyDenied',
      detail: 'dns identifier "www.example.org" is not allowed by this profile',
    })
    expect((await core.store.certificates.list({ limit: 10_000 })).length).toBe(before)
  })

  it('fail/policy-denied-ip-outside-cidr', async () => {
    const { req } = await request({ dns: ['www.example.com'], ip: ['198.51.100.1'] })
    await expectKind(issuance.issue(req), 'policyDenied')
  })

  it('fail/policy-denied-rsa-1024', async () => {
    const { req } = await request({ key: 'rsa-1024', dns: ['www.example.com'] })
    await expectKind(issuance.issue(req), 'policyDenied')
  })

  it('fail/unknown-profile', async () => {
    const { req } = await request({ dns: ['www.example.com'] }, { profile: 'nope' })
    const e = await issuanceError(issuance.issue(req))
    expect(e).toMatchObject({ kind: 'unknownProfile', detail: 'profile "nope" does not exist' })
  })

  it('fail/bad-csr', async () => {
    const der = (await makeCsr({ dns: ['www.example.com'] })).der
    der[der.length - 3]! ^= 0xff
    await expectKind(parseCsr(der), 'badCsr')
    await expectKind(parseCsr(new Uint8Array([1, 2, 3])), 'badCsr')
  })
})

describe('approval', () => {
  it('ok/pending-then-approved', async () => {
    const { req } = await request({ dns: ['held.example.com'] }, { profile: 'approval' })
    const out = await issuance.issue(req)
    expect(out.status).toBe('pending')
    expect(out.certificate).toMatchObject({ status: 'pending', der: null, profile: 'approval' })
    expect('certificateDer' in out).toBe(false)
    const [requested] = await core.store.audit.list({ serial: out.certificate.serial, limit: 10 })
    expect(requested).toMatchObject({
      action: 'certificate.requested',
      detail: { profile: 'approval', awaiting: 'approval' },
    })

    const approved = issued(
      await issuance.approve(out.certificate.id, 'admin:alice', 'req-approve'),
    )
    expect(approved.certificate).toMatchObject({
      id: out.certificate.id,
      status: 'valid',
      decidedBy: 'admin:alice',
    })
    const cert = new x509.X509Certificate(approved.certificateDer)
    expect(cert.serialNumber).toBe(out.certificate.serial)
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([
      { type: 'dns', value: 'held.example.com' },
    ])
    const events = await core.store.audit.list({
      serial: out.certificate.serial,
      limit: 10,
      order: 'asc',
    })
    expect(events.map((e) => [e.action, e.actor])).toEqual([
      ['certificate.requested', 'admin:test'],
      ['request.approved', 'admin:alice'],
      ['certificate.issued', 'admin:alice'],
    ])
    await expectKind(issuance.approve(out.certificate.id, 'admin:alice'), 'conflict')
  })

  it('ok/pending-then-rejected', async () => {
    const { req } = await request({ dns: ['unwanted.example.com'] }, { profile: 'approval' })
    const out = await issuance.issue(req)
    const rejected = await issuance.reject(out.certificate.id, 'admin:bob', 'not ours')
    expect(rejected).toMatchObject({
      status: 'rejected',
      decidedBy: 'admin:bob',
      failure: 'not ours',
      der: null,
    })
    const [last] = await core.store.audit.list({ serial: out.certificate.serial, limit: 1 })
    expect(last).toMatchObject({
      action: 'request.rejected',
      actor: 'admin:bob',
      detail: { reason: 'not ours' },
    })
    await expectKind(issuance.approve(out.certificate.id, 'admin:alice'), 'conflict')
    await expectKind(issuance.reject(out.certificate.id, 'admin:alice', 'again'), 'conflict')
  })

  it('fail/approve-unknown-request', async () => {
    await expectKind(issuance.approve('987654321', 'admin:alice'), 'notFound')
    await expectKind(issuance.reject('987654321', 'admin:alice', 'x'), 'notFound')
  })

  it('fail/approve-issued-certificate', async () => {
    const { req } = await request({ dns: ['direct.example.com'] })
    const out = issued(await issuance.issue(req))
    await expectKind(issuance.approve(out.certificate.id, 'admin:alice'), 'conflict')
  })
})

describe('revoke', () => {
  let record: CertificateRecord
  beforeAll(async () => {
    const { req } = await request({ dns: ['revoke-me.example.com'] })
    record = issued(await issuance.issue(req)).certificate
  })

  it('fail/certificate-hold-refused', async () => {
    const e = await issuanceError(
      issuance.revoke({ id: record.id, reason: 6, actor: 'admin:test', protocol: 'admin' }),
    )
    expect(e).toMatchObject({
      kind: 'badRequest',
      detail: 'revocation reason 6 cannot be requested',
    })
    await expectKind(
      issuance.revoke({ id: record.id, reason: 8, actor: 'admin:test', protocol: 'admin' }),
      'badRequest',
    )
    expect((await core.store.certificates.getById(record.id))?.status).toBe('valid')
  })

  it('ok/reason-recorded', async () => {
    const before = Date.now()
    const revoked = await issuance.revoke({
      id: record.id,
      reason: 1,
      actor: 'admin:test',
      protocol: 'admin',
      requestId: 'r-1',
    })
    expect(revoked).toMatchObject({ id: record.id, status: 'revoked', revocationReason: 1 })
    expect(revoked.revokedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000)
    expect(await core.store.certificates.getById(record.id)).toMatchObject({
      status: 'revoked',
      revocationReason: 1,
    })
    const [event] = await core.store.audit.list({ serial: record.serial, limit: 1 })
    expect(event).toMatchObject({
      action: 'certificate.revoked',
      actor: 'admin:test',
      requestId: 'r-1',
      detail: { reason: 1 },
    })
  })

  it('fail/already-revoked', async () => {
    const e = await issuanceError(
      issuance.revoke({ id: record.id, reason: 4, actor: 'admin:test', protocol: 'admin' }),
    )
    expect(e.kind).toBe('alreadyRevoked')
    expect((await core.store.certificates.getById(record.id))?.revocationReason).toBe(1)
  })

  it('ok/by-serial', async () => {
    const { req } = await request({ dns: ['by-serial.example.com'] })
    const out = issued(await issuance.issue(req))
    const revoked = await issuance.revoke({
      serial: out.certificate.serial,
      reason: 4,
      actor: 'cli:root',
      protocol: 'cli',
    })
    expect(revoked).toMatchObject({ status: 'revoked', revocationReason: 4 })
  })

  it('fail/not-issued', async () => {
    const { req } = await request({ dns: ['pending-revoke.example.com'] }, { profile: 'approval' })
    const out = await issuance.issue(req)
    await expectKind(
      issuance.revoke({
        id: out.certificate.id,
        reason: 0,
        actor: 'admin:test',
        protocol: 'admin',
      }),
      'conflict',
    )
  })

  it('fail/unknown', async () => {
    await expectKind(
      issuance.revoke({ id: '987654321', reason: 0, actor: 'admin:test', protocol: 'admin' }),
      'notFound',
    )
    await expectKind(
      issuance.revoke({ serial: '7f00', reason: 0, actor: 'admin:test', protocol: 'admin' }),
      'notFound',
    )
  })
})

describe('find', () => {
  it('ok/by-id-and-by-serial-with-colons', async () => {
    const { req } = await request({ dns: ['find.example.com'] })
    const out = issued(await issuance.issue(req))
    const serial = out.certificate.serial
    const colons = serial.toUpperCase().match(/../g)!.join(':')
    expect((await issuance.find(out.certificate.id)).serial).toBe(serial)
    expect((await issuance.find(colons)).id).toBe(out.certificate.id)
    expect((await issuance.find(`00:${colons}`)).id).toBe(out.certificate.id)
    await expectKind(issuance.find('zz-not-a-ref'), 'notFound')
  })
})

/** A CA backend around the real local CA whose sign() the test controls. */
function controlledBackend(
  real: CaBackend,
  sign: (req: SignRequest) => Promise<SignResult>,
  recover?: (req: SignRequest) => Promise<SignResult | undefined>,
) {
  const backend: CaBackend = {
    id: real.id,
    kind: real.kind,
    sign,
    revoke: (r) => real.revoke(r),
    chain: () => real.chain(),
    ready: () => real.ready(),
  }
  const withRecover = recover ? Object.assign(backend, { recover }) : backend
  const registry: BackendRegistry = {
    get: (id) => (id === real.id ? withRecover : undefined),
    all: () => [withRecover],
    generated: [],
  }
  return createIssuanceService({ config, store: core.store, backends: registry, logger })
}

/** Waits until the write-ahead reservation of a requester shows up in the inventory. */
async function reservationOf(requester: string): Promise<CertificateRecord> {
  for (let i = 0; i < 200; i++) {
    const row = (await core.store.certificates.list({ status: 'reserved', limit: 100 })).find(
      (r) => r.requester === requester,
    )
    if (row) return row
    await sleep(25)
  }
  throw new Error(`no reservation by ${requester}`)
}

describe('write-ahead recovery', () => {
  const local = () => core.backends.get('local')!

  it('ok/fresh-reservation-left-alone', async () => {
    const hanging = controlledBackend(local(), () => new Promise<never>(() => {}))
    const { req } = await request({ dns: ['fresh.example.com'] }, { requester: 'crash:fresh' })
    void hanging.issue(req)
    const row = await reservationOf('crash:fresh')
    expect(await issuance.reconcile()).toEqual({ completed: 0, voided: 0 })
    expect((await core.store.certificates.getById(row.id))?.status).toBe('reserved')
    // Leave nothing stale behind for the next cases.
    await sleep(10)
    expect(await issuance.reconcile(0)).toEqual({ completed: 0, voided: 1 })
  })

  it('ok/crash-while-signing-voided', async () => {
    const hanging = controlledBackend(local(), () => new Promise<never>(() => {}))
    const { req } = await request({ dns: ['crash.example.com'] }, { requester: 'crash:void' })
    void hanging.issue(req)
    const row = await reservationOf('crash:void')
    expect(row).toMatchObject({ status: 'reserved', der: null })
    await sleep(10)
    expect(await issuance.reconcile(0)).toEqual({ completed: 0, voided: 1 })
    expect(await core.store.certificates.getById(row.id)).toMatchObject({
      status: 'failed',
      der: null,
      failure: 'signing was interrupted; no certificate was issued',
    })
    const [event] = await core.store.audit.list({ serial: row.serial, limit: 1 })
    expect(event).toMatchObject({
      action: 'certificate.voided',
      actor: 'reconciler',
      certificateId: row.id,
    })
    expect(await issuance.reconcile(0)).toEqual({ completed: 0, voided: 0 })
  })

  it('ok/backend-with-recover-completes-reservation', async () => {
    const hanging = controlledBackend(local(), () => new Promise<never>(() => {}))
    const { req } = await request({ dns: ['recover.example.com'] }, { requester: 'crash:recover' })
    void hanging.issue(req)
    const row = await reservationOf('crash:recover')
    const asked: SignRequest[] = []
    // The CA signed under the reservation's idempotency token before the crash; recover() returns that result.
    const recovering = controlledBackend(
      local(),
      () => Promise.reject(new Error('not called')),
      async (r) => {
        asked.push(r)
        return local().sign(r)
      },
    )
    await sleep(10)
    expect(await recovering.reconcile(0)).toEqual({ completed: 1, voided: 0 })
    expect(asked.map((r) => [r.reservationId, r.serial])).toEqual([[row.id, row.serial]])
    const done = await core.store.certificates.getById(row.id)
    expect(done).toMatchObject({ status: 'valid', failure: null })
    handedOut.push(done!.der!)
    const cert = new x509.X509Certificate(done!.der!)
    expect(cert.serialNumber).toBe(row.serial)
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([
      { type: 'dns', value: 'recover.example.com' },
    ])
    const issuing = new x509.X509Certificate((await local().chain())[0]!)
    expect(await cert.verify({ publicKey: issuing.publicKey, signatureOnly: true })).toBe(true)
    const [event] = await core.store.audit.list({ serial: row.serial, limit: 1 })
    expect(event).toMatchObject({
      action: 'certificate.issued',
      actor: 'reconciler',
      detail: { recovered: true },
    })
  })

  it('ok/recover-finding-nothing-voids', async () => {
    const hanging = controlledBackend(local(), () => new Promise<never>(() => {}))
    const { req } = await request({ dns: ['nothing.example.com'] }, { requester: 'crash:nothing' })
    void hanging.issue(req)
    const row = await reservationOf('crash:nothing')
    const recovering = controlledBackend(
      local(),
      () => Promise.reject(new Error('not called')),
      async () => undefined,
    )
    await sleep(10)
    expect(await recovering.reconcile(0)).toEqual({ completed: 0, voided: 1 })
    expect((await core.store.certificates.getById(row.id))?.status).toBe('failed')
  })

  it('ok/late-signature-after-void-still-recorded', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const slow = controlledBackend(local(), async (r) => {
      await gate
      return local().sign(r)
    })
    const { req } = await request({ dns: ['late.example.com'] }, { requester: 'crash:late' })
    const pending = slow.issue(req)
    const row = await reservationOf('crash:late')
    await sleep(10)
    expect(await issuance.reconcile(0)).toEqual({ completed: 0, voided: 1 })
    release()
    const out = issued(await pending)
    expect(out.certificate).toMatchObject({ id: row.id, status: 'valid', failure: null })
  })

  it('fail/backend-error-marks-failed', async () => {
    const failing = controlledBackend(local(), () => Promise.reject(new Error('HSM offline')))
    const { req } = await request({ dns: ['hsm.example.com'] }, { requester: 'crash:error' })
    const e = await issuanceError(failing.issue(req))
    expect(e).toMatchObject({
      kind: 'backendUnavailable',
      detail: 'CA backend "local" failed to sign',
    })
    const row = (await core.store.certificates.list({ status: 'failed', limit: 100 })).find(
      (r) => r.requester === 'crash:error',
    )!
    expect(row).toMatchObject({ der: null, failure: 'CA backend "local" failed to sign' })
    const [event] = await core.store.audit.list({ serial: row.serial, limit: 1 })
    expect(event).toMatchObject({
      action: 'certificate.failed',
      detail: { reason: 'CA backend "local" failed to sign' },
    })
  })
})

describe('inventory', () => {
  it('ok/every-issued-certificate-is-recorded', async () => {
    const rows = await core.store.certificates.list({ limit: 10_000 })
    const withDer = rows.filter((r) => r.der !== null)
    expect(withDer.length).toBe(handedOut.length)
    const recorded = new Set(withDer.map((r) => hex(r.der!)))
    for (const der of handedOut) expect(recorded.has(hex(der))).toBe(true)
    for (const r of withDer) {
      expect(['valid', 'revoked']).toContain(r.status)
      expect(r.serial).toBe(new x509.X509Certificate(r.der!).serialNumber)
    }
  })
})

describe('regressions', () => {
  it('#2 - an approval days later signs a certificate valid from the approval, not from the request', async () => {
    const threeDaysAgo = createIssuanceService({
      config,
      store: core.store,
      backends: core.backends,
      logger,
      now: () => new Date(Date.now() - 3 * DAY),
    })
    const { req } = await request({ dns: ['late.example.com'] }, { profile: 'approval' })
    const pending = await threeDaysAgo.issue(req)
    expect(pending.status).toBe('pending')
    const approvedAt = Date.now()
    const approved = issued(await issuance.approve(pending.certificate.id, 'admin:bob'))
    handedOut.push(approved.certificateDer)
    const cert = new x509.X509Certificate(approved.certificateDer)
    expect(approvedAt - cert.notBefore.getTime()).toBeLessThanOrEqual(61_000)
    const lifetimeDays = (cert.notAfter.getTime() - cert.notBefore.getTime()) / DAY
    expect(lifetimeDays).toBeCloseTo(90, 3)
  })

  it('#2 - one reservation that cannot be settled does not stop the reconcile pass', async () => {
    const local = core.backends.get('local')!
    const hanging = controlledBackend(local, () => new Promise<never>(() => {}))
    for (const name of ['stuck-a', 'stuck-b']) {
      const { req } = await request({ dns: [`${name}.example.com`] }, { requester: `crash:${name}` })
      void hanging.issue(req)
      await reservationOf(`crash:${name}`)
    }
    let calls = 0
    const flaky = controlledBackend(
      local,
      () => Promise.reject(new Error('not called')),
      async (r) => {
        calls++
        if (calls === 1) throw new Error('CA unreachable')
        return local.sign(r)
      },
    )
    await sleep(10)
    expect(await flaky.reconcile(0)).toEqual({ completed: 1, voided: 0 })
    const rows = await core.store.certificates.list({ status: 'reserved', limit: 100 })
    expect(rows.filter((r) => r.requester.startsWith('crash:stuck-'))).toHaveLength(1)
    // The next round settles the one left over.
    expect(await flaky.reconcile(0)).toEqual({ completed: 1, voided: 0 })
    for (const r of await core.store.certificates.list({ status: 'valid', limit: 500 })) {
      if (r.requester.startsWith('crash:stuck-')) handedOut.push(r.der!)
    }
  })
})

describe('group commit', () => {
  it('ok/64-concurrent-issuances-are-each-recorded-with-their-own-audit-event', async () => {
    const reqs = await Promise.all(
      Array.from({ length: 64 }, (_, i) => request({ dns: [`gc${i}.example.com`] }, { requester: `gc:${i}` })),
    )
    const outs = (await Promise.all(reqs.map(({ req }) => issuance.issue(req)))).map(issued)
    for (const [i, out] of outs.entries()) {
      handedOut.push(out.certificateDer)
      expect(out.certificate).toMatchObject({ status: 'valid', requester: `gc:${i}` })
      const cert = new x509.X509Certificate(out.certificateDer)
      expect(cert.serialNumber).toBe(out.certificate.serial)
      expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([
        { type: 'dns', value: `gc${i}.example.com` },
      ])
      const stored = await core.store.certificates.getById(out.certificate.id)
      expect(Buffer.from(stored!.der!)).toEqual(Buffer.from(out.certificateDer))
      const events = await core.store.audit.list({ serial: out.certificate.serial, limit: 5 })
      expect(events.map((e) => [e.action, e.actor, e.certificateId])).toEqual([
        ['certificate.issued', `gc:${i}`, out.certificate.id],
      ])
    }
    expect(new Set(outs.map((o) => o.certificate.serial)).size).toBe(64)
  })
})
