// The RFC 5652 (CMS) pieces SCEP messages are made of: object identifiers, algorithm names, the certificate fields
// that IssuerAndSerialNumber and key identifiers come from, and Name comparison. Shared by the pkiMessage, envelope
// and CertRep codecs. Everything reads by position from the BER walk (src/pki/ber.ts).
import { createHash, X509Certificate, type KeyObject } from 'node:crypto'
import {
  algorithmIdentifier,
  BerError,
  children,
  childrenOf,
  contents,
  decodeBer,
  encoding,
  expectTag,
  oidString,
  readOctetString,
  sameBytes,
  stringOctets,
  TAG,
  type Tlv,
} from '../../../src/pki/ber.js'
import { oid, sequence, tlv } from '../../../src/pki/der.js'
import type { Der } from '../../../src/pki/pem.js'
import { canonicalPublicKey } from '../../../src/pki/public-key.js'

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  rsassaPss: '1.2.840.113549.1.1.10',
  // RFC 8894 §3.2.1: SCEP authenticated attributes (VeriSign arc).
  messageType: '2.16.840.1.113733.1.9.2',
  pkiStatus: '2.16.840.1.113733.1.9.3',
  failInfo: '2.16.840.1.113733.1.9.4',
  senderNonce: '2.16.840.1.113733.1.9.5',
  recipientNonce: '2.16.840.1.113733.1.9.6',
  transactionID: '2.16.840.1.113733.1.9.7',
} as const

export type DigestName = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'md5'

export const digestByOid: Record<string, DigestName> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.2.840.113549.2.5': 'md5',
}
export const digestOid: Record<DigestName, string> = Object.fromEntries(
  Object.entries(digestByOid).map(([o, n]) => [n, o]),
) as Record<DigestName, string>

/** Signature algorithms that fix the digest; rsaEncryption and ecPublicKey take it from digestAlgorithm. */
export const signatureDigest: Record<string, DigestName | 'fromDigestAlgorithm'> = {
  '1.2.840.113549.1.1.1': 'fromDigestAlgorithm',
  '1.2.840.10045.2.1': 'fromDigestAlgorithm',
  '1.2.840.113549.1.1.4': 'md5',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
}

export type ContentCipher = 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc' | 'des-ede3-cbc' | 'des-cbc'
export const cipherByOid: Record<string, ContentCipher> = {
  '1.3.14.3.2.7': 'des-cbc',
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc',
  '2.16.840.1.101.3.4.1.22': 'aes-192-cbc',
  '2.16.840.1.101.3.4.1.42': 'aes-256-cbc',
  '1.2.840.113549.3.7': 'des-ede3-cbc',
}
export const cipherOid: Record<ContentCipher, string> = Object.fromEntries(
  Object.entries(cipherByOid).map(([o, n]) => [n, o]),
) as Record<ContentCipher, string>
export const cipherKeyLength: Record<ContentCipher, number> = {
  'aes-128-cbc': 16,
  'aes-192-cbc': 24,
  'aes-256-cbc': 32,
  'des-ede3-cbc': 24,
  'des-cbc': 8,
}
export const cipherIvLength: Record<ContentCipher, number> = {
  'aes-128-cbc': 16,
  'aes-192-cbc': 16,
  'aes-256-cbc': 16,
  'des-ede3-cbc': 8,
  'des-cbc': 8,
}

/**
 * Node's cipher name and key for a content cipher. Single DES is not in OpenSSL 3's default provider; DES-EDE3
 * with the key repeated three times is the same function (EDE with K1 = K2 = K3 is one DES encryption).
 */
export function nodeCipher(cipher: ContentCipher, key: Uint8Array): { name: string; key: Buffer } {
  if (cipher === 'des-cbc') return { name: 'des-ede3-cbc', key: Buffer.concat([key, key, key]) }
  return { name: cipher, key: Buffer.from(key) }
}

/** The parts of an X.509 Certificate (RFC 5280 §4.1) the SCEP codecs use: raw encodings, read by position. */
export interface CertificateParts {
  /** The serialNumber INTEGER (whole encoding). */
  serialNumber: Uint8Array
  /** The issuer Name (whole encoding). */
  issuer: Uint8Array
  /** The SubjectPublicKeyInfo (whole encoding). */
  subjectPublicKeyInfo: Uint8Array
  /** The subjectPublicKey BIT STRING's bits (RFC 5280 §4.2.1.2 method 1 hashes these). */
  subjectPublicKey: Uint8Array
  /** The [3] extensions, when present. */
  extensions: Tlv | undefined
}

const partsCache = new WeakMap<Uint8Array, CertificateParts>()

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } and TBSCertificate's fields up
 * to subjectPublicKeyInfo, by position; memoized per buffer. Throws BerError when the shape is not a certificate's.
 */
export function certificateParts(certificateDer: Uint8Array): CertificateParts {
  let parts = partsCache.get(certificateDer)
  if (!parts) partsCache.set(certificateDer, (parts = readCertificate(certificateDer)))
  return parts
}

const TIME_TAGS = new Set([0x17, 0x18])

/** Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue): all RDNs flattened, in order. */
function attributesOf(name: Tlv | undefined, what: string): { type: string; value: Tlv }[] {
  const out: { type: string; value: Tlv }[] = []
  for (const rdn of childrenOf(name, TAG.SEQUENCE, what)) {
    for (const atv of childrenOf(rdn, TAG.SET, `${what} RelativeDistinguishedName`)) {
      const [type, value] = childrenOf(atv, TAG.SEQUENCE, `${what} AttributeTypeAndValue`)
      if (!value) throw new BerError(`${what} AttributeTypeAndValue has no value`)
      out.push({ type: oidString(type, `${what} AttributeType`), value })
    }
  }
  return out
}

/** The shape of RFC 5280 §4.1 Certificate, field by field (the checks pkijs's Certificate schema made). */
function readCertificate(der: Uint8Array): CertificateParts {
  const [tbs, signatureAlgorithm, signatureValue] = childrenOf(decodeBer(der), TAG.SEQUENCE, 'Certificate')
  algorithmIdentifier(signatureAlgorithm, 'Certificate signatureAlgorithm')
  expectTag(signatureValue, TAG.BIT_STRING, 'Certificate signatureValue')
  const fields = childrenOf(tbs, TAG.SEQUENCE, 'TBSCertificate')
  let i = 0
  if (fields[0]?.tag === 0xa0) expectTag(childrenOf(fields[i++], 0xa0, 'version')[0], TAG.INTEGER, 'version')
  const serialNumber = fields[i++]
  expectTag(serialNumber, TAG.INTEGER, 'TBSCertificate serialNumber')
  algorithmIdentifier(fields[i++], 'TBSCertificate signature')
  const issuer = fields[i++]
  attributesOf(issuer, 'TBSCertificate issuer')
  const validity = childrenOf(fields[i++], TAG.SEQUENCE, 'TBSCertificate validity')
  if (!validity.slice(0, 2).every((t) => TIME_TAGS.has(t.tag)) || validity.length < 2) throw new BerError('TBSCertificate validity is not two Times')
  attributesOf(fields[i++], 'TBSCertificate subject')
  const spki = fields[i++]
  const [keyAlgorithm, bits] = childrenOf(spki, TAG.SEQUENCE, 'TBSCertificate subjectPublicKeyInfo')
  algorithmIdentifier(keyAlgorithm, 'subjectPublicKeyInfo algorithm')
  expectTag(bits, TAG.BIT_STRING, 'subjectPublicKey')
  if (fields[i]?.tag === 0x81) i++
  if (fields[i]?.tag === 0x82) i++
  let extensions: Tlv | undefined
  if (fields[i]?.tag === 0xa3) {
    extensions = fields[i]!
    for (const ext of childrenOf(childrenOf(extensions, 0xa3, 'extensions')[0], TAG.SEQUENCE, 'Extensions')) {
      const [extnID, second, third] = childrenOf(ext, TAG.SEQUENCE, 'Extension')
      oidString(extnID, 'extnID')
      const value = second?.tag === TAG.BOOLEAN ? third : second
      readOctetString(value, 'extnValue')
    }
  }
  const key = contents(bits)
  return {
    serialNumber: encoding(serialNumber),
    issuer: encoding(issuer!),
    subjectPublicKeyInfo: encoding(spki!),
    subjectPublicKey: key.subarray(1),
    extensions,
  }
}

/** The raw encodings of a certificate's issuer Name and serial INTEGER (no re-encoding); memoized per buffer. */
export function issuerAndSerialParts(certificateDer: Uint8Array): { issuer: Uint8Array; serial: Uint8Array } {
  const parts = certificateParts(certificateDer)
  return { issuer: parts.issuer, serial: parts.serialNumber }
}

/** The keyIdentifier of a certificate's subjectKeyIdentifier extension (RFC 5280 §4.2.1.2), when it has one. */
export function subjectKeyIdentifier(certificateDer: Uint8Array): Uint8Array | undefined {
  const { extensions } = certificateParts(certificateDer)
  if (!extensions) return undefined
  const [list] = children(extensions)
  for (const ext of childrenOf(list, TAG.SEQUENCE, 'Extensions')) {
    const [extnID, second, third] = childrenOf(ext, TAG.SEQUENCE, 'Extension')
    if (oidString(extnID, 'extnID') !== '2.5.29.14') continue
    const value = readOctetString(second?.tag === TAG.BOOLEAN ? third : second, 'extnValue')
    return readOctetString(decodeBer(value), 'SubjectKeyIdentifier')
  }
  return undefined
}

/** AttributeTypeAndValue (RFC 5280 §4.1.2.4) of a Name, all RDNs flattened in order. Throws BerError when malformed. */
export const nameAttributes = (nameDer: Uint8Array) => attributesOf(decodeBer(nameDer), 'Name')

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The content octets of `text` as a string of this universal tag (the inverse of stringText). */
export function stringEncoding(tag: number, text: string): Uint8Array {
  switch (tag) {
    case 12:
      return Buffer.from(text, 'utf8')
    case 30: {
      const out = Buffer.alloc(text.length * 2)
      for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), 2 * i)
      return out
    }
    case 28: {
      const points = [...text].map((c) => c.codePointAt(0)!)
      const out = Buffer.alloc(points.length * 4)
      points.forEach((cp, i) => out.writeUInt32BE(cp, 4 * i))
      return out
    }
    default:
      return Buffer.from(text, 'latin1')
  }
}

/**
 * The text of a universal string value (UTF8, BMP, Universal or one of the 8-bit types), primitive or constructed
 * (X.690 §8.23.6: segments as for an OCTET STRING); undefined for anything else.
 */
export function stringText(v: Tlv): string | undefined {
  if (v.tag & 0xc0) return undefined
  let b: Uint8Array
  try {
    b = stringOctets(v)
  } catch {
    return undefined
  }
  switch (v.tag & ~0x20) {
    case 12:
      try {
        return utf8.decode(b)
      } catch {
        return Buffer.from(b).toString('latin1')
      }
    case 30: {
      let text = ''
      for (let i = 0; i + 1 < b.length; i += 2) text += String.fromCharCode((b[i]! << 8) | b[i + 1]!)
      return text
    }
    case 28: {
      let text = ''
      for (let i = 0; i + 3 < b.length; i += 4) {
        const cp = b[i]! * 0x1000000 + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!
        text += String.fromCodePoint(cp > 0x10ffff ? 0xfffd : cp)
      }
      return text
    }
    case 18:
    case 19:
    case 20:
    case 21:
    case 22:
    case 25:
    case 26:
    case 27:
    case 29:
      return Buffer.from(b).toString('latin1')
    default:
      return undefined
  }
}

/** Trimmed, inner runs of spaces collapsed to one, lower case (RFC 5280 §7.1's comparison, as pkijs does it). */
function prepared(s: string): string {
  return s.trim().replace(/ +/g, ' ').toLowerCase()
}

/**
 * Whether two Names are the same when their encodings differ (a client may re-encode a name): same attribute types
 * in the same order, string values equal after case folding and space collapsing, other values byte for byte.
 */
export function sameName(a: Uint8Array, b: Uint8Array): boolean {
  if (sameBytes(a, b)) return true
  let x: { type: string; value: Tlv }[]
  let y: { type: string; value: Tlv }[]
  try {
    x = nameAttributes(a)
    y = nameAttributes(b)
  } catch {
    return false
  }
  if (x.length !== y.length) return false
  return x.every((ax, i) => {
    const bx = y[i]!
    if (ax.type !== bx.type) return false
    const [s, t] = [stringText(ax.value), stringText(bx.value)]
    if ((s === undefined) !== (t === undefined)) return false
    if (s !== undefined && t !== undefined) return prepared(s).localeCompare(prepared(t)) === 0
    return sameBytes(encoding(ax.value), encoding(bx.value))
  })
}

/** The contents of two INTEGER encodings are equal (CertificateSerialNumber comparison). */
export function sameSerial(a: Uint8Array, b: Uint8Array): boolean {
  if (sameBytes(a, b)) return true
  try {
    return sameBytes(contents(decodeBer(a)), contents(decodeBer(b)))
  } catch {
    return false
  }
}

/** IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber CertificateSerialNumber } (RFC 5652 §10.2.4) */
export function issuerAndSerialNumber(certificateDer: Uint8Array): Der {
  const { issuer, serial } = issuerAndSerialParts(certificateDer)
  return sequence(issuer, serial)
}

/** ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content } */
export const contentInfo = (type: string, content: Uint8Array) => sequence(oid(type), tlv(0xa0, content))

/** SignedData without signers carrying certificates and/or CRLs (RFC 8894 §3.4 "degenerate" certs-only). */
export function degenerate(certificates: Uint8Array[], crls: Uint8Array[] = []): Der {
  const signedData = sequence(
    Uint8Array.of(0x02, 0x01, 0x01),
    Uint8Array.of(0x31, 0x00),
    sequence(oid(OID.data)),
    ...(certificates.length ? [tlv(0xa0, ...certificates)] : []),
    ...(crls.length ? [tlv(0xa1, ...crls)] : []),
    Uint8Array.of(0x31, 0x00),
  )
  return contentInfo(OID.signedData, signedData)
}

// RFC 4055 algorithm parameters (RSASSA-PSS, RSAES-OAEP) use explicitly tagged optional fields.
/** A hash AlgorithmIdentifier inside explicit tagging ([n] { AlgorithmIdentifier }) → its digest name. */
export function taggedDigest(v: Tlv): DigestName | undefined {
  const [alg] = childrenOf(v, v.tag, 'tagged AlgorithmIdentifier')
  return digestByOid[algorithmIdentifier(alg, 'hash algorithm').algorithm]
}

/** MaskGenAlgorithm [1] { AlgorithmIdentifier { mgf1, hash AlgorithmIdentifier } } → the MGF1 hash (sha1 when absent). */
export function maskGenDigest(v: Tlv): DigestName | undefined {
  const [alg] = childrenOf(v, v.tag, 'maskGenAlgorithm')
  const { parameters } = algorithmIdentifier(alg, 'maskGenAlgorithm')
  return parameters ? digestByOid[algorithmIdentifier(parameters, 'MGF hash').algorithm] : 'sha1'
}

/** A small non-negative INTEGER inside explicit tagging. */
export function taggedInteger(v: Tlv): number {
  const [int] = childrenOf(v, v.tag, 'tagged INTEGER')
  expectTag(int, TAG.INTEGER, 'tagged INTEGER')
  const c = contents(int)
  if (c.length === 0 || c.length > 4 || c[0]! & 0x80) throw new BerError('not a small INTEGER')
  return c.reduce((n, b) => n * 256 + b, 0)
}

/** What the codec needs of a certificate, read once per buffer. */
export interface CertificateInfo {
  publicKey: KeyObject
  isRsa: boolean
  /** SHA-256 (hex) of the DER SubjectPublicKeyInfo. */
  spkiSha256: string
}
const infoCache = new WeakMap<Uint8Array, CertificateInfo>()

export function certificateInfo(certificateDer: Uint8Array): CertificateInfo {
  let info = infoCache.get(certificateDer)
  if (!info) {
    // A canonically encoded key (what clients send) is imported from its JWK without a certificate parse: OpenSSL 3
    // decodes the certificate's key through its decoder framework, ~0.15 ms per self-signed signer here. Any other
    // encoding goes through OpenSSL, which accepts or refuses it, and is digested as OpenSSL writes it back.
    const raw = certificateParts(certificateDer).subjectPublicKeyInfo
    const canonical = canonicalPublicKey(raw)
    const publicKey = canonical ?? new X509Certificate(certificateDer).publicKey
    const isRsa = publicKey.asymmetricKeyType === 'rsa'
    const spki = canonical ? raw : publicKey.export({ format: 'der', type: 'spki' })
    info = { publicKey, isRsa, spkiSha256: createHash('sha256').update(spki).digest('hex') }
    infoCache.set(certificateDer, info)
  }
  return info
}
