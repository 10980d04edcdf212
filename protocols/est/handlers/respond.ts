// Encoded EST answers shared by the handlers: certs-only bodies (RFC 7030 §4.1.3, §4.2.3) and the 202 of a
// request awaiting approval.
import type { Context } from 'hono'
import type { IssueOutcome } from '../../../src/issuance/types.js'
import type { Der } from '../../../src/pki/pem.js'
import { base64Body, CERTS_ONLY, encodeCertsOnly } from '../codec.js'
import type { EstEnv } from '../context.js'

export const base64Headers = (contentType: string) => ({ 'Content-Type': contentType, 'Content-Transfer-Encoding': 'base64' })

export const certsOnly = (c: Context<EstEnv>, certificates: Der[]) =>
  c.body(base64Body(encodeCertsOnly(certificates), c.get('label').config.base64LineLength), 200, base64Headers(CERTS_ONLY))

/**
 * RFC 7030 §4.2.3: the issued certificate alone, or 202 + Retry-After while the request awaits approval — the
 * client then repeats the same request, which heldOutcome() recognises.
 */
export function enrollmentResponse(c: Context<EstEnv>, outcome: IssueOutcome, retryAfterSeconds: number) {
  if (outcome.status === 'issued') return certsOnly(c, [outcome.certificateDer])
  return c.text(
    `request ${outcome.certificate.id} awaits approval; send the same request again in ${retryAfterSeconds} s\n`,
    202,
    { 'Retry-After': String(retryAfterSeconds) },
  )
}
