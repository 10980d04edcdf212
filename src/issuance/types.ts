// What protocols hand to the issuance service, and what they get back.
import type { Identifier, ParsedCsr } from '../pki/csr.js'
import type { Der } from '../pki/pem.js'
import type { CertificateRecord } from '../store/index.js'

export type Protocol = 'acme' | 'est' | 'scep' | 'admin' | 'cli' | 'system'

export interface IssueRequest {
  /** Parsed and signature-checked by src/pki/csr parseCsr. */
  csr: ParsedCsr
  /** Profile name; default "default". */
  profile?: string | undefined
  protocol: Protocol
  /** Who asked: ACME account URL, EST user or client certificate, admin API key name. */
  requester: string
  /** Identifiers the protocol validated itself (ACME); otherwise the CSR's SANs are checked by policy. */
  identifiers?: Identifier[] | undefined
  /**
   * Inventory id of the certificate this request renews (EST simplereenroll). It must be valid, not superseded, of
   * the same profile, and name the same subject and SANs as what policy decides now; once the new certificate is
   * issued (or approved and issued), the old one is marked superseded by it.
   */
  replaces?: string | undefined
  notBefore?: Date | undefined
  notAfter?: Date | undefined
  requestId?: string | undefined
  /**
   * A UUID naming the protocol's own record of this request (a SCEP transaction), stored with the certificate from
   * its reservation on, so the protocol finds the certificate by it without linking the two afterwards.
   */
  requestRef?: string | undefined
}

/** How a protocol wants its request issued, beside what it asks for. */
export interface IssueOptions {
  /** The CA generates the key pair (EST serverkeygen) where the backend can. */
  caGeneratesKey?: boolean | undefined
  /**
   * Builds the protocol's reply from the signed certificate while the certificate is being recorded (the reply is
   * handed back only once the record is durable). A reply that fails to build is dropped: the protocol builds it
   * again from the outcome.
   */
  replyWhileRecording?: ((certificateDer: Der, chainDer: Der[]) => Promise<Der>) | undefined
}

export type IssueOutcome =
  | { status: 'issued'; certificate: CertificateRecord; certificateDer: Der; chainDer: Der[]; reply?: Der | undefined }
  | { status: 'pending'; certificate: CertificateRecord }

export interface RevokeInput {
  /** Inventory id or serial (normalized hex); one of them. */
  id?: string | undefined
  serial?: string | undefined
  /** RFC 5280 CRLReason code. */
  reason: number
  /** RFC 5280 §5.3.2: when the key is known or suspected to have been compromised. */
  invalidityDate?: Date | undefined
  actor: string
  protocol: Protocol
  requestId?: string | undefined
}
