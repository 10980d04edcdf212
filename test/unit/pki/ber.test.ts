// src/pki/ber.ts, the X.690 §8 BER walk the SCEP codec reads CMS with: definite and indefinite lengths, constructed
// strings, and the malformed encodings it must refuse (asn1js accepted some of them: a value running past the end
// of the one containing it).
import { describe, expect, it } from 'vitest'
import { BerError, children, decodeBer, encoding, isDer, oidString, readOctetString, stringOctets } from '../../../src/pki/ber.js'
import { oid, tlv } from '../../../src/pki/der.js'

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'))

describe('decodeBer (X.690 §8.1)', () => {
  it('ok/definite-short-and-long-lengths', () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536]) {
      const v = decodeBer(tlv(0x04, new Uint8Array(n)))
      expect(v.contentEnd - v.contentStart).toBe(n)
    }
  })

  it('ok/indefinite-length-constructed-octet-string (§8.1.3.6, §8.7.3)', () => {
    // SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite) { 'ab', 'cdef' } }
    const der = bytes('30 80 24 80 04 01 ab 04 02 cd ef 00 00 00 00')
    const seq = decodeBer(der)
    expect(seq.end).toBe(der.length)
    const [str] = children(seq)
    expect(Buffer.from(readOctetString(str, 'x')).toString('hex')).toBe('abcdef')
  })

  it('ok/implicitly-tagged-constructed-string-joins-segments', () => {
    expect(Buffer.from(stringOctets(decodeBer(bytes('a0 06 04 01 01 04 01 02')))).toString('hex')).toBe('0102')
  })

  it('ok/high-tag-number-form (§8.1.2.4)', () => {
    const v = decodeBer(bytes('9f 81 00 01 ff'))
    expect(v.number).toBe(128)
    expect(v.contentEnd - v.contentStart).toBe(1)
  })

  it.each([
    ['fail/empty', ''],
    ['fail/truncated-length', '30 82 01'],
    ['fail/truncated-contents', '04 05 01 02'],
    ['fail/trailing-octets', '04 01 00 00'],
    ['fail/child-runs-past-its-parent', '30 03 04 05 01 02 03 04 05'],
    ['fail/indefinite-without-end-of-contents', '30 80 04 01 00'],
    ['fail/indefinite-primitive', '04 80 01 00 00'],
    ['fail/constructed-integer', '22 03 02 01 01'],
    ['fail/unterminated-oid', '06 02 2a 86'],
    ['fail/empty-oid', '06 00'],
    ['fail/five-length-octets', '04 85 00 00 00 00 01 00'],
  ])('%s', (_name, hex) => {
    expect(() => decodeBer(bytes(hex))).toThrow(BerError)
  })

  it('fail/nesting-deeper-than-the-limit', () => {
    let v: Uint8Array = new Uint8Array(0)
    for (let i = 0; i < 100; i++) v = tlv(0x30, v)
    expect(() => decodeBer(v)).toThrow(/nested too deeply/)
  })

  it('ok/encoding-is-a-view-of-the-value', () => {
    const der = tlv(0x30, tlv(0x02, Uint8Array.of(5)), tlv(0x05))
    const [int, nul] = children(decodeBer(der))
    expect(Buffer.from(encoding(int!)).toString('hex')).toBe('020105')
    expect(Buffer.from(encoding(nul!)).toString('hex')).toBe('0500')
  })
})

describe('oidString (X.690 §8.19)', () => {
  it.each(['1.2.840.113549.1.7.2', '2.16.840.1.113733.1.9.7', '2.999.3', '0.9.2342.19200300.100.1.1', '2.25.329800735698586629295641978511506172918'])(
    'ok/%s-round-trips-through-the-der-writer',
    (dotted) => {
      expect(oidString(decodeBer(oid(dotted)), 'oid')).toBe(dotted)
    },
  )
})

describe('isDer (X.690 §10)', () => {
  const der = (hex: string) => isDer(decodeBer(bytes(hex)))

  it('ok/der-at-every-length-form', () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536]) expect(isDer(decodeBer(tlv(0x04, new Uint8Array(n))))).toBe(true)
    expect(der('30 06 06 01 2a 02 01 05')).toBe(true)
    expect(der('9f 1f 00')).toBe(true) // high tag number 31, two identifier octets
  })

  it('fail/ber-only-encodings (§10.1 lengths, §10.2 strings)', () => {
    expect(der('30 81 03 02 01 01')).toBe(false) // long form for a short length
    expect(der('30 82 00 03 02 01 01')).toBe(false) // more length octets than needed
    expect(der('30 80 02 01 01 00 00')).toBe(false) // indefinite length
    expect(der('30 05 24 03 04 01 ab')).toBe(false) // constructed OCTET STRING, nested
    expect(der('30 04 02 81 01 01')).toBe(false) // non-minimal length one level down
  })
})
