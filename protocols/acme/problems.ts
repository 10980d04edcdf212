// RFC 8555 §6.7 problem documents (RFC 7807), plus RFC 9773 alreadyReplaced and the profiles draft's invalidProfile.
// One error class; rendered into application/problem+json only at the edge (index.ts onError).
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { IssuanceError, IssuanceErrorKind } from '../../src/errors.js'

/** The problem types we emit, with their HTTP status. */
export const problemStatus = {
  accountDoesNotExist: 400,
  alreadyReplaced: 409,
  alreadyRevoked: 400,
  badCSR: 400,
  badNonce: 400,
  badPublicKey: 400,
  badRevocationReason: 400,
  badSignatureAlgorithm: 400,
  caa: 403,
  compound: 400,
  connection: 400,
  dns: 400,
  externalAccountRequired: 400,
  incorrectResponse: 403,
  invalidContact: 400,
  invalidProfile: 400,
  malformed: 400,
  orderNotReady: 403,
  rateLimited: 429,
  rejectedIdentifier: 400,
  serverInternal: 500,
  tls: 400,
  unauthorized: 403,
  unsupportedContact: 400,
  unsupportedIdentifier: 400,
  userActionRequired: 403,
} as const satisfies Record<string, ContentfulStatusCode>
export type ProblemType = keyof typeof problemStatus

export const problemUrn = (type: ProblemType) => `urn:ietf:params:acme:error:${type}`

/** Exhaustive: adding an IssuanceErrorKind fails to compile until ACME maps it. */
export const problemFor: Record<IssuanceErrorKind, ProblemType> = {
  badCsr: 'badCSR',
  badRequest: 'malformed',
  unknownProfile: 'invalidProfile',
  policyDenied: 'rejectedIdentifier',
  unauthorized: 'unauthorized',
  notFound: 'malformed',
  conflict: 'malformed',
  alreadyRevoked: 'alreadyRevoked',
  backendUnavailable: 'serverInternal',
}

/** Status overrides for kinds whose ACME type is generic. */
export const statusFor: Partial<Record<IssuanceErrorKind, ContentfulStatusCode>> = {
  notFound: 404,
  conflict: 409,
  backendUnavailable: 503,
}

export interface ProblemIdentifier {
  type: string
  value: string
}

export interface ProblemDocument {
  type: string
  detail: string
  status: number
  subproblems?: { type: string; detail: string; identifier: ProblemIdentifier }[]
  [extra: string]: unknown
}

export interface ProblemOptions {
  status?: ContentfulStatusCode
  subproblems?: { type: ProblemType; detail: string; identifier: ProblemIdentifier }[]
  /** Response headers (Location on a 409, Retry-After on rateLimited). */
  headers?: Record<string, string>
  /** Extra members (`algorithms` on badSignatureAlgorithm, `identifier`). */
  extra?: Record<string, unknown>
}

export class AcmeProblem extends Error {
  override readonly name = 'AcmeProblem'
  constructor(
    readonly type: ProblemType,
    readonly detail: string,
    readonly options: ProblemOptions = {},
  ) {
    super(`${type}: ${detail}`)
  }

  get status(): ContentfulStatusCode {
    return this.options.status ?? problemStatus[this.type]
  }

  toDocument(): ProblemDocument {
    const doc: ProblemDocument = { type: problemUrn(this.type), detail: this.detail, status: this.status }
    if (this.options.subproblems?.length) {
      doc.subproblems = this.options.subproblems.map((s) => ({ ...s, type: problemUrn(s.type) }))
    }
    return { ...doc, ...this.options.extra }
  }
}

export const isAcmeProblem = (e: unknown): e is AcmeProblem => e instanceof AcmeProblem

/** The domain error in ACME form (RFC 8555 §6.7), through the exhaustive table above. */
export function fromIssuanceError(e: IssuanceError): AcmeProblem {
  const status = statusFor[e.kind]
  return new AcmeProblem(problemFor[e.kind], e.detail, status ? { status } : {})
}
