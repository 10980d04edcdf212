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
  /** The requester's PKCS#10 request as received (CAs that only sign CSRs need it); absent for records without one. */
  csrDer?: Der | undefined
  /** When the write-ahead record was made (backends whose idempotency tokens expire need it to recover safely). */
  reservedAt?: Date | undefined
}

export interface SignResult {
  certificateDer: Der
  /** Issuer chain, issuing CA first, excluding the certificate itself. */
  chainDer: Der[]
  /**
   * The serial the CA actually used, in inventory form (lowercase hex, see pki/serial.ts), when the CA chooses its
   * own serial (Vault, AWS Private CA) rather than the one reserved in SignRequest. The inventory records this one.
   */
  serial?: string | undefined
  /** Validity as signed, when the backend knows it without parsing (saves a parse on the hot path). */
  notBefore?: Date | undefined
  notAfter?: Date | undefined
}

/**
 * Thrown by `sign` when the CA accepted the request but its outcome is not known yet (a bounded wait ran out):
 * the certificate may still be issued, so the reservation stays open for the reconciler (which needs CanRecover)
 * instead of being marked failed. The caller's request fails all the same.
 */
export class SignOutcomeUnknown extends Error {
  override readonly name = 'SignOutcomeUnknown'
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
  /**
   * The certificate the CA made for this request, or undefined when it made none (the reservation is voided).
   * Throws IssuanceError when it cannot tell and never will (the reservation is voided with that detail); any
   * other error leaves the reservation for the next round.
   */
  recover(req: SignRequest): Promise<SignResult | undefined>
  /** Reconcile this backend's reservations after this many seconds instead of the configured default. */
  readonly recoverAfterSeconds?: number
}
export const canRecover = (b: CaBackend): b is CaBackend & CanRecover => 'recover' in b

/** Optional: the CA publishes its own CRL (Vault, AWS Private CA); the CRL endpoint serves a cached copy of it. */
export interface CanFetchCrl {
  /** The CA's current complete CRL, DER. */
  fetchCrl(): Promise<Der>
}
export const canFetchCrl = (b: CaBackend): b is CaBackend & CanFetchCrl =>
  typeof (b as Partial<CanFetchCrl>).fetchCrl === 'function'

/** A certificate whose key the CA generated (server-side key generation), as the CA returned it. */
export interface KeyedSignResult extends SignResult {
  /** RFC 5958 OneAsymmetricKey (PKCS#8) DER. */
  privateKeyPkcs8: Der
}

/** What the key escrow holds for one certificate. */
export interface EscrowedKey {
  certificateDer: Der
  privateKeyPkcs8: Der
  chainDer: Der[]
  serial: string
  /** Version of the escrow record (a renewal writes a new version; old versions are kept). */
  version: number
}

/**
 * Optional: the CA generates the key pair itself (Vault `issue/<role>`), and keeps the private key in escrow
 * (Vault KV v2), for EST serverkeygen and the admin API's "issue with key". An escrow record is named by the
 * inventory id of the first certificate of a renewal line, so a renewal becomes a new version of the same record.
 */
export interface CanGenerateKey {
  issueWithKey(req: SignRequest): Promise<KeyedSignResult>
  /** Writes a new version of the escrow record; returns the version written. */
  escrowKey(escrowId: string, key: Omit<EscrowedKey, 'version'> & { certificateId: string; notAfter: Date }): Promise<number>
  /** The escrowed key of the certificate with this serial under `escrowId`; undefined when none is held. */
  escrowedKey(escrowId: string, serial: string): Promise<EscrowedKey | undefined>
}
export const canGenerateKey = (b: CaBackend): b is CaBackend & CanGenerateKey => 'issueWithKey' in b

/**
 * Optional: the backend comes with a secret store (Vault KV v2), where the server keeps its own long-lived keys
 * (the SCEP RA key) instead of the data dir. Each put writes a new version; get reads the latest.
 */
export interface CanKeepSecrets {
  putSecret(name: string, data: Record<string, string>): Promise<void>
  /** The latest version of the secret, or undefined when none was written. */
  getSecret(name: string): Promise<Record<string, string> | undefined>
  /** Where a secret lives, for logs and messages (e.g. `secret/data/enroll/scep-ra/vault/ra`). */
  secretLocation(name: string): string
}
export const canKeepSecrets = (b: CaBackend): b is CaBackend & CanKeepSecrets => 'putSecret' in b

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
