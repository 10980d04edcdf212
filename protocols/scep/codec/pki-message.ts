// RFC 8894 §3.2 pkiMessage: a CMS SignedData (RFC 5652 §5) whose signed attributes carry messageType,
// transactionID and senderNonce, and whose content is the pkcsPKIEnvelope. decodePkiMessage() reads it and
// refuses with HTTP 400 what cannot be answered in-band; verifyPkiMessage() checks the signer's signature and
// answers failures with a failInfo.
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import type { Der } from '../../../src/pki/pem.js'
import { ScepFailure, ScepHttpError } from '../fail-info.js'
import { certificateInfo, digestByOid, issuerAndSerialParts, octets, OID, parseBer, signatureDigest, type CertificateInfo, type DigestName } from './cms.js'

export const messageTypes = { CertRep: 3, RenewalReq: 17, PKCSReq: 19, CertPoll: 20, GetCert: 21, GetCRL: 22 } as const
export type MessageTypeName = keyof typeof messageTypes

export interface PkiMessage {
  der: Uint8Array
  /** The messageType attribute as a number (unknown values are kept: they are answered with badRequest). */
  messageType: number
  transactionId: string
  /** ASN.1 tag of the transactionID string (PrintableString usually), so the reply echoes it unchanged. */
  transactionIdTag: number
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
    parameters: asn1js.AsnType | undefined
    value: Uint8Array
    signedAttributes: Uint8Array
    messageDigest: Uint8Array | undefined
    digestAlgorithm: string
  }
}

const bad = (detail: string) => new ScepHttpError(400, `not a pkiMessage this server can answer: ${detail}`)

/** Attribute values by type (first value of each). */
function attributeMap(attrs: pkijs.Attribute[]): Map<string, asn1js.AsnType> {
  const map = new Map<string, asn1js.AsnType>()
  for (const a of attrs) if (a.values[0] && !map.has(a.type)) map.set(a.type, a.values[0] as asn1js.AsnType)
  return map
}

const stringTags = new Set([12, 19, 20, 22, 26, 30]) // UTF8, Printable, Teletex, IA5, Visible, BMP

function stringValue(v: asn1js.AsnType | undefined): { value: string; tag: number } | undefined {
  if (!v || v.idBlock.tagClass !== 1 || !stringTags.has(v.idBlock.tagNumber)) return undefined
  const value = (v as asn1js.PrintableString).valueBlock.value
  return typeof value === 'string' ? { value, tag: v.idBlock.tagNumber } : undefined
}

function findSignerCertificate(signed: pkijs.SignedData, sid: pkijs.SignerInfo['sid']): Der | undefined {
  const certs = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
  for (const cert of certs) {
    const der = new Uint8Array(cert.toSchema().toBER(false))
    if (sid instanceof pkijs.IssuerAndSerialNumber) {
      const parts = issuerAndSerialParts(der)
      const want = { issuer: new Uint8Array(sid.issuer.toSchema().toBER(false)), serial: new Uint8Array(sid.serialNumber.toBER(false)) }
      if (Buffer.from(parts.serial).equals(Buffer.from(want.serial)) && Buffer.from(parts.issuer).equals(Buffer.from(want.issuer))) return der
      // Fall back on a semantic comparison (a client may re-encode the name differently).
      if (cert.serialNumber.isEqual(sid.serialNumber) && cert.issuer.isEqual(sid.issuer)) return der
    } else if (sid instanceof asn1js.Primitive || sid instanceof asn1js.OctetString) {
      const ski = Buffer.from((sid as asn1js.OctetString).valueBlock.valueHexView)
      const spkiBits = Buffer.from(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
      if (createHash('sha1').update(spkiBits).digest().equals(ski)) return der
      const ext = cert.extensions?.find((e) => e.extnID === '2.5.29.14')
      const inner = ext ? parseBer(new Uint8Array(ext.extnValue.valueBlock.valueHexView)) : undefined
      if (inner && Buffer.from((inner as asn1js.OctetString).valueBlock.valueHexView).equals(ski)) return der
    }
  }
  // A single certificate is taken as the signer's (the signature check decides).
  return certs.length === 1 ? new Uint8Array(certs[0]!.toSchema().toBER(false)) : undefined
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
  const parsed = parseBer(der)
  if (!parsed) throw bad('the message is not one BER value')
  let signed: pkijs.SignedData
  try {
    const ci = new pkijs.ContentInfo({ schema: parsed })
    if (ci.contentType !== OID.signedData) throw new Error(`content type ${ci.contentType} is not signedData`)
    signed = new pkijs.SignedData({ schema: ci.content })
  } catch (e) {
    throw bad(`the message is not a CMS SignedData (${(e as Error).message})`)
  }
  if (signed.signerInfos.length !== 1) throw bad(`the SignedData has ${signed.signerInfos.length} signers, not 1`)
  const signer = signed.signerInfos[0]!
  if (!signer.signedAttrs) throw bad('the signer has no signed attributes')
  const attrs = attributeMap(signer.signedAttrs.attributes)
  const transactionId = stringValue(attrs.get(OID.transactionID))
  if (!transactionId || transactionId.value.length === 0) throw bad('the transactionID attribute is missing')
  const type = stringValue(attrs.get(OID.messageType))
  if (!type || !/^\d{1,4}$/.test(type.value)) throw bad('the messageType attribute is missing or not a number')
  const nonce = attrs.get(OID.senderNonce)
  if (!(nonce instanceof asn1js.OctetString)) throw bad('the senderNonce attribute is missing')
  const senderNonce = octets(nonce)
  if (senderNonce.byteLength === 0 || senderNonce.byteLength > 64) throw bad('the senderNonce is not 1 to 64 octets')
  const md = attrs.get(OID.messageDigest)
  const eContent = signed.encapContentInfo.eContent
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
    senderNonce,
    pkiStatus: stringValue(attrs.get(OID.pkiStatus))?.value,
    failInfo: stringValue(attrs.get(OID.failInfo))?.value,
    recipientNonce: attrs.get(OID.recipientNonce) instanceof asn1js.OctetString ? octets(attrs.get(OID.recipientNonce)!) : undefined,
    signerCertificate,
    digest: digestByOid[signer.digestAlgorithm.algorithmId],
    content: eContent ? octets(eContent) : new Uint8Array(0),
    signature: {
      algorithm: signer.signatureAlgorithm.algorithmId,
      parameters: signer.signatureAlgorithm.algorithmParams as asn1js.AsnType | undefined,
      value: new Uint8Array(signer.signature.valueBlock.valueHexView),
      signedAttributes: new Uint8Array(signer.signedAttrs.encodedValue),
      messageDigest: md instanceof asn1js.OctetString ? octets(md) : undefined,
      digestAlgorithm: signer.digestAlgorithm.algorithmId,
    },
  }
}

/** RSASSA-PSS parameters (RFC 4055 §3.1) as Node's verify options, or undefined when not supported. */
function pssOptions(params: asn1js.AsnType | undefined): { hash: DigestName; saltLength: number } | undefined {
  try {
    const p = new pkijs.RSASSAPSSParams({ schema: params })
    const hash = digestByOid[p.hashAlgorithm.algorithmId]
    const mgfHash = p.maskGenAlgorithm.algorithmParams
      ? digestByOid[new pkijs.AlgorithmIdentifier({ schema: p.maskGenAlgorithm.algorithmParams }).algorithmId]
      : 'sha1'
    if (!hash || hash !== mgfHash || p.trailerField !== 1) return undefined
    return { hash, saltLength: p.saltLength }
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
export function decodeNamePair(der: Uint8Array): { first: Uint8Array; second: asn1js.BaseBlock } {
  const parsed = parseBer(der)
  const items = parsed instanceof asn1js.Sequence ? parsed.valueBlock.value : []
  if (items.length !== 2 || !(items[0] instanceof asn1js.Sequence)) {
    throw new ScepFailure('badRequest', 'the message data is not an IssuerAndSerialNumber / IssuerAndSubject')
  }
  return { first: new Uint8Array(items[0].valueBeforeDecodeView), second: items[1]! }
}
