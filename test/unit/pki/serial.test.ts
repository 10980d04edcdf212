// src/pki/serial.ts: RFC 5280 §4.1.2.2 serial numbers (positive, ≤ 20 octets; CA/B BR §7.1 ≥ 64 random bits).
import { describe, expect, it } from 'vitest'
import { newSerial, normalizeSerial } from '../../../src/pki/serial.js'

describe('newSerial', () => {
  it('ok/32-hex-chars-positive-minimal', () => {
    for (let i = 0; i < 1000; i++) {
      const s = newSerial()
      expect(s).toMatch(/^[0-9a-f]{32}$/)
      const first = parseInt(s.slice(0, 2), 16)
      expect(first).toBeGreaterThanOrEqual(0x01)
      expect(first).toBeLessThanOrEqual(0x7f)
    }
  })

  it('ok/unique-over-10k', () => {
    const seen = new Set(Array.from({ length: 10_000 }, newSerial))
    expect(seen.size).toBe(10_000)
  })

  it('ok/already-normalized', () => {
    const s = newSerial()
    expect(normalizeSerial(s)).toBe(s)
  })
})

describe('normalizeSerial', () => {
  it.each([
    ['ok/colons-and-uppercase', '0A:1B:2C', '0a1b2c'],
    ['ok/spaces-and-dashes', '0a 1b-2c', '0a1b2c'],
    ['ok/leading-zero-octets-dropped', '00:00:7f:01', '7f01'],
    ['ok/odd-length-padded', 'abc', '0abc'],
    ['ok/single-zero-octet-kept', '00', '00'],
    ['ok/high-bit-octet-after-zero', '00ff', 'ff'],
    ['ok/42-hex-chars', 'a'.repeat(42), 'a'.repeat(42)],
  ])('%s', (_name, input, expected) => {
    expect(normalizeSerial(input)).toBe(expected)
  })

  it.each([
    ['fail/not-hex', 'xyz'],
    ['fail/empty', ''],
    ['fail/too-long', 'a'.repeat(43)],
    ['fail/only-separators', '::'],
  ])('%s', (_name, input) => {
    expect(() => normalizeSerial(input)).toThrow('serial must be hex')
  })
})
