// RFC 5280 §5.3.1 CRLReason codes, by their ASN.1 names.
export const revocationReasons = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const
export type RevocationReasonName = keyof typeof revocationReasons

/**
 * Reasons a revocation request may carry. certificateHold is excluded (holds are not supported: a revocation
 * is final, as the CA/Browser Forum requires) and removeFromCRL only appears in delta CRLs.
 */
export const requestableReasons: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 9, 10])

export function reasonName(code: number): RevocationReasonName | undefined {
  return (Object.keys(revocationReasons) as RevocationReasonName[]).find((k) => revocationReasons[k] === code)
}

/** Accepts a code (number or numeric string) or a name; undefined when it is neither. */
export function parseReason(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isInteger(input) && reasonName(input) ? input : undefined
  if (typeof input !== 'string') return undefined
  if (/^\d+$/.test(input)) return parseReason(Number(input))
  // Own keys only: `toString` or `__proto__` must not resolve to something inherited from Object.prototype.
  return Object.hasOwn(revocationReasons, input) ? (revocationReasons as Record<string, number>)[input] : undefined
}
