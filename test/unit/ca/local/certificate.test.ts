// DER pieces of the local CA's certificate writer (RFC 5280 §4.2.1.3, §4.2.1.6).
import { describe, expect, it } from 'vitest'
import { generalName, ipBytes, keyUsageValue } from '../../../../src/ca/local/certificate.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('keyUsageValue (named-bit BIT STRING, X.690 §11.2.2)', () => {
  it.each([
    ['ok/digitalSignature', ['digitalSignature'], '03020780'],
    ['ok/digitalSignature+keyEncipherment', ['digitalSignature', 'keyEncipherment'], '030205a0'],
    ['ok/keyCertSign+cRLSign', ['keyCertSign', 'cRLSign'], '03020106'],
    ['ok/decipherOnly-needs-two-octets', ['digitalSignature', 'decipherOnly'], '0303078080'],
  ] as const)('%s', (_n, usages, expected) => {
    expect(hex(keyUsageValue([...usages]))).toBe(expected)
  })
})

describe('ipBytes (iPAddress GeneralName)', () => {
  it.each([
    ['ok/ipv4', '192.0.2.1', 'c0000201'],
    ['ok/ipv6-compressed', '2001:db8::1', '20010db8000000000000000000000001'],
    ['ok/ipv6-loopback', '::1', '00000000000000000000000000000001'],
    ['ok/ipv6-all-zero', '::', '00000000000000000000000000000000'],
    ['ok/ipv6-full', '2001:db8:1:2:3:4:5:6', '20010db8000100020003000400050006'],
    ['ok/ipv6-trailing-compression', 'fe80::', 'fe800000000000000000000000000000'],
    ['ok/ipv4-mapped', '::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
  ])('%s', (_n, ip, expected) => {
    expect(hex(ipBytes(ip))).toBe(expected)
  })

  it.each([['fail/not-an-ip', 'example.com'], ['fail/ipv4-out-of-range', '256.1.1.1']])('%s', (_n, ip) => {
    expect(() => ipBytes(ip)).toThrow(/not an IP address/)
  })
})

describe('generalName', () => {
  it('ok/tags-per-type', () => {
    expect(hex(generalName({ type: 'dns', value: 'a.b' }))).toBe('8203612e62')
    expect(hex(generalName({ type: 'email', value: 'a@b' }))).toBe('8103614062')
    expect(hex(generalName({ type: 'uri', value: 'x:y' }))).toBe('8603783a79')
    expect(hex(generalName({ type: 'ip', value: '10.0.0.1' }))).toBe('87040a000001')
  })
})
