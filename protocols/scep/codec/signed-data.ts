// RFC 5652 §5 SignedData, read by position from the BER walk (src/pki/ber.ts): the shapes below follow §5.1–§5.3
// with their field names; values stay raw encodings (views into the message) for the SCEP codec to interpret. Only
// the structure is checked here — what pkijs's schema check refused is refused here too, with a BerError.
import {
  algorithmIdentifier,
  BerError,
  children,
  childrenOf,
  encoding,
  expectTag,
  oidString,
  readOctetString,
  TAG,
  type AlgorithmIdentifier,
  type Tlv,
} from '../../../src/pki/ber.js'
import { certificateParts, nameAttributes, OID } from './cms.js'

/** Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue } (RFC 5652 §5.3) */
export interface Attribute {
  attrType: string
  attrValues: Tlv[]
}

/** IssuerAndSerialNumber (§10.2.4) as raw encodings: the issuer Name and the serial number INTEGER. */
export interface IssuerAndSerialNumber {
  issuer: Uint8Array
  serialNumber: Uint8Array
}

/** SignerIdentifier ::= CHOICE { issuerAndSerialNumber, subjectKeyIdentifier [0] } (§5.3) */
export type SignerIdentifier =
  | { issuerAndSerialNumber: IssuerAndSerialNumber }
  | { subjectKeyIdentifier: Uint8Array }
  /** [0] in the constructed form: not matched to any certificate. */
  | { other: Tlv }

/** SignerInfo (§5.3). */
export interface SignerInfo {
  sid: SignerIdentifier
  digestAlgorithm: AlgorithmIdentifier
  signedAttrs: Attribute[] | undefined
  /** What the signature covers (§5.4): the signedAttrs encoding as received, with the SET OF tag in place of [0]. */
  signedAttrsEncoding: Uint8Array | undefined
  signatureAlgorithm: AlgorithmIdentifier
  signature: Uint8Array
}

/** EncapsulatedContentInfo ::= SEQUENCE { eContentType, eContent [0] EXPLICIT OCTET STRING OPTIONAL } (§5.2) */
export interface EncapsulatedContentInfo {
  eContentType: string
  /** The content octets; undefined when eContent is absent. */
  eContent: Uint8Array | undefined
}

/**
 * SignedData (§5.1). certificates: the CertificateChoices in the plain Certificate form; crls: the
 * RevocationInfoChoices (whole encodings, in order).
 */
export interface SignedData {
  digestAlgorithms: AlgorithmIdentifier[]
  encapContentInfo: EncapsulatedContentInfo
  certificates: Uint8Array[]
  crls: Uint8Array[]
  signerInfos: SignerInfo[]
}

/** IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber CertificateSerialNumber } */
export function readIssuerAndSerialNumber(v: Tlv, what: string): IssuerAndSerialNumber {
  const [issuer, serialNumber] = childrenOf(v, TAG.SEQUENCE, what)
  expectTag(issuer, TAG.SEQUENCE, `${what} issuer`)
  expectTag(serialNumber, TAG.INTEGER, `${what} serialNumber`)
  nameAttributes(encoding(issuer))
  return { issuer: encoding(issuer), serialNumber: encoding(serialNumber) }
}

function readAttributes(v: Tlv, what: string): Attribute[] {
  return children(v).map((a) => {
    const [attrType, attrValues] = childrenOf(a, TAG.SEQUENCE, `${what} attribute`)
    return { attrType: oidString(attrType, `${what} attribute type`), attrValues: childrenOf(attrValues, TAG.SET, `${what} attribute values`) }
  })
}

function readSignerInfo(v: Tlv): SignerInfo {
  const fields = childrenOf(v, TAG.SEQUENCE, 'SignerInfo')
  let i = 0
  expectTag(fields[i++], TAG.INTEGER, 'SignerInfo version')
  const sidField = fields[i++]
  if (!sidField) throw new BerError('SignerInfo sid is missing')
  let sid: SignerIdentifier
  if (sidField.tag === TAG.SEQUENCE) sid = { issuerAndSerialNumber: readIssuerAndSerialNumber(sidField, 'SignerInfo sid') }
  else if (sidField.tag === 0x80) sid = { subjectKeyIdentifier: sidField.bytes.subarray(sidField.contentStart, sidField.contentEnd) }
  else if (sidField.tag === 0xa0) sid = { other: sidField }
  else throw new BerError('SignerInfo sid is neither an IssuerAndSerialNumber nor a subjectKeyIdentifier')
  const digestAlgorithm = algorithmIdentifier(fields[i++], 'SignerInfo digestAlgorithm')
  let signedAttrs: Attribute[] | undefined
  let signedAttrsEncoding: Uint8Array | undefined
  if (fields[i]?.tag === 0xa0) {
    const attrs = fields[i++]!
    signedAttrs = readAttributes(attrs, 'signed')
    signedAttrsEncoding = Uint8Array.from(encoding(attrs))
    signedAttrsEncoding[0] = TAG.SET
  }
  const signatureAlgorithm = algorithmIdentifier(fields[i++], 'SignerInfo signatureAlgorithm')
  const signature = readOctetString(fields[i++], 'SignerInfo signature')
  if (fields[i]?.tag === 0xa1) readAttributes(fields[i]!, 'unsigned')
  return { sid, digestAlgorithm, signedAttrs, signedAttrsEncoding, signatureAlgorithm, signature }
}

/** Reads ContentInfo { signedData, [0] SignedData } from its BER walk. Throws BerError when it is not that. */
export function decodeSignedData(contentInfo: Tlv): SignedData {
  const [contentType, explicit] = childrenOf(contentInfo, TAG.SEQUENCE, 'ContentInfo')
  const type = oidString(contentType, 'ContentInfo contentType')
  if (type !== OID.signedData) throw new BerError(`content type ${type} is not signedData`)
  const [signedData] = childrenOf(explicit, 0xa0, 'ContentInfo content')
  const fields = childrenOf(signedData, TAG.SEQUENCE, 'SignedData')
  let i = 0
  expectTag(fields[i++], TAG.INTEGER, 'SignedData version')
  const digestAlgorithms = childrenOf(fields[i++], TAG.SET, 'SignedData digestAlgorithms').map((a) => algorithmIdentifier(a, 'digestAlgorithm'))
  const [eContentType, eContentField] = childrenOf(fields[i++], TAG.SEQUENCE, 'EncapsulatedContentInfo')
  let eContent: Uint8Array | undefined
  if (eContentField) {
    const [value] = childrenOf(eContentField, 0xa0, 'eContent')
    if (!value) throw new BerError('eContent [0] is empty')
    eContent = readOctetString(value, 'eContent')
  }
  const certificates: Uint8Array[] = []
  if (fields[i]?.tag === 0xa0) {
    for (const choice of children(fields[i++]!)) {
      // CertificateChoices (§10.2.2): the other choices are [0]–[3] alternatives no SCEP client sends.
      if (choice.tag !== TAG.SEQUENCE) continue
      const cert = encoding(choice)
      certificateParts(cert)
      certificates.push(cert)
    }
  }
  const crls = fields[i]?.tag === 0xa1 ? children(fields[i++]!).map(encoding) : []
  const signerInfos = childrenOf(fields[i], TAG.SET, 'SignedData signerInfos').map(readSignerInfo)
  return { digestAlgorithms, encapContentInfo: { eContentType: oidString(eContentType, 'eContentType'), eContent }, certificates, crls, signerInfos }
}

/** The first value of each attribute type, by type (later duplicates are ignored, as pkijs-based code did). */
export function attributeValues(attrs: Attribute[]): Map<string, Tlv> {
  const map = new Map<string, Tlv>()
  for (const a of attrs) if (a.attrValues[0] && !map.has(a.attrType)) map.set(a.attrType, a.attrValues[0])
  return map
}
