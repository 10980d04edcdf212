// A minimal DER writer (X.690 §10) for structures built in bulk — CRLs with a million entries are written
// straight to bytes instead of through object trees. Parsing stays with pkijs/asn1js.

/** Definite-form length octets. */
export function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n)
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Uint8Array.of(0x80 | bytes.length, ...bytes)
}

const totalLength = (parts: Uint8Array[]) => parts.reduce((n, p) => n + p.byteLength, 0)

/** Concatenates parts into one new buffer. */
export function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(totalLength(parts))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}

/** Header (tag + length) for content of `length` bytes. */
export const derHeader = (tag: number, length: number) => concat([Uint8Array.of(tag), derLength(length)])

/** One allocation per value: the header is written in front of the parts directly (no intermediate body copy). */
export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const n = totalLength(content)
  const lengthOctets = n < 0x80 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4
  const out = new Uint8Array(2 + lengthOctets + n)
  out[0] = tag
  if (n < 0x80) out[1] = n
  else {
    out[1] = 0x80 | lengthOctets
    for (let i = lengthOctets, v = n; i >= 1; i--, v = Math.floor(v / 256)) out[1 + i] = v & 0xff
  }
  let offset = 2 + lengthOctets
  for (const p of content) {
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}

export const sequence = (...content: Uint8Array[]) => tlv(0x30, ...content)
export const octetString = (content: Uint8Array) => tlv(0x04, content)
export const bool = (v: boolean) => Uint8Array.of(0x01, 0x01, v ? 0xff : 0x00)
export const NULL = Uint8Array.of(0x05, 0x00)

/** INTEGER from unsigned big-endian bytes (a leading 0x00 is added when the high bit is set). */
export function unsignedInteger(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  let i = 0
  while (i < bytes.length - 1 && bytes[i] === 0) i++
  const trimmed = bytes.subarray(i)
  return trimmed[0]! & 0x80 ? tlv(0x02, Uint8Array.of(0), trimmed) : tlv(0x02, trimmed)
}

export const integerFromHex = (hex: string) =>
  unsignedInteger(Uint8Array.from(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')))

export function integerFromBigInt(n: bigint): Uint8Array<ArrayBuffer> {
  if (n < 0n) throw new Error('negative INTEGER')
  return integerFromHex(n.toString(16))
}

// OBJECT IDENTIFIER encodings by dotted form: the same few dozen OIDs are encoded for every certificate and reply.
const oidCache = new Map<string, Uint8Array<ArrayBuffer>>()

/** OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Uint8Array<ArrayBuffer> {
  const cached = oidCache.get(dotted)
  if (cached) return cached.slice()
  const encoded = encodeOid(dotted)
  if (oidCache.size < 512) oidCache.set(dotted, encoded.slice())
  return encoded
}

function encodeOid(dotted: string): Uint8Array<ArrayBuffer> {
  const arcs = dotted.split('.').map(BigInt)
  const body: number[] = []
  const push = (v: bigint) => {
    const chunk: number[] = [Number(v & 0x7fn)]
    for (v >>= 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80)
    body.push(...chunk)
  }
  push(arcs[0]! * 40n + arcs[1]!)
  for (const arc of arcs.slice(2)) push(arc)
  return tlv(0x06, Uint8Array.from(body))
}

const two = (n: number) => String(n).padStart(2, '0')

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always Zulu, seconds, no fraction. */
export function time(d: Date): Uint8Array<ArrayBuffer> {
  const y = d.getUTCFullYear()
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`
  return y < 2050 && y >= 1950
    ? tlv(0x17, Buffer.from(`${two(y % 100)}${rest}`, 'latin1'))
    : tlv(0x18, Buffer.from(`${y}${rest}`, 'latin1'))
}

/** Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING } */
export const extension = (id: string, critical: boolean, value: Uint8Array) =>
  critical ? sequence(oid(id), bool(true), octetString(value)) : sequence(oid(id), octetString(value))

/** BIT STRING with no unused bits. */
export const bitString = (content: Uint8Array) => tlv(0x03, Uint8Array.of(0), content)

/** WebCrypto's raw ECDSA signature (r || s) → DER Ecdsa-Sig-Value (RFC 3279 §2.2.3). */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = raw.byteLength / 2
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)))
}
