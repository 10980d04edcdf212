// AWS Private CA (ACM PCA) as a CA backend: IssueCertificate → waitUntilCertificateIssued (bounded) →
// GetCertificate; RevokeCertificate; GetCertificateAuthorityCertificate. The IdempotencyToken is derived from the
// write-ahead record, so a retry — or the reconciler after a crash — gets the same certificate, never a second one.
import { createHash } from 'node:crypto'
import {
  ACMPCAClient,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateCommand,
  IssueCertificateCommand,
  RevokeCertificateCommand,
  waitUntilCertificateIssued,
  type ApiPassthrough,
  type GeneralName,
  type GetCertificateCommandOutput,
  type RevocationReason,
  type SigningAlgorithm,
} from '@aws-sdk/client-acm-pca'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Name } from '@peculiar/asn1-x509'
import type { Logger } from 'pino'
import { IssuanceError } from '../../errors.js'
import { describeKey } from '../../pki/csr.js'
import { toPem, type Der } from '../../pki/pem.js'
import { x509 } from '../../pki/x509.js'
import {
  SignOutcomeUnknown,
  type CaBackend,
  type CanFetchCrl,
  type CanRecover,
  type RevokeRequest,
  type SignRequest,
  type SignResult,
} from '../backend.js'
import { certificatesFromPem, colonSerial, serialOf, unavailable } from '../external.js'
import type { PcaBackendConfig } from './config.js'

const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9'
/** RFC 6960 §4.2.2.2.1 id-pkix-ocsp-nocheck; its value is DER NULL. */
const OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5'
const DER_NULL_BASE64 = 'BQA='

/** PCA remembers an IdempotencyToken for five minutes; recovery stays well inside that. */
const IDEMPOTENCY_WINDOW_MS = 5 * 60_000 - 30_000

/** RFC 5280 §5.3.1 CRLReason → PCA's RevocationReason. certificateHold (6) and removeFromCRL (8) have none. */
export const pcaRevocationReason: Record<number, RevocationReason> = {
  0: 'UNSPECIFIED',
  1: 'KEY_COMPROMISE',
  2: 'CERTIFICATE_AUTHORITY_COMPROMISE',
  3: 'AFFILIATION_CHANGED',
  4: 'SUPERSEDED',
  5: 'CESSATION_OF_OPERATION',
  9: 'PRIVILEGE_WITHDRAWN',
  10: 'A_A_COMPROMISE',
}

/** The signing algorithm that matches the CA's key (PCA refuses one that does not). */
export function signingAlgorithmFor(caCertDer: Der): SigningAlgorithm {
  const key = describeKey(new Uint8Array(new x509.X509Certificate(caCertDer).publicKey.rawData))
  if (key.kind === 'rsa') return 'SHA256WITHRSA'
  if (key.kind === 'ecdsa') return ({ 'P-256': 'SHA256WITHECDSA', 'P-384': 'SHA384WITHECDSA', 'P-521': 'SHA512WITHECDSA' } as const)[key.curve]
  throw new Error(`pca: the CA key (${key.kind}) has no PCA signing algorithm; set signingAlgorithm`)
}

/**
 * IssueCertificate's IdempotencyToken (≤ 36 characters): the reservation id plus a digest of what is asked, so
 * two deployments whose reservation ids collide within the window cannot be handed each other's certificate.
 */
export function idempotencyToken(req: SignRequest, templateArn: string): string {
  const h = createHash('sha256')
  for (const part of [req.reservationId, templateArn, req.notAfter.toISOString(), Buffer.from(req.csrDer ?? req.publicKeyDer).toString('base64')]) {
    h.update(part).update('\n')
  }
  return h.digest('hex').slice(0, 32)
}

/** The decided subject and SANs as API passthrough values (they override the CSR's in APIPassthrough templates). */
export function apiPassthrough(req: SignRequest): ApiPassthrough {
  const subject = AsnConvert.parse(req.subjectDer, Name)
  const attributes = subject.flatMap((rdn) => rdn.map((atv) => ({ ObjectIdentifier: atv.type, Value: atv.value.toString() })))
  const sans = req.sans.map((s): GeneralName => {
    switch (s.type) {
      case 'dns':
        return { DnsName: s.value }
      case 'ip':
        return { IpAddress: s.value }
      case 'email':
        return { Rfc822Name: s.value }
      case 'uri':
        return { UniformResourceIdentifier: s.value }
    }
  })
  const ocsp = req.extKeyUsage.includes(OCSP_SIGNING)
  return {
    ...(attributes.length ? { Subject: { CustomAttributes: attributes } } : {}),
    Extensions: {
      ...(sans.length ? { SubjectAlternativeNames: sans } : {}),
      ...(ocsp ? { CustomExtensions: [{ ObjectIdentifier: OCSP_NOCHECK, Value: DER_NULL_BASE64, Critical: false }] } : {}),
    },
  }
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000)

/** An AWS error that PCA answered (it has an HTTP status), as opposed to one where the outcome is unknown. */
const answered = (e: unknown) => typeof (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 'number'
const describe = (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`
/** The SDK's errors carry the whole HTTP response; logs get its name, message and request id only. */
const compact = (e: unknown) => {
  const meta = (e as { $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number } }).$metadata
  return Object.assign(new Error(describe(e)), { status: meta?.httpStatusCode, requestId: meta?.requestId, attempts: meta?.attempts })
}

export interface PcaBackendOptions {
  id: string
  config: PcaBackendConfig
  logger: Logger
}

export class PcaBackend implements CaBackend, CanRecover {
  readonly kind = 'pca' as const
  readonly id: string
  /** Reservations of this backend are reconciled this soon: after any sign in flight must have ended, inside PCA's window. */
  readonly recoverAfterSeconds: number
  protected readonly config: PcaBackendConfig
  readonly #client: ACMPCAClient
  readonly #logger: Logger
  #chain: Der[] | undefined
  #algorithm: SigningAlgorithm | undefined
  #ready: { ok: boolean; at: number } | undefined

  constructor(o: PcaBackendOptions) {
    this.id = o.id
    this.config = o.config
    this.#logger = o.logger.child({ backend: o.id })
    this.recoverAfterSeconds = o.config.maxWaitSeconds + 60
    this.#client = new ACMPCAClient({
      region: o.config.region,
      ...(o.config.endpoint ? { endpoint: o.config.endpoint } : {}),
      ...(o.config.credentials ? { credentials: o.config.credentials } : {}),
      // Standard retry mode backs off on ThrottlingException, 5xx and timeouts, up to maxAttempts per call.
      retryMode: 'standard',
      maxAttempts: o.config.maxAttempts,
      requestHandler: { requestTimeout: o.config.requestTimeoutMs, connectionTimeout: o.config.requestTimeoutMs },
    })
  }

  close(): void {
    this.#client.destroy()
  }

  get #ca() {
    return this.config.certificateAuthorityArn
  }

  #templateOf(req: SignRequest): string {
    if (req.extKeyUsage.includes(OCSP_SIGNING)) return this.config.ocspTemplateArn
    return this.config.profileTemplates[req.profile] ?? this.config.templateArn
  }

  async #signingAlgorithm(): Promise<SigningAlgorithm> {
    if (this.config.signingAlgorithm) return this.config.signingAlgorithm
    this.#algorithm ??= signingAlgorithmFor((await this.chain())[0]!)
    return this.#algorithm
  }

  async sign(req: SignRequest): Promise<SignResult> {
    const arn = await this.#issue(req)
    return this.#collect(arn)
  }

  /** IssueCertificate; returns the certificate ARN (the same one for a repeated token inside PCA's window). */
  async #issue(req: SignRequest): Promise<string> {
    if (!req.csrDer) throw unavailable(this.id, 'AWS Private CA signs CSRs only and this request has none')
    const templateArn = this.#templateOf(req)
    try {
      const out = await this.#client.send(
        new IssueCertificateCommand({
          CertificateAuthorityArn: this.#ca,
          Csr: new TextEncoder().encode(toPem(req.csrDer, 'CERTIFICATE REQUEST')),
          SigningAlgorithm: await this.#signingAlgorithm(),
          Validity: { Type: 'ABSOLUTE', Value: seconds(req.notAfter) },
          ValidityNotBefore: { Type: 'ABSOLUTE', Value: seconds(req.notBefore) },
          TemplateArn: templateArn,
          IdempotencyToken: idempotencyToken(req, templateArn),
          ApiPassthrough: apiPassthrough(req),
        }),
      )
      if (!out.CertificateArn) throw new Error('IssueCertificate returned no CertificateArn')
      return out.CertificateArn
    } catch (e) {
      if (e instanceof IssuanceError) throw e
      // No answer (connection reset, timeout): PCA may have accepted it. Same token later → same certificate.
      if (!answered(e)) throw new SignOutcomeUnknown(`CA backend "${this.id}": IssueCertificate: ${describe(e)}`, { cause: compact(e) })
      throw unavailable(this.id, `IssueCertificate: ${describe(e)}`, compact(e))
    }
  }

  /** Waits (bounded) for the certificate, then reads it with its chain. */
  async #collect(certificateArn: string): Promise<SignResult> {
    const input = { CertificateAuthorityArn: this.#ca, CertificateArn: certificateArn }
    let out: GetCertificateCommandOutput | undefined
    try {
      const waited = await waitUntilCertificateIssued(
        {
          client: this.#client,
          maxWaitTime: this.config.maxWaitSeconds,
          minDelay: this.config.pollMinDelaySeconds,
          maxDelay: this.config.pollMaxDelaySeconds,
        },
        input,
      )
      out = waited.reason as GetCertificateCommandOutput | undefined
    } catch (e) {
      // The waiter retries on every error until its time is up; one last read tells pending from failed.
      if ((e as Error).name !== 'TimeoutError') throw unavailable(this.id, `waiting for ${certificateArn}: ${describe(e)}`, compact(e))
    }
    if (!out?.Certificate) {
      try {
        out = await this.#client.send(new GetCertificateCommand(input))
      } catch (e) {
        const name = (e as Error).name
        if (name === 'RequestInProgressException' || !answered(e)) {
          throw new SignOutcomeUnknown(
            `CA backend "${this.id}": ${certificateArn} was not issued within ${this.config.maxWaitSeconds}s (${name})`,
            { cause: compact(e) },
          )
        }
        throw unavailable(this.id, `GetCertificate ${certificateArn}: ${describe(e)}`, compact(e))
      }
    }
    const [certificateDer] = certificatesFromPem(out.Certificate)
    if (!certificateDer) throw unavailable(this.id, `GetCertificate ${certificateArn}: no certificate in the answer`)
    const chainDer = certificatesFromPem(out.CertificateChain)
    return { certificateDer, chainDer: chainDer.length ? chainDer : await this.chain(), serial: serialOf(certificateDer) }
  }

  /**
   * Completes an interrupted sign: IssueCertificate again with the same token returns the certificate PCA made
   * for it (or makes it now). Outside PCA's idempotency window that could issue a second certificate, so the
   * reservation is voided with a reason saying so instead.
   */
  async recover(req: SignRequest): Promise<SignResult | undefined> {
    const age = Date.now() - (req.reservedAt?.getTime() ?? 0)
    if (age > IDEMPOTENCY_WINDOW_MS) {
      throw new IssuanceError(
        'backendUnavailable',
        `reservation is older than AWS Private CA's 5-minute idempotency window; PCA may hold a certificate for token ` +
          `${idempotencyToken(req, this.#templateOf(req))} (see the CA's audit report)`,
      )
    }
    try {
      return await this.#collect(await this.#issue(req))
    } catch (e) {
      // PCA answered that this issuance failed: nothing was issued, the reservation is voided.
      if (e instanceof IssuanceError && /RequestFailedException/.test(e.detail)) return undefined
      throw e
    }
  }

  async revoke(req: RevokeRequest): Promise<void> {
    const reason = pcaRevocationReason[req.reason]
    if (!reason) throw unavailable(this.id, `CRLReason ${req.reason} has no AWS Private CA equivalent`)
    try {
      await this.#client.send(
        new RevokeCertificateCommand({
          CertificateAuthorityArn: this.#ca,
          CertificateSerial: colonSerial(req.serial),
          RevocationReason: reason,
        }),
      )
    } catch (e) {
      // Already revoked at PCA (a retried revocation): the state we wanted.
      if ((e as Error).name === 'RequestAlreadyProcessedException') return
      throw unavailable(this.id, `RevokeCertificate: ${describe(e)}`, compact(e))
    }
  }

  async chain(): Promise<Der[]> {
    if (this.#chain) return this.#chain
    try {
      const out = await this.#client.send(new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: this.#ca }))
      const chain = certificatesFromPem(out.Certificate, out.CertificateChain)
      if (!chain.length) throw new Error('no certificate in the answer')
      this.#chain = chain
      return chain
    } catch (e) {
      throw unavailable(this.id, `GetCertificateAuthorityCertificate: ${describe(e)}`, compact(e))
    }
  }

  /** The CA is ACTIVE (DescribeCertificateAuthority, cached 30 s so probes do not spend the API rate). */
  async ready(): Promise<boolean> {
    if (this.#ready && Date.now() - this.#ready.at < 30_000) return this.#ready.ok
    let ok = false
    try {
      const out = await this.#client.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: this.#ca }))
      ok = out.CertificateAuthority?.Status === 'ACTIVE'
    } catch (e) {
      this.#logger.warn({ err: describe(e) }, 'AWS Private CA readiness check failed')
    }
    this.#ready = { ok, at: Date.now() }
    return ok
  }
}

/** A PCA backend whose published CRL (crlUrl) our CRL endpoint serves, cached. */
export class PcaBackendWithCrl extends PcaBackend implements CanFetchCrl {
  #crl: { der: Der; at: number } | undefined

  async fetchCrl(): Promise<Der> {
    const cached = this.#crl
    if (cached && Date.now() - cached.at < this.config.crlCacheSeconds * 1000) return cached.der
    const url = this.config.crlUrl!
    let res: Response
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.config.requestTimeoutMs) })
    } catch (e) {
      throw unavailable(this.id, `GET ${url}: ${(e as Error).message}`, compact(e))
    }
    if (!res.ok) throw unavailable(this.id, `GET ${url}: HTTP ${res.status}`)
    const bytes = new Uint8Array(await res.arrayBuffer())
    const text = Buffer.from(bytes.subarray(0, 64)).toString('latin1')
    const der = text.includes('-----BEGIN') ? new Uint8Array(Buffer.from(Buffer.from(bytes).toString('latin1').replace(/-----[^-]+-----|\s+/g, ''), 'base64')) : bytes
    this.#crl = { der, at: Date.now() }
    return der
  }

  override async revoke(req: RevokeRequest): Promise<void> {
    await super.revoke(req)
    this.#crl = undefined
  }
}
