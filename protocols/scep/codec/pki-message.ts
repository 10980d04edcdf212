// RFC 8894 §3.2 pkiMessage: a CMS SignedData (RFC 5652 §5) whose signed attributes carry messageType,
// transactionID and senderNonce, and whose content is the pkcsPKIEnvelope. decodePkiMessage() reads it and
// refuses with HTTP 400 what cannot be answered in-band; verifyPkiMessage() checks the signer's signature and
// answers failures with a failInfo.
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { childrenOf, decodeBer, encoding, readOctetString, sameBytes, stringOctets, TAG, type Tlv } from '../../../src/pki/ber.js'
import type { Der } from '../../../src/pki/pem.js'
import { ScepFailure, ScepHttpError } from '../fail-info.js'
import {
  certificateInfo,
  certificateParts,
  digestByOid,
  maskGenDigest,
  OID,
  sameName,
  sameSerial,
  signatureDigest,
  stringText,
  subjectKeyIdentifier,
  taggedDigest,
  taggedInteger,
  type CertificateInfo,
  type DigestName,
} from './cms.js'
import { attributeValues, decodeSignedData, type SignedData, type SignerIdentifier } from './signed-data.js'

export const messageTypes = { CertRep: 3, RenewalReq: 17, PKCSReq: 19, CertPoll: 20, GetCert: 21, GetCRL: 22 } as const
export type MessageTypeName = keyof typeof messageTypes

export interface PkiMessage {
  der: Uint8Array
  /** The messageType attribute as a number (unknown values are kept: they are answered with badRequest). */
  messageType: number
  transactionId: string
  /** ASN.1 tag of the transactionID string (PrintableString usually), so the reply echoes it unchanged. */
  transactionIdTag: number
  /** The transactionID string's content octets as received (segments of a constructed string joined). */
  transactionIdOctets: Uint8Array
  senderNonce: Uint8Array
  /** CertRep only (RFC 8894 §3.2.1.3–§3.2.1.5): pkiStatus and failInfo codes, and the echoed nonce. */
  pkiStatus: string | undefined
  failInfo: string | undefined
  recipientNonce: Uint8Array | undefined
  /** The certificate that signed the message (self-signed for PKCSReq, the old one for RenewalReq). */
  signerCertificate: Der | undefined
  digest: DigestName | undefined
  /** The pkcsPKIEnvelope: the encapsulated content (an EnvelopedData ContentInfo); empty when absent. */
  content: Uint8Array
  /** Internal: what verifyPkiMessage checks. */
  signature: {
    algorithm: string
    parameters: Tlv | undefined
    value: Uint8Array
    signedAttributes: Uint8Array
    messageDigest: Uint8Array | undefined
    digestAlgorithm: string
  }
}

const bad = (detail: string) => new ScepHttpError(400, `not a pkiMessage this server can answer: ${detail}`)

const stringTags = new Set([12, 19, 20, 22, 26, 30]) // UTF8, Printable, Teletex, IA5, Visible, BMP

/** A string attribute value and its (primitive) tag, which the CertRep echoes; undefined for other types. */
function stringValue(v: Tlv | undefined): { value: string; tag: number; octets: Uint8Array } | undefined {
  const tag = v ? v.tag & ~0x20 : 0
  if (!v || !stringTags.has(tag)) return undefined
  const value = stringText(v)
  return value === undefined ? undefined : { value, tag, octets: stringOctets(v) }
}

/** An OCTET STRING attribute value's octets (primitive or constructed), or undefined for anything else. */
function octetsValue(v: Tlv | undefined): Uint8Array | undefined {
  if (!v || (v.tag !== TAG.OCTET_STRING && v.tag !== (TAG.OCTET_STRING | 0x20))) return undefined
  try {
    return readOctetString(v, 'attribute value')
  } catch {
    return undefined
  }
}

const sha1 = (d: Uint8Array) => createHash('sha1').update(d).digest()

function findSignerCertificate(signed: SignedData, sid: SignerIdentifier): Der | undefined {
  const certs = signed.certificates
  for (const der of certs) {
    const parts = certificateParts(der)
    if ('issuerAndSerialNumber' in sid) {
      const want = sid.issuerAndSerialNumber
      if (sameBytes(parts.serialNumber, want.serialNumber) && sameBytes(parts.issuer, want.issuer)) return der.slice()
      // Fall back on a semantic comparison (a client may re-encode the name differently).
      if (sameSerial(parts.serialNumber, want.serialNumber) && sameName(parts.issuer, want.issuer)) return der.slice()
    } else if ('subjectKeyIdentifier' in sid) {
      const ski = sid.subjectKeyIdentifier
      if (sameBytes(sha1(parts.subjectPublicKey), ski)) return der.slice()
      const ext = subjectKeyIdentifier(der)
      if (ext && sameBytes(ext, ski)) return der.slice()
    }
  }
  // A single certificate is taken as the signer's (the signature check decides).
  return certs.length === 1 ? certs[0]!.slice() : undefined
}

/**
 * Reads a pkiMessage. Throws ScepHttpError(400) unless it is a SignedData with one signer whose signed attributes
 * name a messageType, a transactionID and a senderNonce — what a CertRep must echo.
 */
export function decodePkiMessage(der: Uint8Array): PkiMessage {
  try {
    return readPkiMessage(der)
  } catch (e) {
    if (e instanceof ScepHttpError) throw e
    throw bad(`the message is malformed (${(e as Error).message})`)
  }
}

function readPkiMessage(der: Uint8Array): PkiMessage {
  if (der.byteLength === 0) throw bad('the message is empty')
  let root: Tlv
  try {
    root = decodeBer(der)
  } catch {
    throw bad('the message is not one BER value')
  }
  let signed: SignedData
  try {
    signed = decodeSignedData(root)
  } catch (e) {
    throw bad(`the message is not a CMS SignedData (${(e as Error).message})`)
  }
  if (signed.signerInfos.length !== 1) throw bad(`the SignedData has ${signed.signerInfos.length} signers, not 1`)
  const signer = signed.signerInfos[0]!
  if (!signer.signedAttrs || !signer.signedAttrsEncoding) throw bad('the signer has no signed attributes')
  const attrs = attributeValues(signer.signedAttrs)
  const transactionId = stringValue(attrs.get(OID.transactionID))
  if (!transactionId || transactionId.value.length === 0) throw bad('the transactionID attribute is missing')
  const type = stringValue(attrs.get(OID.messageType))
  if (!type || !/^\d{1,4}$/.test(type.value)) throw bad('the messageType attribute is missing or not a number')
  const senderNonce = octetsValue(attrs.get(OID.senderNonce))
  if (!senderNonce) throw bad('the senderNonce attribute is missing')
  if (senderNonce.byteLength === 0 || senderNonce.byteLength > 64) throw bad('the senderNonce is not 1 to 64 octets')
  let signerCertificate: Der | undefined
  try {
    signerCertificate = findSignerCertificate(signed, signer.sid)
  } catch {
    signerCertificate = undefined
  }
  return {
    der,
    messageType: Number(type.value),
    transactionId: transactionId.value,
    transactionIdTag: transactionId.tag,
    transactionIdOctets: transactionId.octets,
    senderNonce,
    pkiStatus: stringValue(attrs.get(OID.pkiStatus))?.value,
    failInfo: stringValue(attrs.get(OID.failInfo))?.value,
    recipientNonce: octetsValue(attrs.get(OID.recipientNonce)),
    signerCertificate,
    digest: digestByOid[signer.digestAlgorithm.algorithm],
    content: signed.encapContentInfo.eContent ?? new Uint8Array(0),
    signature: {
      algorithm: signer.signatureAlgorithm.algorithm,
      parameters: signer.signatureAlgorithm.parameters,
      value: signer.signature,
      signedAttributes: signer.signedAttrsEncoding,
      messageDigest: octetsValue(attrs.get(OID.messageDigest)),
      digestAlgorithm: signer.digestAlgorithm.algorithm,
    },
  }
}

/**
 * RSASSA-PSS-params (RFC 4055 §3.1: hashAlgorithm [0] DEFAULT sha1, maskGenAlgorithm [1] DEFAULT mgf1SHA1,
 * saltLength [2] DEFAULT 20, trailerField [3] DEFAULT 1) as Node's verify options; undefined when not supported.
 */
function pssOptions(params: Tlv | undefined): { hash: DigestName; saltLength: number } | undefined {
  try {
    let hash: DigestName | undefined = 'sha1'
    let mgfHash: DigestName | undefined = 'sha1'
    let saltLength = 20
    let trailerField = 1
    for (const field of childrenOf(params, TAG.SEQUENCE, 'RSASSA-PSS-params')) {
      if (field.tag === 0xa0) hash = taggedDigest(field)
      else if (field.tag === 0xa1) mgfHash = maskGenDigest(field)
      else if (field.tag === 0xa2) saltLength = taggedInteger(field)
      else if (field.tag === 0xa3) trailerField = taggedInteger(field)
    }
    if (!hash || hash !== mgfHash || trailerField !== 1) return undefined
    return { hash, saltLength }
  } catch {
    return undefined
  }
}

/** The signer certificate's public key. Throws badMessageCheck when there is none to use. */
export function signerPublicKey(msg: PkiMessage): KeyObject {
  return signerInfo(msg).publicKey
}

function signerInfo(msg: PkiMessage): CertificateInfo {
  if (!msg.signerCertificate) throw new ScepFailure('badMessageCheck', 'the message carries no certificate of its signer')
  try {
    return certificateInfo(msg.signerCertificate)
  } catch (e) {
    throw new ScepFailure('badMessageCheck', `the signer certificate cannot be read: ${(e as Error).message}`)
  }
}

/**
 * RFC 5652 §5.4, §5.6: the messageDigest attribute matches the content, and the signature over the DER signed
 * attributes verifies with the signer certificate's key. badAlg for algorithms we do not take, badMessageCheck
 * for everything that does not verify.
 */
export function verifyPkiMessage(msg: PkiMessage): void {
  const s = msg.signature
  const digest = msg.digest
  if (!digest || digest === 'md5') throw new ScepFailure('badAlg', `digest algorithm ${s.digestAlgorithm} is not supported`)
  const key = signerPublicKey(msg)
  if (!s.messageDigest) throw new ScepFailure('badMessageCheck', 'the messageDigest attribute is missing')
  const actual = createHash(digest).update(msg.content).digest()
  if (!actual.equals(Buffer.from(s.messageDigest))) throw new ScepFailure('badMessageCheck', 'messageDigest does not match the content')
  let ok: boolean
  try {
    if (s.algorithm === OID.rsassaPss) {
      const pss = pssOptions(s.parameters)
      if (!pss) throw new ScepFailure('badAlg', 'RSASSA-PSS parameters are not supported')
      ok = cryptoVerify(pss.hash, s.signedAttributes, { key, padding: 6, saltLength: pss.saltLength }, s.value)
    } else {
      const fixed = signatureDigest[s.algorithm]
      if (!fixed) throw new ScepFailure('badAlg', `signature algorithm ${s.algorithm} is not supported`)
      const hash = fixed === 'fromDigestAlgorithm' ? digest : fixed
      if (hash === 'md5') throw new ScepFailure('badAlg', 'MD5 signatures are not accepted')
      ok = cryptoVerify(hash, s.signedAttributes, key, s.value)
    }
  } catch (e) {
    if (e instanceof ScepFailure) throw e
    throw new ScepFailure('badMessageCheck', `the signature cannot be checked: ${(e as Error).message}`)
  }
  if (!ok) throw new ScepFailure('badMessageCheck', 'the signature does not verify with the signer certificate')
}

/** Name of a known messageType, or undefined. */
export const messageTypeName = (code: number): MessageTypeName | undefined =>
  (Object.keys(messageTypes) as MessageTypeName[]).find((k) => messageTypes[k] === code)

/** SHA-256 (hex) of the signer's SubjectPublicKeyInfo: who may poll or repeat a transaction. */
export function signerKeyDigest(msg: PkiMessage): string {
  return signerInfo(msg).spkiSha256
}

/** IssuerAndSerialNumber (GetCert, GetCRL: RFC 8894 §3.3.4) and IssuerAndSubject (CertPoll: §3.3.3) contents. */
export function decodeNamePair(der: Uint8Array): { first: Uint8Array; second: Tlv } {
  let items: Tlv[] = []
  try {
    const root = decodeBer(der)
    if (root.tag === TAG.SEQUENCE) items = childrenOf(root, TAG.SEQUENCE, 'name pair')
  } catch {
    items = []
  }
  if (items.length !== 2 || items[0]!.tag !== TAG.SEQUENCE) {
    throw new ScepFailure('badRequest', 'the message data is not an IssuerAndSerialNumber / IssuerAndSubject')
  }
  return { first: encoding(items[0]!), second: items[1]! }
}
