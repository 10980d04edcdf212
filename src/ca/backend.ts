// The CA backend contract: a small required core plus optional capabilities found by checking.
// A backend signs what it is told to sign; policy was decided before it is called.
import type { KeyUsageName } from '../config/schema.js'
import type { Identifier } from '../pki/csr.js'
import type { Der } from '../pki/pem.js'

export interface SignRequest {
  /** Write-ahead record id; backends that support it use it as an idempotency token. */
  reservationId: string
  /** Hex serial reserved in the inventory (backends that choose their own serial return it). */
  serial: string
  profile: string
  subjectDer: Der
  publicKeyDer: Der
  /** Subject alternative names, already validated by policy. */
  sans: Identifier[]
  notBefore: Date
  notAfter: Date
  keyUsage: KeyUsageName[]
  /** Extended key usage OIDs. */
  extKeyUsage: string[]
}

export interface SignResult {
  certificateDer: Der
  /** Issuer chain, issuing CA first, excluding the certificate itself. */
  chainDer: Der[]
}

export interface RevokeRequest {
  serial: string
  /** RFC 5280 §5.3.1 CRLReason code. */
  reason: number
  revokedAt: Date
}

export interface CaBackend {
  readonly id: string
  readonly kind: 'local' | 'vault' | 'pca'
  sign(req: SignRequest): Promise<SignResult>
  /** Tells the CA (where it keeps its own revocation state). The inventory is updated by the caller. */
  revoke(req: RevokeRequest): Promise<void>
  /** CA certificates, issuing CA first, root last. */
  chain(): Promise<Der[]>
  /** Readiness: the backend can sign now. */
  ready(): Promise<boolean>
}

/** Optional: a backend that can tell whether an interrupted sign completed on its side (idempotency). */
export interface CanRecover {
  recover(req: SignRequest): Promise<SignResult | undefined>
}
export const canRecover = (b: CaBackend): b is CaBackend & CanRecover => 'recover' in b
