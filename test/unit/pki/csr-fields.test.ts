// The positional readers of csr-fields.ts against @peculiar/x509, the reference they must agree with: on requests
// captured from real clients, on generated names and SANs, and on random plain values (fast-check). Where a reader
// answers, its answer is @peculiar/x509's; where the input is not plain, it does not answer.
import { readFileSync, readdirSync } from 'node:fs'
import { webcrypto } from 'node:crypto'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { plainChallengePassword, plainName, plainRequestedSans } from '../../../src/pki/csr-fields.js'
import { parseCsr, type Identifier, type ParsedCsr } from '../../../src/pki/csr.js'
import { fromPem } from '../../../src/pki/pem.js'
import { x509 } from '../../../src/pki/x509.js'
import { raCredential } from '../../../src/scep/index.js'
import type { ContentCipher } from '../../../protocols/scep/codec/cms.js'
import { decodeEnvelope, openEnvelope } from '../../../protocols/scep/codec/envelope.js'
import { decodePkiMessage } from '../../../protocols/scep/codec/pki-message.js'

/** What @peculiar/x509 reads from a request: the fields parseCsr answered with before csr-fields.ts. */
function reference(der: Uint8Array<ArrayBuffer>): Pick<ParsedCsr, 'subject' | 'commonName' | 'challengePassword' | 'requestedSans'> {
  const csr = new x509.Pkcs10CertificateRequest(der)
  const challenge = csr.getAttribute('1.2.840.113549.1.9.7')
  const extensions = csr.getAttribute('1.2.840.113549.1.9.14')
  const ext = extensions ? new x509.ExtensionsAttribute(extensions.rawData).items.find((e) => e.type === '2.5.29.17') : undefined
  const names = ext ? new x509.SubjectAlternativeNameExtension(ext.rawData).names.items : []
  const kinds: Record<string, Identifier['type']> = { dns: 'dns', ip: 'ip', email: 'email', url: 'uri' }
  return {
    subject: csr.subjectName.toString(),
    commonName: csr.subjectName.getField('CN')[0],
    challengePassword: challenge ? new x509.ChallengePasswordAttribute(challenge.rawData).password : undefined,
    requestedSans: names.map((n) => ({ type: kinds[n.type]!, value: n.type === 'dns' ? n.value.toLowerCase() : n.value })),
  }
}

const fields = (p: ParsedCsr) => ({ subject: p.subject, commonName: p.commonName, challengePassword: p.challengePassword, requestedSans: p.requestedSans })

function capturedCsrs(): [string, Uint8Array<ArrayBuffer>][] {
  const out: [string, Uint8Array<ArrayBuffer>][] = []
  for (const f of readdirSync('fixtures/acme').filter((n) => n.endsWith('-finalize.json'))) {
    const body = JSON.parse(JSON.parse(readFileSync(`fixtures/acme/${f}`, 'utf8')).request.body) as { payload: string }
    const payload = JSON.parse(Buffer.from(body.payload, 'base64url').toString()) as { csr: string }
    out.push([f, new Uint8Array(Buffer.from(payload.csr, 'base64url'))])
  }
  out.push(['est/curl-simpleenroll-request.b64', new Uint8Array(Buffer.from(readFileSync('fixtures/est/curl-simpleenroll-request.b64', 'utf8'), 'base64'))])
  out.push(['est/curl-simplereenroll-request.pem', fromPem(readFileSync('fixtures/est/curl-simplereenroll-request.pem', 'utf8'), 'CERTIFICATE REQUEST')])
  for (const f of readdirSync('fixtures/est').filter((n) => n.endsWith('.http'))) {
    const body = readFileSync(`fixtures/est/${f}`, 'latin1').split(/\r?\n\r?\n/).slice(1).join('\n')
    out.push([`est/${f}`, new Uint8Array(Buffer.from(body, 'base64'))])
  }
  const text = (name: string) => readFileSync(`fixtures/scep/${name}`, 'utf8')
  const ra = raCredential('local', text('ra.crt.pem'), text('ra-test-only.key.pem'))
  const ciphers = new Set<ContentCipher>(['aes-128-cbc', 'aes-192-cbc', 'aes-256-cbc', 'des-ede3-cbc', 'des-cbc'])
  for (const f of readdirSync('fixtures/scep').filter((n) => /(pkcsreq|renewalreq)-[a-z0-9]+\.der$/.test(n))) {
    const msg = decodePkiMessage(new Uint8Array(readFileSync(`fixtures/scep/${f}`)))
    out.push([`scep/${f}`, new Uint8Array(openEnvelope(decodeEnvelope(msg.content), [ra], ciphers))])
  }
  return out
}

describe('parseCsr reads what @peculiar/x509 reads (csr-fields.ts)', () => {
  it.each(capturedCsrs())('ok/captured-%s', async (_, der) => {
    const parsed = await parseCsr(der)
    expect(fields(parsed)).toEqual(reference(der))
  })

  it('ok/captured-requests-are-plain', () => {
    // The point of the readers: what real clients send takes the positional path. Not uacme (a critical keyUsage
    // beside its SANs) nor certmonger (basicConstraints and subjectKeyIdentifier): only @peculiar/x509 reads those.
    const others = /^(uacme|scep\/certmonger)/
    for (const [name, der] of capturedCsrs().filter(([n]) => !others.test(n))) {
      const csr = new x509.Pkcs10CertificateRequest(der)
      expect(plainName(new Uint8Array(csr.subjectName.toArrayBuffer())), name).toBeDefined()
      const extensions = csr.getAttribute('1.2.840.113549.1.9.14')
      if (extensions) expect(plainRequestedSans(new Uint8Array(extensions.rawData)), name).toBeDefined()
      const challenge = csr.getAttribute('1.2.840.113549.1.9.7')
      if (challenge) expect(plainChallengePassword(new Uint8Array(challenge.rawData)), name).toBeDefined()
    }
  })
})

/** The Name's DER as @peculiar/x509 encodes `text` (JSON form, to choose the string type). */
const nameDer = (n: x509.JsonName) => new Uint8Array(new x509.Name(n).toArrayBuffer())
const referenceName = (der: Uint8Array<ArrayBuffer>) => {
  const n = new x509.Name(der)
  return { text: n.toString(), commonName: n.getField('CN')[0] }
}

describe('plainName = @peculiar/x509 Name (RFC 4514 text)', () => {
  it.each([
    ['empty', []],
    ['CN only', [{ CN: ['device-1'] }]],
    ['several RDNs', [{ C: ['DE'] }, { O: ['Example, Inc.'] }, { OU: ['a+b'] }, { CN: ['x "y" <z>; \\'] }]],
    ['multi-valued RDN', [{ CN: ['a'], O: ['b'] }]],
    ['leading and trailing spaces, leading #', [{ CN: [' lead'] }, { O: ['trail '] }, { OU: [{ utf8String: '#hash' }] }]],
    ['every short name', [{ L: ['l'] }, { ST: ['st'] }, { DC: ['dc'] }, { E: ['a@b.example'] }, { G: ['g'] }, { I: ['i'] }, { SN: ['sn'] }, { T: ['t'] }]],
    ['an unnamed type', [{ '2.5.4.5': ['SER-1'] }, { CN: ['c'] }]],
    ['two CNs', [{ CN: ['first'] }, { CN: ['second'] }]],
  ] as [string, x509.JsonName][])('ok/%s', (_, json) => {
    const der = nameDer(json)
    expect(plainName(der)).toEqual(referenceName(der))
  })

  it('ok/printable-strings-and-ia5', () => {
    const der = nameDer([
      { C: [{ printableString: 'DE' }] },
      { CN: [{ printableString: "a-b (c) 'd'" }] },
      { OU: [{ printableString: 'outside the set: a@b!*' }] },
      { E: [{ ia5String: 'x@y.test' }] },
    ] as unknown as x509.JsonName)
    expect(plainName(der)).toEqual(referenceName(der))
  })

  it.each([
    ['non-ASCII UTF8String', [{ CN: ['Grüße'] }]],
    ['BMPString', [{ CN: [{ bmpString: 'bmp' }] }]],
    ['control character', [{ CN: ['a\tb'] }]],
  ] as [string, x509.JsonName][])('fail/%s-is-not-plain', (_, json) => {
    expect(plainName(nameDer(json))).toBeUndefined()
  })

  it('fail/not-a-name-is-not-plain', () => {
    expect(plainName(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01))).toBeUndefined()
    expect(plainName(Uint8Array.of(0x31, 0x00))).toBeUndefined()
    expect(plainName(Uint8Array.of(0x30, 0x80, 0x00, 0x00))).toBeUndefined()
  })

  it('ok/random-plain-names-match', () => {
    const ascii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 24 })
    const value = fc.oneof(
      ascii.map((v) => ({ utf8String: v })),
      ascii.map((v) => ({ printableString: v })),
      ascii.map((v) => ({ ia5String: v })),
    )
    const type = fc.constantFrom('CN', 'O', 'OU', 'L', 'ST', 'E', 'DC', '2.5.4.5')
    const rdn = fc.dictionary(type, fc.array(value, { minLength: 1, maxLength: 2 }), { minKeys: 1, maxKeys: 3 })
    fc.assert(
      fc.property(fc.array(rdn, { maxLength: 5 }), (json) => {
        const der = nameDer(json as unknown as x509.JsonName)
        expect(plainName(der)).toEqual(referenceName(der))
      }),
      { numRuns: 500 },
    )
  })
})

describe('plainChallengePassword and plainRequestedSans = @peculiar/x509', () => {
  let keys: CryptoKeyPair
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  beforeAll(async () => {
    keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
  })
  const csr = async (attributes: x509.Attribute[], extensions: x509.Extension[] = []) =>
    new Uint8Array(
      (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=t', keys, signingAlgorithm: alg, attributes, extensions })).rawData,
    )

  it.each(['secret', 'with spaces and !@#$%^&*', ''])('ok/challenge-%j', async (password) => {
    const der = await csr([new x509.ChallengePasswordAttribute(password)])
    expect(fields(await parseCsr(der))).toEqual(reference(der))
    const attr = new x509.Pkcs10CertificateRequest(der).getAttribute('1.2.840.113549.1.9.7')!
    expect(plainChallengePassword(new Uint8Array(attr.rawData))).toBe(password)
  })

  it('fail/non-ascii-challenge-is-not-plain-but-still-read', async () => {
    const der = await csr([new x509.ChallengePasswordAttribute('pässword')])
    const attr = new x509.Pkcs10CertificateRequest(der).getAttribute('1.2.840.113549.1.9.7')!
    expect(plainChallengePassword(new Uint8Array(attr.rawData))).toBeUndefined()
    expect(fields(await parseCsr(der))).toEqual(reference(der))
  })

  const san = (names: x509.JsonGeneralName[]) => new x509.SubjectAlternativeNameExtension(names)

  it.each([
    ['dns', [{ type: 'dns', value: 'WWW.Example.TEST' }, { type: 'dns', value: '*.example.test' }]],
    ['ip v4', [{ type: 'ip', value: '192.0.2.7' }]],
    ['email and uri', [{ type: 'email', value: 'a@example.test' }, { type: 'url', value: 'spiffe://example.test/x' }]],
    ['none', []],
  ] as [string, x509.JsonGeneralName[]][])('ok/san-%s', async (_, names) => {
    const der = await csr([], [san(names)])
    expect(fields(await parseCsr(der))).toEqual(reference(der))
    const attr = new x509.Pkcs10CertificateRequest(der).getAttribute('1.2.840.113549.1.9.14')!
    expect(plainRequestedSans(new Uint8Array(attr.rawData))).toEqual(reference(der).requestedSans)
  })

  it.each([
    ['ip v6', [san([{ type: 'ip', value: '2001:db8::1' }])]],
    ['a key usage beside the SAN', [san([{ type: 'dns', value: 'a.test' }]), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature)]],
    ['a critical SAN', [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'a.test' }], true)]],
  ] as [string, x509.Extension[]][])('fail/%s-is-not-plain-but-still-read', async (_, extensions) => {
    const der = await csr([], extensions)
    const attr = new x509.Pkcs10CertificateRequest(der).getAttribute('1.2.840.113549.1.9.14')!
    expect(plainRequestedSans(new Uint8Array(attr.rawData))).toBeUndefined()
    expect(fields(await parseCsr(der))).toEqual(reference(der))
  })
})
