// The RFC 5652 (CMS) pieces SCEP messages are made of: object identifiers, algorithm names, BER helpers and
// IssuerAndSerialNumber. Shared by the pkiMessage, envelope and CertRep codecs.
import { createHash, X509Certificate, type KeyObject } from 'node:crypto'
import * as asn1js from 'asn1js'
import { oid, sequence, tlv } from '../../../src/pki/der.js'
import type { Der } from '../../../src/pki/pem.js'

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

/** Parses exactly one BER value; undefined when the bytes are not that (asn1js throws on some garbage). */
export function parseBer(der: Uint8Array): asn1js.AsnType | undefined {
  try {
    const parsed = asn1js.fromBER(der)
    if (parsed.offset === -1 || parsed.offset !== der.byteLength) return undefined
    return parsed.result
  } catch {
    return undefined
  }
}

/**
 * The content octets of an OCTET STRING, joining the segments of a constructed (BER) one. A primitive OCTET STRING
 * may also carry `valueBlock.value` (asn1js parses encapsulated BER): only the constructed form has segments.
 */
export function octets(block: asn1js.BaseBlock): Uint8Array {
  if (block.idBlock.tagClass === 1 && block.idBlock.tagNumber !== 4) throw new Error('not an OCTET STRING')
  if (block.idBlock.isConstructed) {
    const segments = (block as asn1js.Constructed).valueBlock.value
    if (!Array.isArray(segments)) throw new Error('malformed constructed OCTET STRING')
    const parts = segments.map(octets)
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
    let at = 0
    for (const p of parts) {
      out.set(p, at)
      at += p.byteLength
    }
    return out
  }
  const hex = (block as asn1js.OctetString).valueBlock.valueHexView
  if (!(hex instanceof Uint8Array)) throw new Error('malformed OCTET STRING')
  return new Uint8Array(hex)
}

const partsCache = new WeakMap<Uint8Array, { issuer: Uint8Array; serial: Uint8Array }>()

/** The raw encodings of a certificate's issuer Name and serial INTEGER (no re-encoding); memoized per buffer. */
export function issuerAndSerialParts(certificateDer: Uint8Array): { issuer: Uint8Array; serial: Uint8Array } {
  let parts = partsCache.get(certificateDer)
  if (!parts) partsCache.set(certificateDer, (parts = readIssuerAndSerial(certificateDer)))
  return parts
}

function readIssuerAndSerial(certificateDer: Uint8Array): { issuer: Uint8Array; serial: Uint8Array } {
  const cert = parseBer(certificateDer)
  const tbs = (cert as asn1js.Sequence | undefined)?.valueBlock.value[0] as asn1js.Sequence | undefined
  const fields = tbs?.valueBlock.value ?? []
  const at = fields[0]?.idBlock.tagClass === 3 ? 1 : 0
  const serial = fields[at]
  const issuer = fields[at + 2]
  if (!serial || !issuer) throw new Error('not an X.509 certificate')
  return { issuer: new Uint8Array(issuer.valueBeforeDecodeView), serial: new Uint8Array(serial.valueBeforeDecodeView) }
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

/** What the codec needs of a certificate, read once per buffer with Node's native X.509 parser. */
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
    const publicKey = new X509Certificate(certificateDer).publicKey
    info = {
      publicKey,
      isRsa: publicKey.asymmetricKeyType === 'rsa',
      spkiSha256: createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex'),
    }
    infoCache.set(certificateDer, info)
  }
  return info
}
