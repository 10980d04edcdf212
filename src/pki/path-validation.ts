// RFC 5280 §6 certification path validation, reduced to what client authentication needs: a chain from the
// presented certificate through the presented intermediates to one of our trust anchors, with signatures,
// validity periods, CA constraints and the leaf's extended key usage checked. No policy or name constraints
// processing, and no revocation (callers check their own inventory).
import { x509 } from './x509.js'
import type { Der } from './pem.js'

export const ekuClientAuth = '1.3.6.1.5.5.7.3.2'
const ekuAny = '2.5.29.37.0'
const MAX_INTERMEDIATES = 6

export type PathResult =
  | { ok: true; leaf: x509.X509Certificate; anchor: x509.X509Certificate }
  | { ok: false; reason: string }

export interface PathOptions {
  /** Validation time; default now. */
  at?: Date
  /** The leaf must carry this extended key usage when it has the extension at all (RFC 5280 §4.2.1.12). */
  extendedKeyUsage?: string
}

/** Trust anchors parsed once; `has` matches by exact DER. */
export class TrustAnchors {
  readonly certificates: x509.X509Certificate[]
  readonly #der: Set<string>
  constructor(ders: Der[]) {
    this.certificates = ders.map((d) => new x509.X509Certificate(d))
    this.#der = new Set(ders.map((d) => Buffer.from(d).toString('base64')))
  }
  has(cert: x509.X509Certificate): boolean {
    return this.#der.has(Buffer.from(cert.rawData).toString('base64'))
  }
}

const within = (c: x509.X509Certificate, at: Date) => c.notBefore <= at && at <= c.notAfter

async function signedBy(child: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  if (child.issuer !== issuer.subject) return false
  try {
    return await child.verify({ publicKey: issuer.publicKey, signatureOnly: true })
  } catch {
    return false
  }
}

/** RFC 5280 §6.1.4 (k), (l), (n): an issuer in the path must be a CA allowed to sign certificates. */
function caProblem(c: x509.X509Certificate, below: number): string | undefined {
  const bc = c.getExtension(x509.BasicConstraintsExtension)
  if (!bc?.ca) return `"${c.subject}" is not a CA certificate`
  if (bc.pathLength !== undefined && below > bc.pathLength) return `"${c.subject}" path length constraint exceeded`
  const ku = c.getExtension(x509.KeyUsagesExtension)
  if (ku && !(ku.usages & x509.KeyUsageFlags.keyCertSign)) return `"${c.subject}" may not sign certificates`
  return undefined
}

/**
 * Validates `leafDer` up to one of `anchors`, using `intermediates` (as the peer sent them, in any order).
 * The anchor itself is trusted as configured: its validity period is checked, its constraints are not.
 */
export async function validatePath(
  leafDer: Der,
  intermediates: Der[],
  anchors: TrustAnchors,
  options: PathOptions = {},
): Promise<PathResult> {
  const at = options.at ?? new Date()
  let leaf: x509.X509Certificate
  let pool: x509.X509Certificate[]
  try {
    leaf = new x509.X509Certificate(leafDer)
    pool = intermediates.map((d) => new x509.X509Certificate(d))
  } catch (e) {
    return { ok: false, reason: `certificate cannot be parsed: ${(e as Error).message}` }
  }
  if (!within(leaf, at)) return { ok: false, reason: `certificate "${leaf.subject}" is expired or not yet valid` }
  if (options.extendedKeyUsage) {
    const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension)
    const usages = eku?.usages.map(String)
    if (usages && !usages.includes(options.extendedKeyUsage) && !usages.includes(ekuAny)) {
      return { ok: false, reason: `certificate "${leaf.subject}" is not valid for ${options.extendedKeyUsage}` }
    }
  }
  if (anchors.has(leaf)) return { ok: true, leaf, anchor: leaf }
  let current = leaf
  for (let depth = 0; depth <= MAX_INTERMEDIATES; depth++) {
    for (const anchor of anchors.certificates) {
      if (!(await signedBy(current, anchor))) continue
      if (!within(anchor, at)) return { ok: false, reason: `trust anchor "${anchor.subject}" is expired` }
      return { ok: true, leaf, anchor }
    }
    let next: x509.X509Certificate | undefined
    for (const candidate of pool) {
      if (await signedBy(current, candidate)) {
        next = candidate
        break
      }
    }
    if (!next) break
    const problem = caProblem(next, depth) ?? (within(next, at) ? undefined : `"${next.subject}" is expired`)
    if (problem) return { ok: false, reason: problem }
    pool = pool.filter((c) => c !== next)
    current = next
  }
  return { ok: false, reason: `certificate "${leaf.subject}" does not chain to a trusted CA` }
}
