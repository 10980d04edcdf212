// RFC 5280 §4.1 end-entity certificates written straight to DER. The per-CA parts (issuer, AKI, AIA, the
// signature algorithm) are encoded once; each certificate adds its serial, validity, subject, key and SANs.
// Building through an object model cost ~4 ms per certificate; this costs tens of microseconds.
import { isIPv4, isIPv6 } from 'node:net'
import type { KeyUsageName } from '../../config/schema.js'
import {
  bitString,
  concat,
  extension,
  integerFromHex,
  NULL,
  octetString,
  oid,
  sequence,
  time,
  tlv,
} from '../../pki/der.js'
import type { Identifier } from '../../pki/csr.js'
import type { Der } from '../../pki/pem.js'

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  cRLDistributionPoints: '2.5.29.31',
  freshestCRL: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  adOcsp: '1.3.6.1.5.5.7.48.1',
  adCaIssuers: '1.3.6.1.5.5.7.48.2',
}

const keyUsageBit: Record<KeyUsageName, number> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
}

/** KeyUsage as a DER named-bit BIT STRING: trailing zero bits removed (X.690 §11.2.2). */
export function keyUsageValue(usages: KeyUsageName[]): Uint8Array {
  const bits = usages.map((u) => keyUsageBit[u])
  const highest = Math.max(...bits)
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1)
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7)
  const unused = 7 - (highest & 7)
  return tlv(0x03, Uint8Array.of(unused), bytes)
}

/** RFC 5952 textual IPv4/IPv6 → the 4 or 16 octets of an iPAddress GeneralName. */
export function ipBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number))
  if (!isIPv6(ip)) throw new Error(`"${ip}" is not an IP address`)
  // An embedded dotted quad (::ffff:1.2.3.4) becomes two hex groups first.
  const text = ip.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  )
  const [head, rest] = text.split('::') as [string, string | undefined]
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((h) => Number.parseInt(h, 16)))
  const left = parse(head)
  const right = rest === undefined ? [] : parse(rest)
  const groups = rest === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`"${ip}" is not an IP address`)
  const out = new Uint8Array(16)
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8
    out[2 * i + 1] = g & 0xff
  })
  return out
}

const ascii = (s: string) => Buffer.from(s, 'ascii')

/** GeneralName for a SAN (RFC 5280 §4.2.1.6): dNSName [2], rfc822Name [1], URI [6], iPAddress [7]. */
export function generalName(id: Identifier): Uint8Array {
  switch (id.type) {
    case 'dns':
      return tlv(0x82, ascii(id.value))
    case 'email':
      return tlv(0x81, ascii(id.value))
    case 'uri':
      return tlv(0x86, ascii(id.value))
    case 'ip':
      return tlv(0x87, ipBytes(id.value))
  }
}

/** DistributionPoint list with one fullName URI: CRLDistributionPoints / FreshestCRL syntax (§4.2.1.13). */
export const distributionPoints = (uri: string) => sequence(sequence(tlv(0xa0, tlv(0xa0, tlv(0x86, ascii(uri))))))

export interface IssuerTemplate {
  issuerNameDer: Uint8Array
  /** Subject key identifier of the issuing CA. */
  keyIdentifier: Uint8Array
  signatureAlgorithmDer: Uint8Array
  ocspUrl: string
  caIssuersUrl: string
}

export interface LeafFields {
  serial: string
  notBefore: Date
  notAfter: Date
  subjectDer: Uint8Array
  publicKeyDer: Uint8Array
  /** SHA-1 key identifier of the subject key (RFC 5280 §4.2.1.2 method 1). */
  subjectKeyIdentifier: Uint8Array
  sans: Identifier[]
  keyUsage: KeyUsageName[]
  extKeyUsage: string[]
  /** Delegated OCSP responder: id-pkix-ocsp-nocheck and no revocation pointers (RFC 6960 §4.2.2.2.1). */
  ocspNoCheck: boolean
  crlUrl: string
  deltaCrlUrl: string
}

/** Prepares the per-CA constant parts once. */
export function tbsBuilder(issuer: IssuerTemplate) {
  const head = concat([Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02)]) // [0] EXPLICIT version v3
  const basicConstraints = extension(OID.basicConstraints, true, sequence())
  const aki = extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, issuer.keyIdentifier)))
  const aia = extension(
    OID.authorityInfoAccess,
    false,
    sequence(
      sequence(oid(OID.adOcsp), tlv(0x86, ascii(issuer.ocspUrl))),
      sequence(oid(OID.adCaIssuers), tlv(0x86, ascii(issuer.caIssuersUrl))),
    ),
  )
  const noCheck = extension(OID.ocspNoCheck, false, NULL)
  const ekuCache = new Map<string, Uint8Array>()
  const kuCache = new Map<string, Uint8Array>()

  /** TBSCertificate DER for one leaf. */
  return function tbs(f: LeafFields): Der {
    const kuKey = f.keyUsage.join(',')
    let ku = kuCache.get(kuKey)
    if (!ku) kuCache.set(kuKey, (ku = extension(OID.keyUsage, true, keyUsageValue(f.keyUsage))))
    const exts: Uint8Array[] = [basicConstraints, ku]
    if (f.extKeyUsage.length) {
      const ekuKey = f.extKeyUsage.join(',')
      let eku = ekuCache.get(ekuKey)
      if (!eku) ekuCache.set(ekuKey, (eku = extension(OID.extKeyUsage, false, sequence(...f.extKeyUsage.map(oid)))))
      exts.push(eku)
    }
    exts.push(extension(OID.subjectKeyIdentifier, false, octetString(f.subjectKeyIdentifier)), aki)
    if (f.sans.length) {
      // Critical when the subject is empty (RFC 5280 §4.2.1.6); an empty Name is 30 00.
      const subjectEmpty = f.subjectDer.byteLength === 2
      exts.push(extension(OID.subjectAltName, subjectEmpty, sequence(...f.sans.map(generalName))))
    }
    if (f.ocspNoCheck) exts.push(noCheck)
    else {
      exts.push(
        extension(OID.cRLDistributionPoints, false, distributionPoints(f.crlUrl)),
        extension(OID.freshestCRL, false, distributionPoints(f.deltaCrlUrl)),
        aia,
      )
    }
    return sequence(
      head,
      integerFromHex(f.serial),
      issuer.signatureAlgorithmDer,
      issuer.issuerNameDer,
      sequence(time(f.notBefore), time(f.notAfter)),
      f.subjectDer,
      f.publicKeyDer,
      tlv(0xa3, sequence(...exts)),
    )
  }
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } */
export const certificate = (tbs: Uint8Array, signatureAlgorithmDer: Uint8Array, signature: Uint8Array): Der =>
  sequence(tbs, signatureAlgorithmDer, bitString(signature))
