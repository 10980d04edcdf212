// ACME protocol rules as pure functions: identifiers (RFC 8555 §7.1.3, §7.4; RFC 8738), the finalize CSR check
// (§7.4), contacts (§7.3), challenge offers (§7.1.4), renewal windows (RFC 9773) and revocation reasons (§7.6).
import { ECDH, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { requireValidContacts } from '../../../../protocols/acme/accounts.js'
import { certIdOf, decodeCertId } from '../../../../protocols/acme/codec/cert-id.js'
import { suggestedWindow } from '../../../../protocols/acme/handlers/renewal-info.js'
import { acmeRevocationReasons } from '../../../../protocols/acme/handlers/revoke.js'
import {
  authzIdentifierFor,
  canonicalIp,
  challengeTypesFor,
  normalizeOrderIdentifiers,
  requireCsrMatchesOrder,
} from '../../../../protocols/acme/identifiers.js'
import { thumbprint, toPublicJwk } from '../../../../protocols/acme/codec/jws.js'
import { requireCsrKeyIsNotAccountKey } from '../../../../protocols/acme/orders.js'
import { AcmeProblem } from '../../../../protocols/acme/problems.js'
import { bitString, sequence } from '../../../../src/pki/der.js'
import { parseCsr } from '../../../../src/pki/csr.js'
import type { CertificateRecord } from '../../../../src/store/index.js'
import { makeCsr } from '../../../helpers/csr.js'

const problemType = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    if (e instanceof AcmeProblem) return e.type
    throw e
  }
  return 'ok'
}

describe('order identifiers (RFC 8555 §7.4, RFC 8738 §3)', () => {
  it.each([
    ['ok/dns-lowercased-trailing-dot-dropped', [{ type: 'dns', value: 'WWW.Example.COM.' }], [{ type: 'dns', value: 'www.example.com' }]],
    ['ok/wildcard-leftmost', [{ type: 'dns', value: '*.example.com' }], [{ type: 'dns', value: '*.example.com' }]],
    ['ok/ipv6-compressed', [{ type: 'ip', value: '2001:DB8:0:0:0:0:0:1' }], [{ type: 'ip', value: '2001:db8::1' }]],
    ['ok/duplicates-dropped', [{ type: 'dns', value: 'a.test' }, { type: 'dns', value: 'A.test' }], [{ type: 'dns', value: 'a.test' }]],
  ])('%s', (_n, input, output) => {
    expect(normalizeOrderIdentifiers(input)).toEqual(output)
  })

  it.each([
    ['fail/wildcard-not-leftmost', { type: 'dns', value: 'a.*.example.com' }, 'rejectedIdentifier'],
    ['fail/double-wildcard', { type: 'dns', value: '*.*.example.com' }, 'rejectedIdentifier'],
    ['fail/single-label', { type: 'dns', value: 'localhost' }, 'rejectedIdentifier'],
    ['fail/ip-as-dns', { type: 'dns', value: '10.0.0.1' }, 'rejectedIdentifier'],
    ['fail/bad-ip', { type: 'ip', value: '300.1.1.1' }, 'malformed'],
    ['fail/email-unsupported', { type: 'email', value: 'a@b.test' }, 'unsupportedIdentifier'],
  ])('%s', (_n, id, type) => {
    expect(problemType(() => normalizeOrderIdentifiers([id]))).toBe(type)
  })

  it('ok/wildcard-authz-is-for-the-base-name-with-dns-01-only', () => {
    const { identifier, wildcard } = authzIdentifierFor({ type: 'dns', value: '*.example.com' })
    expect(identifier).toEqual({ type: 'dns', value: 'example.com' })
    expect(challengeTypesFor(identifier, wildcard)).toEqual(['dns-01'])
    expect(challengeTypesFor({ type: 'ip', value: '127.0.0.1' }, false)).toEqual(['http-01', 'tls-alpn-01'])
  })

  it('ok/canonical-ip', () => {
    expect(canonicalIp('::ffff:1.2.3.4')).toBe('::ffff:102:304')
    expect(canonicalIp('example.com')).toBeUndefined()
  })
})

describe('finalize CSR must request exactly the order identifiers (RFC 8555 §7.4)', () => {
  const order = [
    { type: 'dns' as const, value: 'a.example.com' },
    { type: 'ip' as const, value: '2001:db8::1' },
  ]
  it('ok/same-set-any-order-cn-among-them', async () => {
    const csr = await parseCsr((await makeCsr({ subject: 'CN=A.example.com', ip: ['2001:db8:0::1'], dns: ['a.example.com'] })).der)
    expect(() => requireCsrMatchesOrder(csr, order)).not.toThrow()
  })
  it.each([
    ['fail/missing-identifier', { dns: ['a.example.com'] }],
    ['fail/extra-identifier', { dns: ['a.example.com', 'b.example.com'], ip: ['2001:db8::1'] }],
    ['fail/cn-not-in-order', { subject: 'CN=c.example.com', dns: ['a.example.com'], ip: ['2001:db8::1'] }],
    ['fail/email-san', { dns: ['a.example.com'], ip: ['2001:db8::1'], email: ['a@example.com'] }],
  ])('%s', async (_n, o) => {
    const csr = await parseCsr((await makeCsr(o)).der)
    expect(problemType(() => requireCsrMatchesOrder(csr, order))).toBe('badCSR')
  })
})

describe('contacts (RFC 8555 §7.3)', () => {
  it.each([
    ['ok/mailto', ['mailto:ops@example.com'], 'ok'],
    ['fail/tel', ['tel:+15551234'], 'unsupportedContact'],
    ['fail/hfields', ['mailto:ops@example.com?subject=hi'], 'invalidContact'],
    ['fail/two-addresses', ['mailto:a@example.com,b@example.com'], 'invalidContact'],
    ['fail/no-domain', ['mailto:ops'], 'invalidContact'],
  ])('%s', (_n, contact, type) => {
    expect(problemType(() => requireValidContacts(contact))).toBe(type)
  })
})

describe('renewalInfo (RFC 9773 §4.2)', () => {
  const record = (over: Partial<CertificateRecord> = {}) =>
    ({
      status: 'valid',
      backendId: 'local',
      profile: 'default',
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2026-04-01T00:00:00Z'),
      ...over,
    }) as CertificateRecord
  const now = new Date('2026-02-01T00:00:00Z')

  it('ok/last-third-of-lifetime', () => {
    const w = suggestedWindow(record(), [], now)
    const life = 90 * 86400_000
    expect(w.start.getTime()).toBe(Date.parse('2026-04-01T00:00:00Z') - life / 3)
    expect(w.end.getTime()).toBeGreaterThan(w.start.getTime())
  })
  it('ok/revoked-window-in-the-past', () => {
    expect(suggestedWindow(record({ status: 'revoked' }), [], now).end.getTime()).toBeLessThan(now.getTime())
  })
  it('ok/flag-newer-than-the-certificate-moves-it-to-now', () => {
    const flag = { scope: 'backend' as const, name: 'local', explanationUrl: 'https://x.test/why', createdAt: new Date('2026-01-15T00:00:00Z') }
    const w = suggestedWindow(record(), [flag], now)
    expect(w.start).toEqual(now)
    expect(w.explanationUrl).toBe('https://x.test/why')
    const older = { ...flag, createdAt: new Date('2025-12-01T00:00:00Z') }
    expect(suggestedWindow(record(), [older], now).start.getTime()).toBeGreaterThan(now.getTime())
  })
})

describe('certID (RFC 9773 §4.1)', () => {
  it('ok/rfc-9773-example-decodes', () => {
    // RFC 9773 §4.1 example: aKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4, serial 00:87:65:43:21
    expect(decodeCertId('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE')).toEqual({ aki: '69885b6b87464041e1b37b847ba0ae2cde01c8d4', serial: '87654321' })
  })
  it.each(['', 'abc', 'a.b.c', 'aYhb=.AIdl', 'a+b.c'])('fail/%s-is-malformed', (text) => {
    expect(problemType(() => decodeCertId(text))).toBe('malformed')
  })
  it('ok/certIdOf-is-a-function', () => {
    expect(typeof certIdOf).toBe('function')
  })
})

describe('revocation reasons (RFC 8555 §7.6, RFC 5280 §5.3.1)', () => {
  it('ok/subscriber-reasons-only', () => {
    expect([...acmeRevocationReasons].sort((a, b) => a - b)).toEqual([0, 1, 3, 4, 5, 9])
  })
})

describe('the CSR key is not the account key (RFC 8555 §11.1)', () => {
  const keyPairs = {
    'EC P-256': () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    'EC P-384': () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    'RSA 2048': () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
    Ed25519: () => generateKeyPairSync('ed25519'),
  }
  const spkiOf = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }))
  const thumbprintOf = (k: KeyObject) => thumbprint(toPublicJwk(k.export({ format: 'jwk' })))

  it.each(Object.entries(keyPairs))('%s: the same key is badCSR, another key passes', async (_name, make) => {
    const account = make().publicKey
    const other = make().publicKey
    const accountThumbprint = await thumbprintOf(account)
    await expect(requireCsrKeyIsNotAccountKey(spkiOf(account), accountThumbprint)).rejects.toMatchObject({ type: 'badCSR' })
    await expect(requireCsrKeyIsNotAccountKey(spkiOf(other), accountThumbprint)).resolves.toBeUndefined()
  })

  it('a key encoded another way (EC point compressed) is compared through OpenSSL and still caught', async () => {
    const account = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey
    const uncompressed = spkiOf(account)
    const compressedPoint = ECDH.convertKey(uncompressed.subarray(-65), 'prime256v1', undefined, undefined, 'compressed') as Buffer
    // SEQUENCE { the same AlgorithmIdentifier (bytes 2..22), BIT STRING { 02|03 x } }: not the canonical encoding.
    const spki = sequence(uncompressed.subarray(2, 23), bitString(new Uint8Array(compressedPoint)))
    await expect(requireCsrKeyIsNotAccountKey(spki, await thumbprintOf(account))).rejects.toMatchObject({ type: 'badCSR' })
  })
})
