// RFC 2986 PKCS#10 certification requests: parse, verify the self-signature, and describe the key.
import { x509 } from './x509.js'
import { AsnConvert } from '@peculiar/asn1-schema'
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509'
import { RSAPublicKey } from '@peculiar/asn1-rsa'
import { ECParameters } from '@peculiar/asn1-ecc'
import { id_pkcs9_at_challengePassword } from '@peculiar/asn1-pkcs9'
import { IssuanceError } from '../errors.js'
import { fromPem, isPem, type Der } from './pem.js'

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

/** Describes a SubjectPublicKeyInfo: algorithm and size. */
export function describeKey(spkiDer: Uint8Array): KeyInfo {
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo)
  const oid = spki.algorithm.algorithm
  if (oid === '1.2.840.113549.1.1.1') {
    const rsa = AsnConvert.parse(spki.subjectPublicKey, RSAPublicKey)
    const modulus = new Uint8Array(rsa.modulus)
    let i = 0
    while (i < modulus.length && modulus[i] === 0) i++
    const bits = (modulus.length - i) * 8 - (modulus[i] ? Math.clz32(modulus[i]!) - 24 : 8)
    return { kind: 'rsa', bits }
  }
  if (oid === '1.2.840.10045.2.1') {
    const params = spki.algorithm.parameters
    const curveOid = params ? (AsnConvert.parse(params, ECParameters).namedCurve ?? '') : ''
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

/**
 * Parses a PKCS#10 request and checks its self-signature (RFC 2986 §3: proof of possession).
 * Throws IssuanceError('badCsr') naming what is wrong.
 */
export async function parseCsr(input: Uint8Array | string): Promise<ParsedCsr> {
  let der: Der
  let csr: x509.Pkcs10CertificateRequest
  try {
    der = csrBytes(input)
    csr = new x509.Pkcs10CertificateRequest(der)
  } catch (e) {
    throw new IssuanceError('badCsr', `CSR is not a DER PKCS#10 request: ${(e as Error).message}`)
  }
  let publicKeyDer: Der
  let key: KeyInfo
  try {
    publicKeyDer = new Uint8Array(csr.publicKey.rawData)
    key = describeKey(publicKeyDer)
  } catch (e) {
    throw new IssuanceError('badCsr', `CSR public key cannot be parsed: ${(e as Error).message}`)
  }
  if (key.kind === 'unsupported') throw new IssuanceError('badCsr', `CSR key algorithm ${key.oid} is not supported`)
  let valid = false
  try {
    valid = await csr.verify()
  } catch (e) {
    throw new IssuanceError('badCsr', `CSR signature cannot be checked: ${(e as Error).message}`)
  }
  if (!valid) throw new IssuanceError('badCsr', 'CSR signature does not verify with its public key')
  requireDerSignature(der, key)

  const requestedSans: Identifier[] = []
  try {
    const ext = csr.getExtension('2.5.29.17')
    const san = ext ? new x509.SubjectAlternativeNameExtension(ext.rawData) : undefined
    for (const name of san?.names.items ?? []) {
      const id = toIdentifier(name)
      if (!id) throw new Error(`SAN type ${name.type} is not supported`)
      requestedSans.push(id)
    }
  } catch (e) {
    throw new IssuanceError('badCsr', `CSR subjectAltName is malformed: ${(e as Error).message}`)
  }
  const cn = csr.subjectName.getField('CN')[0]
  const challenge = csr.getAttribute(id_pkcs9_at_challengePassword)
  return {
    der,
    subject: csr.subject,
    subjectDer: new Uint8Array(csr.subjectName.toArrayBuffer()),
    commonName: cn,
    requestedSans,
    publicKeyDer,
    key,
    challengePassword: challenge ? new x509.ChallengePasswordAttribute(challenge.rawData).password : undefined,
  }
}
