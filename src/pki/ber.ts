// X.690 §8 BER reading without an object tree, the counterpart of der.ts: a value is its identifier and where its
// contents lie in the input. decodeBer() checks the whole structure once (every constructed value is made of whole
// values, definite or indefinite lengths, primitive-only types primitive, OIDs terminated, nothing after the end);
// codecs then walk it by position. asn1js's fromBER builds an object per value and re-parses OCTET STRING contents
// on the chance they are BER: on a 2.5 KB SCEP pkiMessage it takes ~640 µs, this check ~1 µs (Node 20, this host).

/** The input is not BER, or not the shape a codec expected. */
export class BerError extends Error {
  override readonly name = 'BerError'
}

/** One BER value. Offsets index `bytes`, the whole input. */
export interface Tlv {
  readonly bytes: Uint8Array
  /** First identifier octet: class, constructed bit and (below 31) the tag number — 0x30 SEQUENCE, 0xa0 [0]. */
  readonly tag: number
  /** Tag number, also for the high-tag-number form. */
  readonly number: number
  readonly start: number
  readonly contentStart: number
  /** End of the contents (before the end-of-contents octets when the length is indefinite). */
  readonly contentEnd: number
  /** End of the value. */
  readonly end: number
}

export const CONSTRUCTED = 0x20
/** Universal tags used by the codecs. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const

const RELATIVE_OID = 0x0d
const UNIVERSAL_STRING = 0x1c
/** X.690 §8.2–§8.5, §8.8, §8.19–§8.20: BOOLEAN, INTEGER, NULL, OBJECT IDENTIFIER, REAL, ENUMERATED, RELATIVE-OID. */
const PRIMITIVE_ONLY = new Set([0x01, 0x02, 0x05, 0x06, 0x09, 0x0a, 0x0d])

/** Real messages nest about 20 deep; the limit keeps hostile nesting from exhausting the stack. */
const MAX_DEPTH = 64

/** Universal string types: BIT STRING, OCTET STRING and the character strings (X.690 §8.6, §8.7, §8.23). */
const STRING_TYPES = new Set([3, 4, 12, 18, 19, 20, 21, 22, 25, 26, 27, 28, 30])

/**
 * Reads the value at `at`, which must end by `limit`. `check` walks the contents of constructed values (every
 * value, to any depth); without it only indefinite-length values are walked, to find where they end.
 */
function read(bytes: Uint8Array, at: number, limit: number, check: boolean, depth: number): Tlv {
  if (depth > MAX_DEPTH) throw new BerError('nested too deeply')
  let p = at
  if (p >= limit) throw new BerError('truncated (identifier)')
  const tag = bytes[p++]!
  let number = tag & 0x1f
  if (number === 0x1f) {
    number = 0
    for (let i = 0; ; i++) {
      if (p >= limit || i === 4) throw new BerError('truncated or oversized tag number')
      const b = bytes[p++]!
      number = number * 128 + (b & 0x7f)
      if (!(b & 0x80)) break
    }
  }
  if (p >= limit) throw new BerError('truncated (length)')
  const first = bytes[p++]!
  const constructed = (tag & CONSTRUCTED) !== 0
  if (first === 0x80) {
    // Indefinite length (X.690 §8.1.3.6): constructed only, contents end with two zero octets.
    if (!constructed) throw new BerError('indefinite length on a primitive value')
    const contentStart = p
    for (;;) {
      if (p + 1 < limit && bytes[p] === 0 && bytes[p + 1] === 0) return { bytes, tag, number, start: at, contentStart, contentEnd: p, end: p + 2 }
      p = read(bytes, p, limit, check, depth + 1).end
    }
  }
  let length = first
  if (first & 0x80) {
    const n = first & 0x7f
    if (n > 4 || n === 0x7f) throw new BerError('length too large')
    length = 0
    for (let i = 0; i < n; i++) {
      if (p >= limit) throw new BerError('truncated (length)')
      length = length * 256 + bytes[p++]!
    }
  }
  const end = p + length
  if (end > limit) throw new BerError('truncated (contents)')
  if (check) {
    if (constructed) for (let c = p; c < end; ) c = read(bytes, c, end, true, depth + 1).end
    else if (tag === TAG.OID || tag === RELATIVE_OID) {
      // X.690 §8.19.2: at least one subidentifier, the last octet of each with bit 8 clear.
      if (end === p || bytes[end - 1]! & 0x80) throw new BerError('malformed OBJECT IDENTIFIER')
    } else if (tag === UNIVERSAL_STRING && length % 4) throw new BerError('UniversalString of a length not a multiple of 4')
  }
  if (constructed && PRIMITIVE_ONLY.has(tag & ~CONSTRUCTED) && !(tag & 0xc0)) throw new BerError('constructed encoding of a primitive-only type')
  return { bytes, tag, number, start: at, contentStart: p, contentEnd: end, end }
}

/** Exactly one well-formed BER value spanning `bytes`. Throws BerError otherwise. */
export function decodeBer(bytes: Uint8Array): Tlv {
  const v = read(bytes, 0, bytes.length, true, 0)
  if (v.end !== bytes.length) throw new BerError(`${bytes.length - v.end} octets after the value`)
  return v
}

/**
 * Whether a value (read by decodeBer) is also DER (X.690 §10): definite lengths in the shortest form, low tag
 * numbers in one octet, strings primitive — at every depth. Bytes copied from a request into a certificate (the
 * subject Name, the SubjectPublicKeyInfo) must pass this, or be re-encoded first. SET OF ordering is not checked.
 */
export function isDer(v: Tlv): boolean {
  const length = v.contentEnd - v.contentStart
  if (v.end !== v.contentEnd) return false // indefinite length
  const identifierOctets = v.number < 31 ? 1 : 1 + Math.ceil(Math.log2(v.number + 1) / 7)
  const lengthOctets = length < 0x80 ? 1 : 1 + Math.ceil(Math.log2(length + 1) / 8)
  if (v.contentStart - v.start !== identifierOctets + lengthOctets) return false
  if (!(v.tag & CONSTRUCTED)) return true
  // X.690 §10.2: the string types are primitive in DER.
  if (!(v.tag & 0xc0) && STRING_TYPES.has(v.number)) return false
  return children(v).every(isDer)
}

/** The values inside a constructed value, in order. */
export function children(v: Tlv): Tlv[] {
  if (!(v.tag & CONSTRUCTED)) throw new BerError(`tag 0x${v.tag.toString(16)} is not constructed`)
  const out: Tlv[] = []
  for (let p = v.contentStart; p < v.contentEnd; ) {
    const c = read(v.bytes, p, v.contentEnd, false, 0)
    out.push(c)
    p = c.end
  }
  return out
}

/** The values inside a constructed value with tag `tag`; BerError naming `what` when the tag differs. */
export function childrenOf(v: Tlv | undefined, tag: number, what: string): Tlv[] {
  expectTag(v, tag, what)
  return children(v)
}

export function expectTag(v: Tlv | undefined, tag: number, what: string): asserts v is Tlv {
  if (!v) throw new BerError(`${what} is missing`)
  if (v.tag !== tag) throw new BerError(`${what} has tag 0x${v.tag.toString(16)}, not 0x${tag.toString(16)}`)
}

/** The whole encoding of a value (identifier, length, contents). */
export const encoding = (v: Tlv): Uint8Array => v.bytes.subarray(v.start, v.end)

/** The contents octets of a primitive value. */
export function contents(v: Tlv): Uint8Array {
  if (v.tag & CONSTRUCTED) throw new BerError(`tag 0x${v.tag.toString(16)} is not primitive`)
  return v.bytes.subarray(v.contentStart, v.contentEnd)
}

/**
 * The octets of a string value (OCTET STRING, or an implicitly tagged one): the contents of the primitive form, or
 * the segments of the constructed form joined (X.690 §8.7.3).
 */
export function stringOctets(v: Tlv): Uint8Array {
  if (!(v.tag & CONSTRUCTED)) return v.bytes.subarray(v.contentStart, v.contentEnd)
  const parts = children(v).map((segment) => {
    if (segment.tag !== TAG.OCTET_STRING && segment.tag !== (TAG.OCTET_STRING | CONSTRUCTED)) {
      throw new BerError('a constructed string segment is not an OCTET STRING')
    }
    return stringOctets(segment)
  })
  if (parts.length === 1) return parts[0]!
  return Buffer.concat(parts)
}

/** OCTET STRING (primitive or constructed) → its octets. */
export function readOctetString(v: Tlv | undefined, what: string): Uint8Array {
  if (!v || (v.tag !== TAG.OCTET_STRING && v.tag !== (TAG.OCTET_STRING | CONSTRUCTED))) throw new BerError(`${what} is not an OCTET STRING`)
  return stringOctets(v)
}

/** OBJECT IDENTIFIER contents → dotted form (X.690 §8.19). */
export function oidString(v: Tlv | undefined, what: string): string {
  expectTag(v, TAG.OID, what)
  const c = v.bytes
  if (v.contentEnd === v.contentStart || c[v.contentEnd - 1]! & 0x80) throw new BerError(`${what} is not a valid OBJECT IDENTIFIER`)
  const arcs: (number | bigint)[] = []
  let value = 0
  let big: bigint | undefined
  for (let i = v.contentStart; i < v.contentEnd; i++) {
    const b = c[i]!
    if (big !== undefined) big = big * 128n + BigInt(b & 0x7f)
    else if (value >= 2 ** 45) big = BigInt(value) * 128n + BigInt(b & 0x7f)
    else value = value * 128 + (b & 0x7f)
    if (b & 0x80) continue
    if (arcs.length === 0) {
      // The first subidentifier holds the first two arcs (X.690 §8.19.4).
      if (big !== undefined) arcs.push(2, big - 80n)
      else arcs.push(value < 40 ? 0 : value < 80 ? 1 : 2, value < 80 ? value % 40 : value - 80)
    } else arcs.push(big ?? value)
    value = 0
    big = undefined
  }
  return arcs.join('.')
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL } (RFC 5280 §4.1.1.2) */
export interface AlgorithmIdentifier {
  algorithm: string
  parameters: Tlv | undefined
}

export function algorithmIdentifier(v: Tlv | undefined, what: string): AlgorithmIdentifier {
  const [algorithm, parameters] = childrenOf(v, TAG.SEQUENCE, what)
  return { algorithm: oidString(algorithm, `${what} algorithm`), parameters }
}

/** Byte-wise equality. */
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.byteLength === b.byteLength && Buffer.compare(a, b) === 0
