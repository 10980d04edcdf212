// RFC 7030 §4 wire formats with the RFC 8951 clarifications: base64 bodies in both directions, PKCS#10 requests
// in, CMS certs-only Simple PKI Responses (RFC 5272 §4.1) out, CsrAttrs (§4.5.2), and the serverkeygen
// multipart/mixed response (§4.4.2).
import { randomBytes } from 'node:crypto'
import * as asn1js from 'asn1js'
import { oid, sequence, tlv } from '../../src/pki/der.js'
import { parseCsr, type ParsedCsr } from '../../src/pki/csr.js'
import type { Der } from '../../src/pki/pem.js'
import { x509 } from '../../src/pki/x509.js'
import { EstError } from './status.js'

/** Exactly this string: libest compares it, single space included. */
export const CERTS_ONLY = 'application/pkcs7-mime; smime-type=certs-only'
export const CSRATTRS = 'application/csrattrs'
export const PKCS8 = 'application/pkcs8'

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2'
/** SignedData's fields before `certificates`: version 1, no digestAlgorithms, encapContentInfo { id-data }. */
const SIGNED_DATA_HEAD = new Uint8Array([0x02, 0x01, 0x01, 0x31, 0x00, ...sequence(oid('1.2.840.113549.1.7.1'))])
const SIGNED_DATA_OID = oid(OID_SIGNED_DATA)

// ── base64 bodies (RFC 8951 §3.2: the body is base64 whatever Content-Transfer-Encoding says) ─────────

/**
 * Decodes a base64 request body: one line, or wrapped with LF or CRLF, or a PEM block with one of `pemLabels`.
 * Rejects anything else (binary DER, stray characters, bad padding) with 400.
 */
export function decodeBase64Body(body: Uint8Array, pemLabels: string[]): Der {
  let text = Buffer.from(body).toString('latin1')
  const begin = text.indexOf('-----BEGIN ')
  if (begin >= 0) {
    // Found by position, not by a backtracking regex: bodies are attacker-sized (up to bodyLimitBytes).
    const labelEnd = text.indexOf('-----', begin + 11)
    const label = labelEnd < 0 ? '' : text.slice(begin + 11, labelEnd)
    const end = labelEnd < 0 ? -1 : text.indexOf(`-----END ${label}-----`, labelEnd + 5)
    if (end < 0 || !/^[A-Z0-9 ]{1,64}$/.test(label)) throw new EstError(400, 'the body holds a malformed PEM block')
    if (!pemLabels.includes(label)) throw new EstError(400, `PEM block "${label}" is not one of ${pemLabels.join(', ')}`)
    text = text.slice(labelEnd + 5, end)
  }
  const b64 = text.replace(/[ \t\r\n]+/g, '')
  if (b64.length === 0) throw new EstError(400, 'the body is empty; expected base64 (RFC 8951 §3.2)')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1 || (b64.includes('=') && b64.length % 4 !== 0)) {
    throw new EstError(400, 'the body is not base64 (RFC 8951 §3.2: EST bodies are base64, binary DER is not accepted)')
  }
  return new Uint8Array(Buffer.from(b64, 'base64'))
}

/** The DER value must be one complete TLV of `tag` with nothing after it (catches truncation early). */
function requireSingleTlv(der: Der, tag: number, what: string): void {
  const fail = () => new EstError(400, `the body is not one DER ${what}`)
  if (der.length < 2 || der[0] !== tag) throw fail()
  let length = der[1]!
  let header = 2
  if (length & 0x80) {
    const n = length & 0x7f
    if (n === 0 || n > 4 || der.length < 2 + n) throw fail()
    length = 0
    for (let i = 0; i < n; i++) length = length * 256 + der[2 + i]!
    header = 2 + n
  }
  if (header + length !== der.length) throw fail()
}

/** RFC 7030 §4.2.1: a base64 DER PKCS#10 request (PEM tolerated), parsed and self-signature checked. */
export async function decodePkcs10Body(body: Uint8Array): Promise<ParsedCsr> {
  const der = decodeBase64Body(body, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'])
  requireSingleTlv(der, 0x30, 'PKCS#10 CertificationRequest')
  return parseCsr(der)
}

/** The attribute types (OIDs) a PKCS#10 request carries (RFC 2986 §4.1 attributes). */
export const requestAttributeTypes = (der: Der): string[] =>
  new x509.Pkcs10CertificateRequest(der).attributes.map((a) => a.type)

/** Base64 of `der`, in lines of `lineLength` characters with CRLF (RFC 2045 §6.8); 0: one line, no break. */
export function base64Body(der: Uint8Array, lineLength: number): string {
  const b64 = Buffer.from(der).toString('base64')
  if (lineLength === 0) return b64
  const lines: string[] = []
  for (let i = 0; i < b64.length; i += lineLength) lines.push(b64.slice(i, i + lineLength))
  return `${lines.join('\r\n')}\r\n`
}

// ── CMS certs-only (RFC 5272 §4.1 Simple PKI Response; RFC 5652 §5 SignedData without signers) ────────

/** ContentInfo { signedData, SignedData { v1, {}, { id-data }, certificates [0] IMPLICIT, {} } }. */
export function encodeCertsOnly(certificates: Der[]): Der {
  const signedData = sequence(SIGNED_DATA_HEAD, tlv(0xa0, ...certificates), Uint8Array.of(0x31, 0x00))
  return sequence(SIGNED_DATA_OID, tlv(0xa0, signedData))
}

/** The certificates of a certs-only response, in order. Throws on anything else. */
export function decodeCertsOnly(der: Uint8Array): Der[] {
  const parsed = asn1js.fromBER(der)
  if (parsed.offset === -1) throw new Error('not BER')
  const ci = parsed.result as asn1js.Sequence
  const [type, content] = ci.valueBlock.value as [asn1js.ObjectIdentifier, asn1js.Constructed]
  if (type?.valueBlock.toString() !== OID_SIGNED_DATA) throw new Error('not a SignedData ContentInfo')
  const signed = content.valueBlock.value[0] as asn1js.Sequence
  const certs = signed.valueBlock.value.find((b) => b.idBlock.tagClass === 3 && b.idBlock.tagNumber === 0) as
    | asn1js.Constructed
    | undefined
  return (certs?.valueBlock.value ?? []).map((c) => new Uint8Array(c.toBER()))
}

// ── CsrAttrs (RFC 7030 §4.5.2; draft-ietf-lamps-rfc7030-csrattrs) ────────────────────────────────────

/** AttrOrOID: a bare OID, or an Attribute { type, values } whose values are DER-encoded already. */
export type AttrOrOid = { oid: string } | { type: string; values: Der[] }

/** CsrAttrs ::= SEQUENCE SIZE (0..MAX) OF AttrOrOID */
export function encodeCsrAttrs(attrs: AttrOrOid[]): Der {
  return sequence(
    ...attrs.map((a) => ('oid' in a ? oid(a.oid) : sequence(oid(a.type), tlv(0x31, ...a.values)))),
  )
}

// ── serverkeygen (RFC 7030 §4.4.2, RFC 8951 §3.3) ────────────────────────────────────────────────────

/**
 * multipart/mixed with the PKCS#8 private key first and the certs-only response second, each part base64 with
 * its own Content-Transfer-Encoding. The boundary cannot occur in base64 (it contains "_").
 */
export function encodeServerKeygen(privateKeyPkcs8: Der, certsOnly: Der, lineLength: number) {
  const boundary = `est_${randomBytes(12).toString('hex')}`
  const part = (type: string, der: Der) =>
    `--${boundary}\r\nContent-Type: ${type}\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
    `${base64Body(der, lineLength).replace(/\r\n$/, '')}\r\n`
  const body = part(PKCS8, privateKeyPkcs8) + part(CERTS_ONLY, certsOnly) + `--${boundary}--\r\n`
  return { body, contentType: `multipart/mixed; boundary=${boundary}` }
}

/** Splits a serverkeygen response into its parts (tests and tools): content type and decoded bytes. */
export function decodeServerKeygen(body: string, contentType: string): { type: string; der: Der }[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1]
  if (!boundary) throw new Error('no multipart boundary')
  return body
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((raw) => {
      const [head, ...rest] = raw.replace(/^\r?\n/, '').split(/\r?\n\r?\n/)
      const type = /content-type:\s*([^\r\n]+)/i.exec(head ?? '')?.[1]?.trim() ?? ''
      return { type, der: new Uint8Array(Buffer.from(rest.join('').replace(/\s+/g, ''), 'base64')) }
    })
}

/** Bytes of a base64 response body (whitespace ignored). */
export const fromBase64Body = (text: string): Der => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'base64'))
