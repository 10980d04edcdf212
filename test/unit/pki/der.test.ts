// src/pki/der.ts: the DER writer's length octets (X.690 §10.1, §8.1.3) at every boundary, and OID encodings.
import { describe, expect, it } from 'vitest'
import { derLength, oid, tlv } from '../../../src/pki/der.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('tlv', () => {
  it.each([0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffff, 0x1000000])('ok/%i-octets-of-contents', (n) => {
    const parts = [new Uint8Array(Math.floor(n / 2)).fill(1), new Uint8Array(n - Math.floor(n / 2)).fill(2)]
    const expected = Buffer.concat([Uint8Array.of(0x30), derLength(n), ...parts])
    expect(Buffer.from(tlv(0x30, ...parts)).equals(expected)).toBe(true)
  })
})

describe('oid', () => {
  it('ok/known-encodings', () => {
    expect(hex(oid('1.2.840.113549.1.7.2'))).toBe('06092a864886f70d010702')
    expect(hex(oid('2.999.3'))).toBe('0603883703')
  })

  it('ok/cached-encodings-are-copies', () => {
    const a = oid('1.2.840.113549.1.9.7')
    a[2] = 0
    expect(hex(oid('1.2.840.113549.1.9.7'))).toBe('06092a864886f70d010907')
  })
})
