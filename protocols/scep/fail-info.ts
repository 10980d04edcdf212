// RFC 8894 §3.2.1.4: failInfo values, and how the domain error is answered in-band. Errors before a request can
// be answered in-band (not a SignedData pkiMessage, or no transactionID / senderNonce / messageType to echo) are
// plain HTTP 400s; everything after is a signed CertRep with pkiStatus FAILURE and one of these failInfo values.
import type { IssuanceErrorKind } from '../../src/errors.js'

export const failInfoCodes = { badAlg: '0', badMessageCheck: '1', badRequest: '2', badTime: '3', badCertId: '4' } as const
export type FailInfo = keyof typeof failInfoCodes

/** A refusal answered with a CertRep FAILURE. */
export class ScepFailure extends Error {
  override readonly name = 'ScepFailure'
  constructor(
    readonly failInfo: FailInfo,
    readonly detail: string,
  ) {
    super(detail)
  }
}

/** A refusal answered with a plain HTTP status and a text/plain explanation (nothing to answer in-band). */
export class ScepHttpError extends Error {
  override readonly name = 'ScepHttpError'
  constructor(
    readonly status: 400 | 404 | 405 | 415 | 503,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail)
  }
}

/**
 * The domain error as SCEP answers it. RFC 8894 has no "try later" failInfo, so a CA that cannot sign right now is
 * an HTTP 503 with Retry-After (the client repeats the same message) rather than a FAILURE it would give up on.
 */
export const failInfoFor: Record<IssuanceErrorKind, FailInfo | 'retryLater'> = {
  badCsr: 'badRequest',
  badRequest: 'badRequest',
  unknownProfile: 'badRequest',
  policyDenied: 'badRequest',
  unauthorized: 'badRequest',
  notFound: 'badCertId',
  conflict: 'badRequest',
  alreadyRevoked: 'badRequest',
  backendUnavailable: 'retryLater',
}
