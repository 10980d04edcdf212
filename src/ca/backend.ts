// The CA backend contract: a small required core plus optional capabilities found by checking.
// A backend signs what it is told to sign; policy was decided before it is called.
import type { KeyUsageName } from '../config/schema.js'
import type { Identifier } from '../pki/csr.js'
import type { Der } from '../pki/pem.js'
import type { PkiUrls } from './urls.js'

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

/** What a CRL builder needs from a CA that signs its own CRLs (the local CA). */
export interface CrlSigner {
  issuerNameDer: Der
  /** Subject key identifier of the issuing CA, for the CRL's Authority Key Identifier. */
  keyIdentifier: Der
  /** AlgorithmIdentifier DER of the signature. */
  signatureAlgorithmDer: Der
  /** 0: one CRL; N: partitioned into N shards. */
  shards: number
  urls: PkiUrls
  /** Signs a DER TBSCertList; returns the signatureValue bits (DER Ecdsa-Sig-Value for ECDSA). */
  sign(tbs: Der): Promise<Der>
}

/** Optional: the backend signs CRLs with its own key (otherwise the backend's CRL is served). */
export interface CanSignCrl {
  crlSigner(): CrlSigner
}
export const canSignCrl = (b: CaBackend): b is CaBackend & CanSignCrl => 'crlSigner' in b
