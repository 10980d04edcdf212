// The AWS Private CA backend (src/ca/pca) through the one issuance path, against the ACM-PCA double (AWS JSON 1.1,
// SigV4 verified): pending for several polls, throttling retried by the SDK, the bounded wait running out, failed
// issuance, lost answers retried with the same IdempotencyToken (one certificate), the reconciler completing an
// interrupted issuance through that token, revocation with PCA's serial and reason forms, PCA's CRL served by our
// CRL service, and the delegated OCSP responder certificate from the OCSP-signing template.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import type { SignRequest } from '../../src/ca/backend.js'
import { PcaBackend } from '../../src/ca/pca/index.js'
import { pcaBackendSchema } from '../../src/ca/pca/config.js'
import { ocspResponderProfileName } from '../../src/config/load.js'
import { IssuanceError } from '../../src/errors.js'
import { normalizeSerial } from '../../src/pki/serial.js'
import { x509 } from '../../src/pki/x509.js'
import { createRevocation } from '../../src/revocation/index.js'
import { PcaDouble } from '../doubles/acm-pca.js'
import { anyName, issueRequest, logger, openTestCore, pcaBackend, type TestCore } from '../helpers/external-ca.js'

const postgresUrl = inject('postgresUrl')
const OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5'

let pca: PcaDouble
let t: TestCore

beforeAll(async () => {
  pca = await PcaDouble.start()
  t = await openTestCore(postgresUrl, {
    backends: { pca: pcaBackend(pca) },
    profiles: { default: { backend: 'pca', allow: anyName } },
  })
})

afterAll(async () => {
  await t?.close()
  await pca?.close()
})

beforeEach(() => {
  pca.pendingPolls = 0
  pca.failIssuance = false
  pca.throttle = { count: 0 }
  pca.dropAnswers = { count: 0 }
})

const issuerKey = () => pca.ca.issuing.publicKey

async function failure(p: Promise<unknown>): Promise<IssuanceError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(IssuanceError)
  return e as IssuanceError
}

describe('AWS Private CA backend through the issuance service', () => {
  it('ok/pending: RequestInProgressException for several polls, then the certificate; PCA chose the serial', async () => {
    pca.pendingPolls = 2
    const { req } = await issueRequest({ subject: 'CN=a.example.com', dns: ['a.example.com'], ip: ['192.0.2.9'] })
    const out = await t.core.issuance.issue(req)
    if (out.status !== 'issued') throw new Error('not issued')
    const cert = new x509.X509Certificate(out.certificateDer)
    expect(await cert.verify({ publicKey: issuerKey(), signatureOnly: true })).toBe(true)
    expect(out.certificate.serial).toBe(normalizeSerial(cert.serialNumber))
    expect(cert.subject).toBe('CN=a.example.com')
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([
      { type: 'dns', value: 'a.example.com' },
      { type: 'ip', value: '192.0.2.9' },
    ])
    const gets = pca.callsOf('GetCertificate').slice(-3)
    expect(gets.map((c) => c.errorType ?? c.status)).toEqual(['RequestInProgressException', 'RequestInProgressException', 200])
    expect(out.chainDer.map((d) => new x509.X509Certificate(d).subject)).toEqual([pca.ca.issuing.subject, pca.ca.root.subject])
  })

  it('ok/throttling: ThrottlingException is retried by the SDK and the issuance succeeds', async () => {
    pca.throttle = { target: 'IssueCertificate', count: 2 }
    const { req } = await issueRequest({ subject: 'CN=b.example.com', dns: ['b.example.com'] })
    expect((await t.core.issuance.issue(req)).status).toBe('issued')
    expect(pca.callsOf('IssueCertificate').slice(-3).map((c) => c.errorType ?? c.status)).toEqual(['ThrottlingException', 'ThrottlingException', 200])
  })

  it('fail/throttled-out: throttling beyond maxAttempts fails the request; the reservation is failed and audited', async () => {
    pca.throttle = { target: 'IssueCertificate', count: 10 }
    const { req } = await issueRequest({ subject: 'CN=c.example.com', dns: ['c.example.com'] })
    const e = await failure(t.core.issuance.issue(req))
    expect(e.kind).toBe('backendUnavailable')
    expect(e.detail).toMatch(/IssueCertificate: ThrottlingException/)
    const [failed] = await t.core.store.certificates.list({ status: 'failed', limit: 1 })
    expect(failed?.failure).toMatch(/ThrottlingException/)
    const audit = await t.core.store.audit.list({ serial: failed!.serial, limit: 5 })
    expect(audit.map((a) => a.action)).toContain('certificate.failed')
  })

  it('fail/request-failed: PCA reports the issuance failed; the reservation is failed with its reason', async () => {
    pca.failIssuance = true
    const { req } = await issueRequest({ subject: 'CN=d.example.com', dns: ['d.example.com'] })
    const e = await failure(t.core.issuance.issue(req))
    expect(e.detail).toMatch(/RequestFailedException/)
    const [failed] = await t.core.store.certificates.list({ status: 'failed', limit: 1 })
    expect(failed?.failure).toMatch(/RequestFailedException/)
  })

  it('fail/timeout → reconciled: the wait runs out, the request fails, the reservation stays for the reconciler, which completes it', async () => {
    pca.pendingPolls = Infinity
    const { req } = await issueRequest({ subject: 'CN=e.example.com', dns: ['e.example.com'] })
    const e = await failure(t.core.issuance.issue(req))
    expect(e.kind).toBe('backendUnavailable')
    expect(e.detail).toMatch(/was not issued within 4s/)
    const [open] = await t.core.store.certificates.list({ status: 'reserved', limit: 1 })
    expect(open?.der).toBeNull()
    const audit = await t.core.store.audit.list({ serial: open!.serial, limit: 5 })
    const failed = audit.find((a) => a.action === 'certificate.failed')
    expect(failed?.detail).toMatchObject({ outcome: 'unknown', reservation: 'left for the reconciler' })

    pca.release()
    const issues = pca.callsOf('IssueCertificate').length
    const made = pca.certificates.size
    expect(await t.core.issuance.reconcile(0)).toEqual({ completed: 1, voided: 0 })
    expect(pca.callsOf('IssueCertificate').length).toBe(issues + 1)
    expect(pca.certificates.size).toBe(made)
    const done = await t.core.store.certificates.getById(open!.id)
    expect(done?.status).toBe('valid')
    expect(done!.serial).toBe(normalizeSerial(new x509.X509Certificate(done!.der!).serialNumber))
  })

  it('ok/lost-answer: an IssueCertificate answer lost in transit is retried with the same token: one certificate', async () => {
    pca.dropAnswers = { target: 'IssueCertificate', count: 1 }
    const made = pca.certificates.size
    const { req } = await issueRequest({ subject: 'CN=f.example.com', dns: ['f.example.com'] })
    expect((await t.core.issuance.issue(req)).status).toBe('issued')
    expect(pca.certificates.size).toBe(made + 1)
  })

  it('ok/reconcile-interrupted: every IssueCertificate answer lost → reservation left open → reconciler recovers it by token', async () => {
    pca.dropAnswers = { target: 'IssueCertificate', count: 4 }
    const made = pca.certificates.size
    const { req } = await issueRequest({ subject: 'CN=g.example.com', dns: ['g.example.com'] })
    const e = await failure(t.core.issuance.issue(req))
    expect(e.kind).toBe('backendUnavailable')
    const [open] = await t.core.store.certificates.list({ status: 'reserved', limit: 1 })
    expect(open).toBeDefined()
    // PCA made exactly one certificate for the four attempts (same IdempotencyToken).
    expect(pca.certificates.size).toBe(made + 1)
    expect(await t.core.issuance.reconcile(0)).toEqual({ completed: 1, voided: 0 })
    expect(pca.certificates.size).toBe(made + 1)
    const done = await t.core.store.certificates.getById(open!.id)
    expect(done?.status).toBe('valid')
    const arnSerial = [...pca.certificates.values()].at(-1)!.serialHex
    expect(done?.serial).toBe(arnSerial)
  })

  it('ok/revoke: RevokeCertificate with PCA\'s colon serial and reason enum; our CRL endpoint serves PCA\'s CRL', async () => {
    const revocation = createRevocation({ ...t.core, logger })
    const { req } = await issueRequest({ subject: 'CN=h.example.com', dns: ['h.example.com'] })
    const out = await t.core.issuance.issue(req)
    await t.core.issuance.revoke({ id: out.certificate.id, reason: 1, actor: 'admin:test', protocol: 'admin' })
    expect(pca.revoked.get(out.certificate.serial)?.reason).toBe('KEY_COMPROMISE')
    expect(pca.callsOf('RevokeCertificate').at(-1)?.status).toBe(200)
    const crl = await revocation.crl.get('pca', -1, 'full')
    const parsed = new x509.X509Crl(new Uint8Array(crl!.der))
    expect(await parsed.verify({ publicKey: issuerKey() })).toBe(true)
    expect(parsed.entries.map((e) => normalizeSerial(e.serialNumber))).toContain(out.certificate.serial)
  })

  it('ok/ocsp-responder: the OCSP-signing template issues an OCSPSigning certificate with id-pkix-ocsp-nocheck', async () => {
    const { req } = await issueRequest({ subject: 'CN=OCSP Responder pca' }, ocspResponderProfileName('pca'))
    const out = await t.core.issuance.issue({ ...req, protocol: 'system' })
    if (out.status !== 'issued') throw new Error('not issued')
    const cert = new x509.X509Certificate(out.certificateDer)
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual(['1.3.6.1.5.5.7.3.9'])
    expect(cert.getExtension(OCSP_NOCHECK)).toBeTruthy()
  })

  it('fail/sigv4: a wrong secret key is refused by the signature check (InvalidSignatureException)', async () => {
    const bad = new PcaBackend({
      id: 'bad',
      config: pcaBackendSchema.parse({ ...pcaBackend(pca), credentials: { accessKeyId: 'AKIDTESTONLY0000EXAMPLE', secretAccessKey: 'wrong' }, maxAttempts: 1 }),
      logger,
    })
    const e = await bad.chain().catch((err: unknown) => err)
    expect((e as IssuanceError).detail).toMatch(/InvalidSignatureException/)
    bad.close()
  })

  it('fail/outside-window: recovery refuses to re-issue once PCA\'s 5-minute idempotency window has passed', async () => {
    const backend = t.core.backends.get('pca') as PcaBackend
    const { made, req } = await issueRequest({ subject: 'CN=i.example.com', dns: ['i.example.com'] })
    const signReq: SignRequest = {
      reservationId: '999999',
      serial: '01',
      profile: 'default',
      subjectDer: req.csr.subjectDer,
      publicKeyDer: req.csr.publicKeyDer,
      sans: [{ type: 'dns', value: 'i.example.com' }],
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 86_400_000),
      keyUsage: ['digitalSignature'],
      extKeyUsage: [],
      csrDer: made.der,
      reservedAt: new Date(Date.now() - 6 * 60_000),
    }
    const before = pca.callsOf('IssueCertificate').length
    const e = await backend.recover(signReq).catch((err: unknown) => err)
    expect((e as IssuanceError).detail).toMatch(/idempotency window/)
    expect(pca.callsOf('IssueCertificate').length).toBe(before)
  })
})
