// RFC 7030 §4.2.3 and RFC 8951: EST reports errors with the HTTP status and a human-readable text/plain body.
// One table maps the domain error onto statuses; the compiler checks it covers every kind.
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { IssuanceErrorKind } from '../../src/errors.js'

/** A protocol-level refusal, raised by EST's own checks (authentication, media types, codec). */
export class EstError extends Error {
  override readonly name = 'EstError'
  constructor(
    readonly status: ContentfulStatusCode,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail)
  }
}

/** 401 with the Basic challenge (RFC 7617); `realm` names the label so a client can tell which users apply. */
export const basicChallenge = (realm: string, detail: string) =>
  new EstError(401, detail, { 'WWW-Authenticate': `Basic realm="${realm}", charset="UTF-8"` })

export const statusFor: Record<IssuanceErrorKind, ContentfulStatusCode> = {
  badCsr: 400,
  badRequest: 400,
  unknownProfile: 404,
  policyDenied: 403,
  unauthorized: 403,
  notFound: 404,
  conflict: 409,
  alreadyRevoked: 409,
  backendUnavailable: 503,
}
