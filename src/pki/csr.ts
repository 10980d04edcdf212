// RFC 2986 PKCS#10 certification requests: parse, verify the self-signature, and describe the key. The request is
// read by position (ber.ts) and its signature checked with node:crypto; @peculiar/x509 reads only the subject Name,
// the SAN extension and the challengePassword, whose text forms callers depend on (parsing the whole request into its
// object model and verifying through WebCrypto cost ~1.5 ms per request).
import { verify as cryptoVerify } from 'node:crypto'
import { x509 } from './x509.js'
import { id_pkcs9_at_challengePassword, id_pkcs9_at_extensionRequest } from '@peculiar/asn1-pkcs9'
import { children, childrenOf, contents, decodeBer, encoding, expectTag, isDer, oidString, TAG, type Tlv } from './ber.js'
import { AsnConvert } from '@peculiar/asn1-schema'
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509'
import { IssuanceError } from '../errors.js'
import { fromPem, isPem, type Der } from './pem.js'
import { publicKeyFromSpki } from './public-key.js'
import { plainChallengePassword, plainName, plainRequestedSans } from './csr-fields.js'

export type IdentifierType = 'dns' | 'ip' | 'email' | 'uri'
export interface Identifier {
  type: IdentifierType
  value: string
}

export type KeyInfo =
  | { kind: 'rsa'; bits: number }
  | { kind: 'ecdsa'; curve: 'P-256' | 'P-384' | 'P-521' }
  | { kind: 'ed25519' }
  | { kind: 'unsupported'; oid: string }

export interface ParsedCsr {
  der: Der
  /** RFC 4514 string of the requested subject. */
  subject: string
  /** DER of the requested subject Name. */
  subjectDer: Der
  commonName: string | undefined
  /** SANs requested in the extensionRequest attribute, in order. */
  requestedSans: Identifier[]
  /** DER SubjectPublicKeyInfo. */
  publicKeyDer: Der
  key: KeyInfo
  /** PKCS#9 challengePassword, when present (SCEP, EST PoP linking). */
  challengePassword: string | undefined
}

const curveOids: Record<string, 'P-256' | 'P-384' | 'P-521'> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
}

/**
 * Describes a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): algorithm and size. Read by position — it runs for every
 * request, and parsing it through @peculiar/asn1-schema cost ~0.3 ms.
 */
export function describeKey(spkiDer: Uint8Array): KeyInfo {
  const [algorithm, key] = childrenOf(decodeBer(spkiDer), TAG.SEQUENCE, 'SubjectPublicKeyInfo')
  const [algorithmId, parameters] = childrenOf(algorithm, TAG.SEQUENCE, 'algorithm')
  const oid = oidString(algorithmId, 'algorithm')
  expectTag(key, TAG.BIT_STRING, 'subjectPublicKey')
  if (oid === '1.2.840.113549.1.1.1') {
    // RFC 8017 §A.1.1 RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    const [n, e] = childrenOf(decodeBer(contents(key).subarray(1)), TAG.SEQUENCE, 'RSAPublicKey')
    expectTag(n, TAG.INTEGER, 'modulus')
    expectTag(e, TAG.INTEGER, 'publicExponent')
    const modulus = contents(n)
    let i = 0
    while (i < modulus.length && modulus[i] === 0) i++
    const bits = (modulus.length - i) * 8 - (modulus[i] ? Math.clz32(modulus[i]!) - 24 : 8)
    return { kind: 'rsa', bits }
  }
  if (oid === '1.2.840.10045.2.1') {
    // RFC 5480 §2.1.1 ECParameters: only namedCurve is supported (implicitCurve and specifiedCurve are not).
    const curveOid = parameters?.tag === TAG.OID ? oidString(parameters, 'namedCurve') : ''
    const curve = curveOids[curveOid]
    return curve ? { kind: 'ecdsa', curve } : { kind: 'unsupported', oid: `1.2.840.10045.2.1/${curveOid}` }
  }
  if (oid === '1.3.101.112') return { kind: 'ed25519' }
  return { kind: 'unsupported', oid }
}

function toIdentifier(name: x509.GeneralName): Identifier | undefined {
  switch (name.type) {
    case 'dns':
      return { type: 'dns', value: name.value.toLowerCase() }
    case 'ip':
      return { type: 'ip', value: name.value }
    case 'email':
      return { type: 'email', value: name.value }
    case 'url':
      return { type: 'uri', value: name.value }
    default:
      return undefined
  }
}

/** One DER TLV at `at`: where its content starts and ends (definite lengths only). */
function tlvAt(der: Uint8Array, at: number): { tag: number; start: number; end: number } {
  const tag = der[at]
  let length = der[at + 1]
  if (tag === undefined || length === undefined) throw new Error('truncated')
  let start = at + 2
  if (length & 0x80) {
    const n = length & 0x7f
    if (n === 0 || n > 3) throw new Error('unsupported length')
    length = 0
    for (let i = 0; i < n; i++) length = length * 256 + (der[start + i] ?? NaN)
    start += n
  }
  const end = start + length
  if (!(end <= der.length)) throw new Error('truncated')
  return { tag, start, end }
}

/**
 * The parts outside the signed CertificationRequestInfo must be encoded as DER says, not merely verify: the
 * signatureAlgorithm's parameters absent, NULL (RSA PKCS#1 v1.5, RFC 4055 §5) or a SEQUENCE (RSASSA-PSS), the
 * signature a BIT STRING without unused bits and, for ECDSA, an Ecdsa-Sig-Value SEQUENCE of two minimal INTEGERs
 * (RFC 3279 §2.2.3). The verifying library reads both leniently, so without this one signed request would have
 * many accepted encodings.
 */
function requireDerSignature(der: Uint8Array, key: KeyInfo): void {
  const fail = () => new IssuanceError('badCsr', 'CSR signature is not DER-encoded')
  try {
    const outer = tlvAt(der, 0)
    const tbs = tlvAt(der, outer.start)
    const algorithm = tlvAt(der, tbs.end)
    const algorithmOid = tlvAt(der, algorithm.start)
    if (algorithm.tag !== 0x30 || algorithmOid.tag !== 0x06) throw fail()
    if (algorithmOid.end !== algorithm.end) {
      const params = tlvAt(der, algorithmOid.end)
      const isNull = params.tag === 0x05 && params.end === params.start
      const pss = Buffer.from(der.subarray(algorithmOid.start, algorithmOid.end)).toString('hex') === '2a864886f70d01010a'
      if (params.end !== algorithm.end || !(isNull || (pss && params.tag === 0x30))) throw fail()
    }
    const bits = tlvAt(der, algorithm.end)
    if (bits.tag !== 0x03 || bits.end !== outer.end || der[bits.start] !== 0) throw fail()
    if (key.kind !== 'ecdsa') return
    const sig = tlvAt(der, bits.start + 1)
    if (sig.tag !== 0x30 || sig.end !== bits.end) throw fail()
    let at = sig.start
    for (let i = 0; i < 2; i++) {
      const int = tlvAt(der, at)
      const first = der[int.start]
      const second = der[int.start + 1] ?? 0
      const minimal = int.end > int.start && !(first === 0 && int.end - int.start > 1 && second < 0x80) && !(first! & 0x80)
      if (int.tag !== 0x02 || !minimal) throw fail()
      at = int.end
    }
    if (at !== sig.end) throw fail()
  } catch (e) {
    throw e instanceof IssuanceError ? e : fail()
  }
}

/** Accepts DER bytes, or PEM text (CERTIFICATE REQUEST / NEW CERTIFICATE REQUEST). */
export function csrBytes(input: Uint8Array | string): Der {
  if (typeof input !== 'string') return new Uint8Array(input)
  if (isPem(input)) {
    try {
      return fromPem(input, 'CERTIFICATE REQUEST')
    } catch {
      return fromPem(input, 'NEW CERTIFICATE REQUEST')
    }
  }
  return new Uint8Array(Buffer.from(input, 'base64'))
}

/** CertificationRequest (RFC 2986 §4) by position: the raw pieces parseCsr reads. */
interface CertificationRequestParts {
  /** certificationRequestInfo as received: what the signature covers. */
  info: Der
  subject: Der
  subjectPKInfo: Der
  /** Attribute ::= SEQUENCE { type, values SET }: whole encodings with their types, in order. */
  attributes: { type: string; der: Der }[]
  signatureAlgorithm: string
  /** The signature BIT STRING's contents after the unused-bits octet. */
  signature: Uint8Array
}

function readCertificationRequest(der: Der): CertificationRequestParts {
  // Views into `der`, so backed by its ArrayBuffer.
  const view = (v: Tlv) => encoding(v) as Der
  const [info, algorithm, signature] = childrenOf(decodeBer(der), TAG.SEQUENCE, 'CertificationRequest')
  const [version, subject, subjectPKInfo, attributes] = childrenOf(info, TAG.SEQUENCE, 'CertificationRequestInfo')
  expectTag(version, TAG.INTEGER, 'version')
  expectTag(subject, TAG.SEQUENCE, 'subject')
  expectTag(subjectPKInfo, TAG.SEQUENCE, 'subjectPKInfo')
  expectTag(attributes, 0xa0, 'attributes')
  const [algorithmId] = childrenOf(algorithm, TAG.SEQUENCE, 'signatureAlgorithm')
  expectTag(signature, TAG.BIT_STRING, 'signature')
  return {
    info: view(info),
    subject: view(subject),
    subjectPKInfo: view(subjectPKInfo),
    attributes: children(attributes).map((a: Tlv) => {
      const [type, values] = childrenOf(a, TAG.SEQUENCE, 'Attribute')
      expectTag(values, TAG.SET, 'Attribute values')
      return { type: oidString(type, 'Attribute type'), der: view(a) }
    }),
    signatureAlgorithm: oidString(algorithmId, 'signatureAlgorithm'),
    signature: signature.bytes.subarray(signature.contentStart + 1, signature.contentEnd),
  }
}

/**
 * Signature algorithms checked with node:crypto: the hash, and the key kind the algorithm needs (a request whose key
 * does not fit its algorithm goes the WebCrypto way, which refuses it). Others (RSASSA-PSS, Ed448, …) are checked by
 * @peculiar/x509 through WebCrypto as before.
 */
const nodeVerifiable: Record<string, { hash: string | null; kind: KeyInfo['kind'] }> = {
  '1.2.840.113549.1.1.5': { hash: 'sha1', kind: 'rsa' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', kind: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', kind: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', kind: 'rsa' },
  '1.2.840.10045.4.1': { hash: 'sha1', kind: 'ecdsa' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', kind: 'ecdsa' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', kind: 'ecdsa' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', kind: 'ecdsa' },
  '1.3.101.112': { hash: null, kind: 'ed25519' },
}

async function verifySignature(der: Der, req: CertificationRequestParts, publicKeyDer: Der, key: KeyInfo): Promise<boolean> {
  const fast = nodeVerifiable[req.signatureAlgorithm]
  if (fast && fast.kind === key.kind) {
    const publicKey = publicKeyFromSpki(publicKeyDer)
    return cryptoVerify(fast.hash, req.info, publicKey, req.signature)
  }
  return new x509.Pkcs10CertificateRequest(der).verify()
}

/** The first attribute of a type, as @peculiar/x509 reads it (the value-type checks are its). */
const attribute = (req: CertificationRequestParts, type: string) => req.attributes.find((a) => a.type === type)?.der

/**
 * Parses a PKCS#10 request and checks its self-signature (RFC 2986 §3: proof of possession).
 * Throws IssuanceError('badCsr') naming what is wrong.
 */
export async function parseCsr(input: Uint8Array | string): Promise<ParsedCsr> {
  let der: Der
  let req: CertificationRequestParts
  try {
    der = csrBytes(input)
    req = readCertificationRequest(der)
  } catch (e) {
    throw new IssuanceError('badCsr', `CSR is not a DER PKCS#10 request: ${(e as Error).message}`)
  }
  let publicKeyDer: Der
  let key: KeyInfo
  try {
    // Copied into certificates: kept as received only when already DER, else re-encoded (as the object model did).
    publicKeyDer = isDer(decodeBer(req.subjectPKInfo))
      ? new Uint8Array(req.subjectPKInfo)
      : new Uint8Array(AsnConvert.serialize(AsnConvert.parse(req.subjectPKInfo, SubjectPublicKeyInfo)))
    key = describeKey(publicKeyDer)
  } catch (e) {
    throw new IssuanceError('badCsr', `CSR public key cannot be parsed: ${(e as Error).message}`)
  }
  if (key.kind === 'unsupported') throw new IssuanceError('badCsr', `CSR key algorithm ${key.oid} is not supported`)
  // Encoding first: node:crypto refuses a non-DER signature as not verifying, which would hide the reason.
  requireDerSignature(der, key)
  let valid = false
  try {
    valid = await verifySignature(der, req, publicKeyDer, key)
  } catch (e) {
    throw new IssuanceError('badCsr', `CSR signature cannot be checked: ${(e as Error).message}`)
  }
  if (!valid) throw new IssuanceError('badCsr', 'CSR signature does not verify with its public key')

  const challenge = attribute(req, id_pkcs9_at_challengePassword)
  const extensions = attribute(req, id_pkcs9_at_extensionRequest)
  // Plain requests (nearly all) are read by position; anything else by @peculiar/x509, the reference (csr-fields.ts).
  const name = plainName(req.subject)
  const plainPassword = challenge ? plainChallengePassword(challenge) : undefined
  const plainSans = extensions ? plainRequestedSans(extensions) : []
  if (name && (!challenge || plainPassword !== undefined) && plainSans) {
    return {
      der,
      subject: name.text,
      subjectDer: new Uint8Array(req.subject),
      commonName: name.commonName,
      requestedSans: plainSans,
      publicKeyDer,
      key,
      challengePassword: plainPassword,
    }
  }

  let subject: x509.Name
  let challengePassword: string | undefined
  try {
    subject = new x509.Name(req.subject)
    challengePassword = challenge ? new x509.ChallengePasswordAttribute(challenge).password : undefined
  } catch (e) {
    throw new IssuanceError('badCsr', `CSR is not a DER PKCS#10 request: ${(e as Error).message}`)
  }
  const requestedSans: Identifier[] = []
  try {
    const ext = extensions ? new x509.ExtensionsAttribute(extensions).items.find((e) => e.type === '2.5.29.17') : undefined
    const san = ext ? new x509.SubjectAlternativeNameExtension(ext.rawData) : undefined
    for (const name of san?.names.items ?? []) {
      const id = toIdentifier(name)
      if (!id) throw new Error(`SAN type ${name.type} is not supported`)
      requestedSans.push(id)
    }
  } catch (e) {
    throw new IssuanceError('badCsr', `CSR subjectAltName is malformed: ${(e as Error).message}`)
  }
  return {
    der,
    subject: subject.toString(),
    subjectDer: isDer(decodeBer(req.subject)) ? new Uint8Array(req.subject) : new Uint8Array(subject.toArrayBuffer()),
    commonName: subject.getField('CN')[0],
    requestedSans,
    publicKeyDer,
    key,
    challengePassword,
  }
}
