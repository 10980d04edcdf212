// RFC 9773 renewalInfo: GET <renewalInfo>/<certID> → suggestedWindow (+ explanationURL), Retry-After. The window
// is the last third of the lifetime, moved to now for revoked certificates or when the certificate's CA backend
// or profile is flagged for early renewal (admin API).
import type { CertificateRecord, RenewalFlag } from '../../../src/store/index.js'
import { certIdOf, decodeCertId } from '../codec/cert-id.js'
import type { AcmeContext, AcmeHandler } from '../context.js'
import { AcmeProblem } from '../problems.js'

export interface SuggestedWindow {
  start: Date
  end: Date
  explanationUrl?: string | undefined
}

/** Pure: the window for a certificate given the early-renewal flags (unit-tested). */
export function suggestedWindow(record: CertificateRecord, flags: RenewalFlag[], now: Date, defaultExplanation?: string): SuggestedWindow {
  const notBefore = record.notBefore!.getTime()
  const notAfter = record.notAfter!.getTime()
  const life = notAfter - notBefore
  if (record.status === 'revoked') return { start: new Date(now.getTime() - 2 * 3600_000), end: new Date(now.getTime() - 3600_000) }
  const flag = flags.find((f) => (f.scope === 'backend' && f.name === record.backendId) || (f.scope === 'profile' && f.name === record.profile))
  if (flag && flag.createdAt.getTime() > notBefore) {
    return { start: now, end: new Date(now.getTime() + Math.min(life / 10, 86400_000)), explanationUrl: flag.explanationUrl ?? defaultExplanation }
  }
  return { start: new Date(notAfter - life / 3), end: new Date(notAfter - life / 6) }
}

export const renewalInfo = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const certId = decodeCertId(c.req.param('certId')!)
  const record = await ctx.issuance.find(certId.serial).catch(() => undefined)
  if (!record?.der || certIdOf(record.der).aki !== certId.aki) {
    throw new AcmeProblem('malformed', 'certID names no certificate of this server', { status: 404 })
  }
  const window = suggestedWindow(record, await ctx.store.acme.renewal.flags(), new Date(), ctx.config.acme.renewalInfo.explanationUrl)
  c.header('Retry-After', String(ctx.config.acme.renewalInfo.retryAfterSeconds))
  return c.json({
    suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() },
    ...(window.explanationUrl ? { explanationURL: window.explanationUrl } : {}),
  })
}
