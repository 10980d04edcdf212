// RFC 5280 §5 CRL building, streamed: revoked entries are encoded batch by batch straight into DER, so a
// million entries never exist as objects — only as their bytes, plus the final CRL.
import type { CrlSigner } from '../ca/backend.js'
import {
  bitString,
  concat,
  derHeader,
  extension,
  integerFromBigInt,
  sequence,
  time,
  tlv,
} from '../pki/der.js'
import type { Der } from '../pki/pem.js'
import type { RevokedEntry } from '../store/index.js'

export interface CrlBuildRequest {
  signer: CrlSigner
  kind: 'full' | 'delta'
  /** Shard index of a partitioned CA; undefined for the whole CA. */
  shard?: number | undefined
  number: bigint
  /** Delta CRLs: the CRL number of the complete CRL they extend. */
  baseNumber?: bigint | undefined
  thisUpdate: Date
  nextUpdate: Date
  entries: AsyncIterable<RevokedEntry[]>
}

export interface BuiltCrl {
  der: Der
  entries: number
}

const OID = {
  authorityKeyIdentifier: '2.5.29.35',
  cRLNumber: '2.5.29.20',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCRL: '2.5.29.46',
}

/** DistributionPointName fullName with one URI: [0] { [0] { [6] uri } } (RFC 5280 §4.2.1.13). */
const distributionPointName = (uri: string) => tlv(0xa0, tlv(0xa0, tlv(0x86, Buffer.from(uri, 'ascii'))))

/** Pre-encoded reasonCode entry extensions (RFC 5280 §5.3.1), by code. Unspecified (0) is omitted. */
const reasonExtension: (Uint8Array | undefined)[] = Array.from({ length: 11 }, (_, code) =>
  code === 0 || code === 7 ? undefined : extension('2.5.29.21', false, tlv(0x0a, Uint8Array.of(code))),
)

const INVALIDITY_PREFIX = Buffer.from([0x30, 0x18, 0x06, 0x03, 0x55, 0x1d, 0x18, 0x04, 0x11, 0x18, 0x0f])

/** Writes YYMMDDHHMMSSZ (UTCTime) or YYYYMMDDHHMMSSZ (GeneralizedTime) as latin1 at `at`. */
function writeTime(buf: Buffer, at: number, d: Date, generalized: boolean): number {
  const iso = d.toISOString() // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${generalized ? iso.slice(0, 4) : iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`
  return at + buf.write(digits, at, 'latin1')
}

/**
 * Encodes one batch of revokedCertificates entries into one buffer. Every entry is shorter than 128 octets
 * (serial ≤ 21, time ≤ 17, extensions ≤ 40), so each length is one octet.
 */
export function encodeEntries(rows: RevokedEntry[]): Buffer {
  if (scratch.byteLength < rows.length * 96) scratch = Buffer.allocUnsafeSlow(rows.length * 96)
  const buf = scratch
  let at = 0
  for (const r of rows) {
    const start = at
    at += 2 // SEQUENCE header, filled in below
    const hex = r.serial.length % 2 ? `0${r.serial}` : r.serial
    const serialLen = hex.length / 2
    const pad = Number.parseInt(hex.slice(0, 2), 16) >= 0x80 ? 1 : 0
    buf[at++] = 0x02
    buf[at++] = serialLen + pad
    if (pad) buf[at++] = 0
    at += buf.write(hex, at, 'hex')
    const year = r.revokedAt.getUTCFullYear()
    const generalized = year >= 2050 || year < 1950
    buf[at++] = generalized ? 0x18 : 0x17
    buf[at++] = generalized ? 15 : 13
    at = writeTime(buf, at, r.revokedAt, generalized)
    const reason = r.reason === null ? undefined : reasonExtension[r.reason]
    if (reason || r.invalidityDate) {
      const extLen = (reason?.byteLength ?? 0) + (r.invalidityDate ? INVALIDITY_PREFIX.byteLength + 15 : 0)
      buf[at++] = 0x30
      buf[at++] = extLen
      if (reason) at += Buffer.from(reason.buffer, reason.byteOffset, reason.byteLength).copy(buf, at)
      if (r.invalidityDate) {
        at += INVALIDITY_PREFIX.copy(buf, at)
        at = writeTime(buf, at, r.invalidityDate, true)
      }
    }
    buf[start] = 0x30
    buf[start + 1] = at - start - 2
  }
  // An exact-size copy: a view would keep the whole worst-case scratch (about twice the bytes used) alive per batch.
  return Buffer.from(buf.subarray(0, at))
}

/** Worst-case space for one batch of encodeEntries, reused by the next (encoding a batch is synchronous). */
let scratch = Buffer.alloc(0)

function crlExtensions(req: CrlBuildRequest): Uint8Array {
  const { signer } = req
  const exts = [
    extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, signer.keyIdentifier))),
    extension(OID.cRLNumber, false, integerFromBigInt(req.number)),
  ]
  if (req.kind === 'delta') {
    if (req.baseNumber === undefined) throw new Error('a delta CRL needs its base CRL number')
    exts.push(extension(OID.deltaCRLIndicator, true, integerFromBigInt(req.baseNumber)))
  }
  if (req.shard !== undefined) {
    // The shard's scope: its full CRL URL, end-entity certificates only (RFC 5280 §5.2.5).
    const idp = sequence(distributionPointName(signer.urls.crl(req.shard)), Uint8Array.of(0x81, 0x01, 0xff))
    exts.push(extension(OID.issuingDistributionPoint, true, idp))
  }
  if (req.kind === 'full') {
    exts.push(extension(OID.freshestCRL, false, sequence(sequence(distributionPointName(signer.urls.deltaCrl(req.shard))))))
  }
  return tlv(0xa0, sequence(...exts))
}

export async function buildCrl(req: CrlBuildRequest): Promise<BuiltCrl> {
  const chunks: Buffer[] = []
  let entries = 0
  let entriesLength = 0
  for await (const rows of req.entries) {
    if (!rows.length) continue
    const chunk = encodeEntries(rows)
    chunks.push(chunk)
    entries += rows.length
    entriesLength += chunk.byteLength
  }
  const head = concat([
    Uint8Array.of(0x02, 0x01, 0x01), // version v2
    req.signer.signatureAlgorithmDer,
    req.signer.issuerNameDer,
    time(req.thisUpdate),
    time(req.nextUpdate),
  ])
  // RFC 5280 §5.1.2.6: with no revoked certificates the list is absent, not empty.
  const listHeader = entries ? derHeader(0x30, entriesLength) : new Uint8Array(0)
  const extensions = crlExtensions(req)
  const tbsBodyLength = head.byteLength + listHeader.byteLength + entriesLength + extensions.byteLength
  const tbsHeader = derHeader(0x30, tbsBodyLength)
  const tbsLength = tbsHeader.byteLength + tbsBodyLength
  // The CertificateList is assembled around the TBS in one buffer, with room before it for the outer header and
  // after it for signatureAlgorithm and signatureValue, so the entries are copied once, not twice.
  const tailRoom = req.signer.signatureAlgorithmDer.byteLength + SIGNATURE_ROOM
  const buf = Buffer.allocUnsafeSlow(OUTER_HEADER_ROOM + tbsLength + tailRoom)
  let at = OUTER_HEADER_ROOM
  for (const part of [tbsHeader, head, listHeader]) at += Buffer.from(part.buffer, part.byteOffset, part.byteLength).copy(buf, at)
  while (chunks.length) at += chunks.shift()!.copy(buf, at)
  Buffer.from(extensions.buffer, extensions.byteOffset, extensions.byteLength).copy(buf, at)
  const tbs = new Uint8Array(buf.buffer as ArrayBuffer, buf.byteOffset + OUTER_HEADER_ROOM, tbsLength)
  const signature = await req.signer.sign(tbs)
  const tail = concat([req.signer.signatureAlgorithmDer, bitString(signature)])
  const outer = derHeader(0x30, tbsLength + tail.byteLength)
  const derLength = outer.byteLength + tbsLength + tail.byteLength
  if (tail.byteLength > tailRoom || outer.byteLength > OUTER_HEADER_ROOM) {
    const der = new Uint8Array(derLength)
    der.set(outer, 0)
    der.set(tbs, outer.byteLength)
    der.set(tail, outer.byteLength + tbsLength)
    return { der, entries }
  }
  const start = buf.byteOffset + OUTER_HEADER_ROOM - outer.byteLength
  const der = new Uint8Array(buf.buffer as ArrayBuffer, start, derLength)
  der.set(outer, 0)
  der.set(tail, outer.byteLength + tbsLength)
  return { der, entries }
}

/** Longest DER length header (0x30 0x84 + 4 octets: CRLs under 4 GiB). */
const OUTER_HEADER_ROOM = 6
/** signatureValue BIT STRING of any common key (RSA-4096: 512 octets + header); longer ones take one more copy. */
const SIGNATURE_ROOM = 600
