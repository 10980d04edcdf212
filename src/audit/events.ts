// The audit vocabulary: every action written to audit_events, in one place.
export const AuditAction = {
  requested: 'certificate.requested',
  issued: 'certificate.issued',
  failed: 'certificate.failed',
  voided: 'certificate.voided',
  approved: 'request.approved',
  rejected: 'request.rejected',
  revoked: 'certificate.revoked',
  superseded: 'certificate.superseded',
  revokeBackendFailed: 'certificate.revoke_backend_failed',
  keyEscrowed: 'certificate.key_escrowed',
  keyBundleRead: 'certificate.key_bundle_read',
  caGenerated: 'ca.generated',
  serverStarted: 'server.started',
  scepChallengeCreated: 'scep.challenge_created',
  scepChallengeRevoked: 'scep.challenge_revoked',
} as const
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction]
