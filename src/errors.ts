// The one protocol-neutral domain error. Each protocol renders it in its own wire form at the edge;
// anything that is not an IssuanceError is an internal error whose detail is logged, never shown.

export type IssuanceErrorKind =
  | 'badCsr'
  | 'badRequest'
  | 'unknownProfile'
  | 'policyDenied'
  | 'unauthorized'
  | 'notFound'
  | 'conflict'
  | 'alreadyRevoked'
  | 'backendUnavailable'

export class IssuanceError extends Error {
  override readonly name = 'IssuanceError'
  constructor(
    readonly kind: IssuanceErrorKind,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(detail, options)
  }
}

export const isIssuanceError = (e: unknown): e is IssuanceError => e instanceof IssuanceError
