// src/pki/csr.ts: RFC 2986 PKCS#10 parsing, self-signature check (proof of possession), key description.
import { webcrypto } from 'node:crypto'
import * as asn1js from 'asn1js'
import { beforeAll, describe, expect, it } from 'vitest'
import { IssuanceError } from '../../../src/errors.js'
import { csrBytes, describeKey, parseCsr } from '../../../src/pki/csr.js'
import { toPem } from '../../../src/pki/pem.js'
import { x509 } from '../../../src/pki/x509.js'
import { makeCsr, makeKeys } from '../../helpers/csr.js'

const spki = async (keys: CryptoKeyPair) =>
  new Uint8Array(
    await webcrypto.subtle.exportKey('spki', keys.publicKey as unknown as webcrypto.CryptoKey),
  )

/** The IssuanceError parseCsr rejects with; fails when it resolves. */
async function rejection(input: Uint8Array | string): Promise<IssuanceError> {
  const e = await parseCsr(input).then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(IssuanceError)
  return e as IssuanceError
}

describe('parseCsr keys and encodings (RFC 2986 §4)', () => {
  it.each([
    ['ok/ecdsa-p256-der', 'ecdsa-p256', 'der', { kind: 'ecdsa', curve: 'P-256' }],
    ['ok/ecdsa-p384-pem', 'ecdsa-p384', 'pem', { kind: 'ecdsa', curve: 'P-384' }],
    ['ok/ecdsa-p521-der', 'ecdsa-p521', 'der', { kind: 'ecdsa', curve: 'P-521' }],
    ['ok/rsa-2048-pem', 'rsa-2048', 'pem', { kind: 'rsa', bits: 2048 }],
    ['ok/rsa-1024-der', 'rsa-1024', 'der', { kind: 'rsa', bits: 1024 }],
    ['ok/ed25519-der', 'ed25519', 'der', { kind: 'ed25519' }],
    ['ok/ed25519-pem', 'ed25519', 'pem', { kind: 'ed25519' }],
  ] as const)('%s', async (_name, key, encoding, expected) => {
    const made = await makeCsr({
      key,
      subject: 'CN=www.example.com, O=Example',
      dns: ['www.example.com'],
    })
    const parsed = await parseCsr(encoding === 'der' ? made.der : made.pem)
    expect(parsed.key).toEqual(expected)
    expect(parsed.subject).toBe('CN=www.example.com, O=Example')
    expect(parsed.commonName).toBe('www.example.com')
    expect(Buffer.from(parsed.der).equals(Buffer.from(made.der))).toBe(true)
    expect(Buffer.from(parsed.publicKeyDer).equals(Buffer.from(await spki(made.keys)))).toBe(true)
    expect(new x509.Name(parsed.subjectDer).toString()).toBe('CN=www.example.com, O=Example')
    expect(parsed.challengePassword).toBeUndefined()
  })

  it('ok/new-certificate-request-pem-label', async () => {
    const made = await makeCsr({ dns: ['a.example.com'] })
    const parsed = await parseCsr(toPem(made.der, 'NEW CERTIFICATE REQUEST'))
    expect(parsed.requestedSans).toEqual([{ type: 'dns', value: 'a.example.com' }])
  })

  it('ok/base64-der-text', async () => {
    const made = await makeCsr({ dns: ['a.example.com'] })
    const parsed = await parseCsr(Buffer.from(made.der).toString('base64'))
    expect(Buffer.from(parsed.der).equals(Buffer.from(made.der))).toBe(true)
  })

  it('ok/no-subject', async () => {
    const parsed = await parseCsr((await makeCsr({ dns: ['a.example.com'] })).der)
    expect(parsed.subject).toBe('')
    expect(parsed.commonName).toBeUndefined()
  })

  it('ok/csr-bytes-copies-input', () => {
    const input = new Uint8Array([1, 2, 3])
    const out = csrBytes(input)
    input[0] = 9
    expect([...out]).toEqual([1, 2, 3])
  })
})

describe('parseCsr subjectAltName and attributes', () => {
  it('ok/every-san-type', async () => {
    const made = await makeCsr({
      dns: ['WWW.Example.COM', 'api.example.com'],
      ip: ['192.0.2.1', '2001:db8::1'],
      email: ['ops@example.com'],
      uri: ['spiffe://example.org/ns/a'],
    })
    expect((await parseCsr(made.der)).requestedSans).toEqual([
      { type: 'dns', value: 'www.example.com' },
      { type: 'dns', value: 'api.example.com' },
      { type: 'ip', value: '192.0.2.1' },
      { type: 'ip', value: '2001:db8::1' },
      { type: 'email', value: 'ops@example.com' },
      { type: 'uri', value: 'spiffe://example.org/ns/a' },
    ])
  })

  it('ok/no-san-extension', async () => {
    expect(
      (await parseCsr((await makeCsr({ subject: 'CN=x.example.com' })).der)).requestedSans,
    ).toEqual([])
  })

  it('ok/challenge-password', async () => {
    const made = await makeCsr({ dns: ['a.example.com'], challengePassword: 's3cret-otp' })
    expect((await parseCsr(made.der)).challengePassword).toBe('s3cret-otp')
  })

  it('fail/unsupported-san-type', async () => {
    const keys = await makeKeys('ecdsa-p256')
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: '',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dn', value: 'CN=inner' }])],
    })
    const e = await rejection(new Uint8Array(csr.rawData))
    expect(e.kind).toBe('badCsr')
    expect(e.detail).toBe('CSR subjectAltName is malformed: SAN type dn is not supported')
  })
})

describe('parseCsr refusals', () => {
  it.each([
    ['fail/tampered-signature-rsa', 'rsa-2048'],
    ['fail/tampered-signature-ecdsa', 'ecdsa-p256'],
    ['fail/tampered-signature-ed25519', 'ed25519'],
  ] as const)('%s', async (_name, key) => {
    const made = await makeCsr({ key, dns: ['a.example.com'] })
    const der = new Uint8Array(made.der)
    der[der.length - 2]! ^= 0x01
    const e = await rejection(der)
    expect(e.kind).toBe('badCsr')
    expect(e.detail).toMatch(
      /^CSR signature (does not verify with its public key|cannot be checked: )/,
    )
  })

  it('fail/tampered-request-info', async () => {
    const made = await makeCsr({ dns: ['aaaa.example.com'] })
    const der = Buffer.from(made.der)
    const at = der.indexOf('aaaa.example.com')
    expect(at).toBeGreaterThan(0)
    der[at] = 'b'.charCodeAt(0)
    const e = await rejection(new Uint8Array(der))
    expect(e).toMatchObject({
      kind: 'badCsr',
      detail: 'CSR signature does not verify with its public key',
    })
  })

  it('fail/signed-by-another-key', async () => {
    const made = await makeCsr({ key: 'ed25519', dns: ['a.example.com'] })
    const other = await makeKeys('ed25519')
    // The same CertificationRequestInfo and algorithm, signed by a key the request does not carry.
    const [info, algorithm] = (asn1js.fromBER(made.der).result as asn1js.Sequence).valueBlock.value
    const tbs = new Uint8Array(info!.toBER())
    const signature = await webcrypto.subtle.sign(
      'Ed25519',
      other.privateKey as unknown as webcrypto.CryptoKey,
      tbs,
    )
    const forged = new asn1js.Sequence({
      value: [info!, algorithm!, new asn1js.BitString({ valueHex: signature })],
    })
    const e = await rejection(new Uint8Array(forged.toBER()))
    expect(e).toMatchObject({
      kind: 'badCsr',
      detail: 'CSR signature does not verify with its public key',
    })
  })

  it.each([
    ['fail/junk-bytes', async () => new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3])],
    ['fail/empty', async () => new Uint8Array()],
    ['fail/truncated', async () => (await makeCsr({ dns: ['a.example.com'] })).der.slice(0, 40)],
    [
      'fail/pem-with-wrong-label',
      async () => toPem((await makeCsr({ dns: ['a.example.com'] })).der, 'CERTIFICATE'),
    ],
    ['fail/not-base64', async () => 'not a CSR at all!'],
  ])('%s', async (_name, input: () => Promise<Uint8Array | string>) => {
    const e = await rejection(await input())
    expect(e.kind).toBe('badCsr')
    expect(e.detail).toMatch(/^CSR is not a DER PKCS#10 request: /)
  })
})

describe('describeKey', () => {
  let rsa: Uint8Array
  beforeAll(async () => {
    rsa = await spki(await makeKeys('rsa-2048'))
  })

  it('ok/rsa-bits-from-modulus', () => {
    expect(describeKey(rsa)).toEqual({ kind: 'rsa', bits: 2048 })
  })

  it('ok/ed25519', async () => {
    expect(describeKey(await spki(await makeKeys('ed25519')))).toEqual({ kind: 'ed25519' })
  })

  it('ok/unknown-algorithm-is-unsupported', async () => {
    const x25519 = (await webcrypto.subtle.generateKey({ name: 'X25519' }, true, [
      'deriveBits',
    ])) as webcrypto.CryptoKeyPair
    const der = new Uint8Array(await webcrypto.subtle.exportKey('spki', x25519.publicKey))
    expect(describeKey(der)).toEqual({ kind: 'unsupported', oid: '1.3.101.110' })
  })
})
