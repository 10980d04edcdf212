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
  caGenerated: 'ca.generated',
  serverStarted: 'server.started',
} as const
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction]
