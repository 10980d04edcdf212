// protocols/est/codec.ts against captured wire messages (fixtures/est, see fixtures/README.md) and the RFC 7030
// §4.5.2 CsrAttrs example: base64 bodies in every shape clients send, certs-only, CsrAttrs, serverkeygen multipart.
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  base64Body,
  decodeBase64Body,
  decodeCertsOnly,
  decodePkcs10Body,
  decodeServerKeygen,
  encodeCertsOnly,
  encodeCsrAttrs,
  encodeServerKeygen,
  fromBase64Body,
} from '../../../../protocols/est/codec.js'
import { EstError } from '../../../../protocols/est/status.js'
import { IssuanceError } from '../../../../src/errors.js'
import { oid } from '../../../../src/pki/der.js'
import { toPem } from '../../../../src/pki/pem.js'
import { x509 } from '../../../../src/pki/x509.js'

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../../../../fixtures/est', name))
/** The body of a captured HTTP request. */
const httpBody = (raw: Buffer) => raw.subarray(raw.indexOf('\r\n\r\n') + 4)
const strongswanEnroll = httpBody(fixture('strongswan-pki-5.9.8-simpleenroll.http'))
const strongswanDer = Buffer.from(strongswanEnroll.toString('latin1'), 'base64')
const enc = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'))

describe('decodePkcs10Body (RFC 7030 §4.2.1, RFC 8951 §3.2)', () => {
  it.each([
    ['ok/strongswan-pki-one-line', () => strongswanEnroll, 'CN=gw.example.test'],
    ['ok/strongswan-pki-reenroll', () => httpBody(fixture('strongswan-pki-5.9.8-simplereenroll.http')), 'CN=gw.example.test'],
    ['ok/openssl-base64-lf-64', () => fixture('curl-simpleenroll-request.b64'), 'CN=device.example.test'],
    ['ok/openssl-pem', () => fixture('curl-simplereenroll-request.pem'), 'CN=device.example.test'],
    ['ok/crlf-wrapped-76', () => enc(base64Body(strongswanDer, 76)), 'CN=gw.example.test'],
    ['ok/spaces-and-tabs', () => enc(strongswanDer.toString('base64').replace(/(.{10})/g, '$1 \t')), 'CN=gw.example.test'],
    ['ok/new-certificate-request-pem', () => enc(toPem(strongswanDer, 'NEW CERTIFICATE REQUEST')), 'CN=gw.example.test'],
    ['ok/unpadded', () => enc(strongswanDer.toString('base64').replace(/=+$/, '')), 'CN=gw.example.test'],
  ])('%s', async (_name, body, subject) => {
    const csr = await decodePkcs10Body(new Uint8Array(body()))
    expect(csr.subject).toBe(subject)
  })

  const rejects = async (body: Uint8Array): Promise<string> => {
    const e = await decodePkcs10Body(body).catch((err: unknown) => err)
    expect(e instanceof EstError || (e instanceof IssuanceError && e.kind === 'badCsr')).toBe(true)
    if (e instanceof EstError) expect(e.status).toBe(400)
    return (e as Error).message
  }

  it.each([
    ['fail/binary-der', () => new Uint8Array(strongswanDer), /not base64/],
    ['fail/empty', () => enc(''), /empty/],
    ['fail/whitespace-only', () => enc(' \r\n'), /empty/],
    ['fail/stray-character', () => enc(`${strongswanDer.toString('base64').slice(0, 20)}*${strongswanDer.toString('base64').slice(20)}`), /not base64/],
    ['fail/base64url-alphabet', () => enc(strongswanDer.toString('base64url')), /not base64|not one DER|CSR/],
    ['fail/padding-in-the-middle', () => enc(`QQ==${strongswanDer.toString('base64')}`), /not base64/],
    ['fail/pem-certificate-label', () => enc(toPem(strongswanDer, 'CERTIFICATE')), /PEM block "CERTIFICATE"/],
    ['fail/pem-without-end', () => enc(`-----BEGIN CERTIFICATE REQUEST-----\n${strongswanDer.toString('base64')}\n`), /malformed PEM/],
    ['fail/truncated-der', () => enc(strongswanDer.subarray(0, strongswanDer.length - 7).toString('base64')), /not one DER/],
    ['fail/trailing-bytes', () => enc(Buffer.concat([strongswanDer, Buffer.of(0, 0)]).toString('base64')), /not one DER/],
    ['fail/a-certificate-not-a-request', () => enc(Buffer.from(decodeCertsOnly(fromBase64Body(fixture('enroll-cacerts-response.b64').toString()))[0]!).toString('base64')), /CSR/],
    ['fail/signature-flipped', () => {
      const der = Buffer.from(strongswanDer)
      der[der.length - 3]! ^= 0x01
      return enc(der.toString('base64'))
    }, /signature/],
  ])('%s', async (_name, body, message) => {
    expect(await rejects(body())).toMatch(message)
  })
})

describe('base64Body (RFC 2045 §6.8, RFC 8951 §3.2)', () => {
  const der = new Uint8Array(200).map((_, i) => i)
  it('ok/76-character-lines-crlf', () => {
    const lines = base64Body(der, 76).split('\r\n')
    expect(lines.at(-1)).toBe('')
    expect(lines.slice(0, -2).every((l) => l.length === 76)).toBe(true)
    expect(Buffer.from(lines.join(''), 'base64')).toEqual(Buffer.from(der))
  })
  it('ok/one-line-when-0', () => expect(base64Body(der, 0)).toBe(Buffer.from(der).toString('base64')))
})

describe('certs-only (RFC 5272 §4.1, RFC 7030 §4.1.3, §4.2.3)', () => {
  it.each([['enroll-cacerts-response.b64', 2], ['enroll-simpleenroll-response.b64', 1]])(
    'ok/%s-decodes-and-re-encodes-byte-for-byte',
    (name, count) => {
      const der = fromBase64Body(fixture(name).toString())
      const certs = decodeCertsOnly(der)
      expect(certs).toHaveLength(count)
      for (const c of certs) expect(new x509.X509Certificate(c).subject).toMatch(/^CN=/)
      expect(Buffer.from(encodeCertsOnly(certs))).toEqual(Buffer.from(der))
    },
  )

  it('ok/issued-certificate-chains-to-the-captured-issuing-ca', async () => {
    const [issuing] = decodeCertsOnly(fromBase64Body(fixture('enroll-cacerts-response.b64').toString()))
    const [leaf] = decodeCertsOnly(fromBase64Body(fixture('enroll-simpleenroll-response.b64').toString()))
    const ca = new x509.X509Certificate(issuing!)
    expect(await new x509.X509Certificate(leaf!).verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true)
  })

  it('ok/empty-set-of-certificates', () => expect(decodeCertsOnly(encodeCertsOnly([]))).toEqual([]))
})

describe('CsrAttrs (RFC 7030 §4.5.2)', () => {
  it('ok/rfc-7030-example', () => {
    const der = encodeCsrAttrs([
      { oid: '1.2.840.113549.1.9.7' },
      { type: '1.2.840.10045.2.1', values: [oid('1.3.132.0.34')] },
      { type: '1.2.840.113549.1.9.14', values: [oid('1.3.6.1.1.1.1.22')] },
      { oid: '1.2.840.10045.4.3.3' },
    ])
    expect(Buffer.from(der).toString('base64')).toBe(
      'MEEGCSqGSIb3DQEJBzASBgcqhkjOPQIBMQcGBSuBBAAiMBYGCSqGSIb3DQEJDjEJBgcrBgEBAQEWBggqhkjOPQQDAw==',
    )
  })
  it('ok/empty', () => expect(Buffer.from(encodeCsrAttrs([]))).toEqual(Buffer.of(0x30, 0x00)))
})

describe('serverkeygen multipart/mixed (RFC 7030 §4.4.2, RFC 8951 §3.3)', () => {
  it('ok/captured-response-holds-key-then-certificate-for-it', () => {
    const raw = fixture('enroll-serverkeygen-response.multipart').toString('latin1')
    const boundary = /^--(\S+)\r\n/.exec(raw)![1]!
    const parts = decodeServerKeygen(raw, `multipart/mixed; boundary=${boundary}`)
    expect(parts.map((p) => p.type)).toEqual(['application/pkcs8', 'application/pkcs7-mime; smime-type=certs-only'])
    const key = createPrivateKey({ key: Buffer.from(parts[0]!.der), format: 'der', type: 'pkcs8' })
    const [cert] = decodeCertsOnly(parts[1]!.der)
    const spki = Buffer.from(new x509.X509Certificate(cert!).publicKey.rawData)
    expect(key.asymmetricKeyType).toBe('ec')
    expect(spki.equals(createPublicKey(key).export({ format: 'der', type: 'spki' }))).toBe(true)
    expect(raw).toMatch(/\r\nContent-Transfer-Encoding: base64\r\n\r\n/)
    expect(raw.endsWith(`--${boundary}--\r\n`)).toBe(true)
  })

  it('ok/round-trip-with-unwrapped-parts', () => {
    const key = new Uint8Array(100).fill(7)
    const certs = encodeCertsOnly([])
    const { body, contentType } = encodeServerKeygen(key, certs, 0)
    expect(decodeServerKeygen(body, contentType).map((p) => Buffer.from(p.der))).toEqual([Buffer.from(key), Buffer.from(certs)])
  })
})

describe('decodeBase64Body', () => {
  it('fail/a-megabyte-of-pem-headers-is-refused-in-linear-time', () => {
    const body = enc('-----BEGIN CERTIFICATE REQUEST-----'.repeat(30_000))
    const started = performance.now()
    expect(() => decodeBase64Body(body, ['CERTIFICATE REQUEST'])).toThrow(/malformed PEM/)
    expect(performance.now() - started).toBeLessThan(500)
  })

  it('fail/pem-label-not-offered', () => {
    expect(() => decodeBase64Body(enc(toPem(new Uint8Array([1]), 'PRIVATE KEY')), ['CERTIFICATE REQUEST'])).toThrow(EstError)
  })
})
