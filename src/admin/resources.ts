// Wire shapes of the admin API, converted from inventory records by named functions.
import { x509 } from '../pki/x509.js'
import { toPem } from '../pki/pem.js'
import { reasonName } from '../pki/revocation-reason.js'
import type { AuditEvent, CertificateRecord } from '../store/index.js'

const iso = (d: Date | null) => (d ? d.toISOString() : null)

/** Stored status, with "expired" for valid certificates past notAfter. */
export const effectiveStatus = (r: CertificateRecord, now = Date.now()) =>
  r.status === 'valid' && r.notAfter && r.notAfter.getTime() <= now ? 'expired' : r.status

export const toCertificateSummary = (r: CertificateRecord) => ({
  id: r.id,
  serial: r.serial,
  status: effectiveStatus(r),
  profile: r.profile,
  backend: r.backendId,
  protocol: r.protocol,
  requester: r.requester,
  subject: r.subject,
  sans: r.sans,
  notBefore: iso(r.notBefore),
  notAfter: iso(r.notAfter),
  fingerprintSha256: r.fingerprintSha256,
  createdAt: iso(r.createdAt),
  issuedAt: iso(r.issuedAt),
  revokedAt: iso(r.revokedAt),
  revocationReason: r.revocationReason === null ? null : (reasonName(r.revocationReason) ?? r.revocationReason),
  failure: r.failure,
  decidedBy: r.decidedBy,
})

/** One certificate with its PEM and the fields parsed back from the DER. */
export function toCertificateResource(r: CertificateRecord) {
  const summary = toCertificateSummary(r)
  if (!r.der) return { ...summary, pem: null, parsed: null }
  const cert = new x509.X509Certificate(r.der)
  return {
    ...summary,
    pem: toPem(r.der, 'CERTIFICATE'),
    parsed: {
      subject: cert.subject,
      issuer: cert.issuer,
      serialNumber: cert.serialNumber,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      signatureAlgorithm: cert.signatureAlgorithm.name,
      publicKeyAlgorithm: cert.publicKey.algorithm.name,
      extensions: cert.extensions.map((e) => ({ oid: e.type, critical: e.critical, value: e.toString('text') })),
    },
  }
}

export const toAuditResource = (e: AuditEvent) => ({
  id: e.id,
  at: e.at.toISOString(),
  action: e.action,
  actor: e.actor,
  protocol: e.protocol ?? null,
  certificateId: e.certificateId ?? null,
  serial: e.serial ?? null,
  requestId: e.requestId ?? null,
  detail: e.detail,
})
