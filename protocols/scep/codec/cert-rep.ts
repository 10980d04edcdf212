// RFC 8894 §3.3.2 CertRep: a SignedData signed by the RA, echoing transactionID and senderNonce (as
// recipientNonce), with our own senderNonce, pkiStatus, and failInfo on FAILURE. On SUCCESS the content is the
// pkcsPKIEnvelope (a degenerate certs-only or CRLs-only SignedData encrypted to the requester); on FAILURE and
// PENDING the envelope is omitted — the content is an empty OCTET STRING, which every client we test accepts
// (OpenSSL-based verifiers refuse a SignedData with no content at all).
import { createHash, randomBytes } from 'node:crypto'
import { NULL, octetString, oid, sequence, time, tlv } from '../../../src/pki/der.js'
import type { Der } from '../../../src/pki/pem.js'
import { failInfoCodes, type FailInfo } from '../fail-info.js'
import { contentInfo, digestOid, issuerAndSerialNumber, OID, stringEncoding, type DigestName } from './cms.js'
import { messageTypes } from './pki-message.js'

export const pkiStatusCodes = { SUCCESS: '0', FAILURE: '2', PENDING: '3' } as const
export type PkiStatus = keyof typeof pkiStatusCodes

export interface CertRepSigner {
  certificateDer: Uint8Array
  /** RSASSA-PKCS1-v1_5 over `data` (the RA runs it off the event loop). */
  sign(hash: string, data: Uint8Array): Promise<Uint8Array>
}

export interface CertRep {
  transactionId: string
  /** ASN.1 string tag the request used for transactionID (echoed unchanged). */
  transactionIdTag: number
  /** The request's transactionID octets, echoed exactly; without them the text is encoded as the tag requires. */
  transactionIdOctets?: Uint8Array | undefined
  /** The request's senderNonce. */
  recipientNonce: Uint8Array
  status: PkiStatus
  failInfo?: FailInfo | undefined
  /** SUCCESS only: the sealed pkcsPKIEnvelope. */
  envelope?: Uint8Array | undefined
  /** Digest for the signature: the request's when we support it. */
  digest: DigestName
  signer: CertRepSigner
  now?: Date
}

const printable = (s: string) => tlv(0x13, Buffer.from(s, 'latin1'))
const attribute = (type: string, value: Uint8Array) => sequence(oid(type), tlv(0x31, value))

// The parts that are the same in every CertRep, encoded once.
const fixed = {
  contentType: attribute(OID.contentType, oid(OID.data)),
  messageType: attribute(OID.messageType, printable(String(messageTypes.CertRep))),
  pkiStatus: Object.fromEntries(
    Object.entries(pkiStatusCodes).map(([status, code]) => [status, attribute(OID.pkiStatus, printable(code))]),
  ) as Record<PkiStatus, Uint8Array>,
  failInfo: Object.fromEntries(
    Object.entries(failInfoCodes).map(([name, code]) => [name, attribute(OID.failInfo, printable(code))]),
  ) as Record<FailInfo, Uint8Array>,
  digestAlgorithm: Object.fromEntries(
    Object.entries(digestOid).map(([name, o]) => [name, sequence(oid(o), NULL)]),
  ) as Record<DigestName, Uint8Array>,
  rsaEncryption: sequence(oid(OID.rsaEncryption), NULL),
  version1: Uint8Array.of(0x02, 0x01, 0x01),
  eContentType: oid(OID.data),
}

/** Per RA certificate: its IssuerAndSerialNumber and its certificates [0] field. */
const signerParts = new WeakMap<Uint8Array, { sid: Uint8Array; certificates: Uint8Array }>()

function partsOf(certificateDer: Uint8Array) {
  let parts = signerParts.get(certificateDer)
  if (!parts) {
    parts = { sid: issuerAndSerialNumber(certificateDer), certificates: tlv(0xa0, certificateDer) }
    signerParts.set(certificateDer, parts)
  }
  return parts
}

/** DER SET OF: elements sorted by their encodings (X.690 §11.6). */
function setOf(elements: Uint8Array[]): Der {
  const sorted = [...elements].sort((a, b) => Buffer.compare(a, b))
  return tlv(0x31, ...sorted)
}

export async function encodeCertRep(rep: CertRep): Promise<Der> {
  const content = rep.envelope ?? new Uint8Array(0)
  const digest = rep.digest === 'md5' ? 'sha256' : rep.digest
  const attributes = [
    fixed.contentType,
    attribute(OID.signingTime, time(rep.now ?? new Date())),
    attribute(OID.messageDigest, octetString(createHash(digest).update(content).digest())),
    fixed.messageType,
    fixed.pkiStatus[rep.status],
    ...(rep.status === 'FAILURE' ? [fixed.failInfo[rep.failInfo ?? 'badRequest']] : []),
    attribute(OID.senderNonce, octetString(randomBytes(16))),
    attribute(OID.recipientNonce, octetString(rep.recipientNonce)),
    attribute(OID.transactionID, tlv(rep.transactionIdTag, rep.transactionIdOctets ?? stringEncoding(rep.transactionIdTag, rep.transactionId))),
  ]
  const signedAttrs = setOf(attributes)
  const signature = await rep.signer.sign(digest, signedAttrs)
  const signer = partsOf(rep.signer.certificateDer)
  const digestAlgorithm = fixed.digestAlgorithm[digest]
  const signerInfo = sequence(
    fixed.version1,
    signer.sid,
    digestAlgorithm,
    tlv(0xa0, signedAttrs.subarray(2 + (signedAttrs[1]! & 0x80 ? signedAttrs[1]! & 0x7f : 0))),
    fixed.rsaEncryption,
    octetString(signature),
  )
  const signedData = sequence(
    fixed.version1,
    tlv(0x31, digestAlgorithm),
    sequence(fixed.eContentType, tlv(0xa0, octetString(content))),
    signer.certificates,
    tlv(0x31, signerInfo),
  )
  return contentInfo(OID.signedData, signedData)
}
