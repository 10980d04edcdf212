// Challenge checks as pure functions: RFC 8737 tls-alpn-01 certificate, RFC 8738 §6 reverse names, RFC 8659 /
// RFC 8657 CAA decisions.
import { createHash, webcrypto } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { caaPermits, parseIssueValue } from '../../../../../protocols/acme/challenges/caa.js'
import { checkAcmeTlsCertificate, ID_PE_ACME_IDENTIFIER, reverseName } from '../../../../../protocols/acme/challenges/tls-alpn-01.js'
import { AcmeProblem } from '../../../../../protocols/acme/problems.js'
import { x509 } from '../../../../../src/pki/x509.js'

async function acmeCert(names: x509.JsonGeneralName[], keyAuthz: string, critical = true): Promise<Uint8Array> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const digest = createHash('sha256').update(keyAuthz).digest()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=acme-tls',
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.SubjectAlternativeNameExtension(names),
      new x509.Extension(ID_PE_ACME_IDENTIFIER, critical, new Uint8Array([0x04, 0x20, ...digest])),
    ],
  })
  return new Uint8Array(cert.rawData)
}

const problemType = (fn: () => unknown) => {
  try {
    fn()
    return 'ok'
  } catch (e) {
    if (e instanceof AcmeProblem) return e.type
    throw e
  }
}

describe('tls-alpn-01 certificate (RFC 8737 §3)', () => {
  const id = { type: 'dns' as const, value: 'a.example.com' }
  it('ok/one-san-critical-extension-right-digest', async () => {
    expect(problemType(() => checkAcmeTlsCertificate(new Uint8Array(0), id, 'x'))).toBe('tls')
    const der = await acmeCert([{ type: 'dns', value: 'a.example.com' }], 'tok.thumb')
    expect(problemType(() => checkAcmeTlsCertificate(der, id, 'tok.thumb'))).toBe('ok')
  })
  it.each([
    ['fail/wrong-digest', [{ type: 'dns', value: 'a.example.com' }], 'other', true],
    ['fail/two-sans', [{ type: 'dns', value: 'a.example.com' }, { type: 'dns', value: 'b.example.com' }], 'tok.thumb', true],
    ['fail/other-name', [{ type: 'dns', value: 'b.example.com' }], 'tok.thumb', true],
    ['fail/not-critical', [{ type: 'dns', value: 'a.example.com' }], 'tok.thumb', false],
  ] as const)('%s', async (_n, names, keyAuthz, critical) => {
    const der = await acmeCert([...names], keyAuthz, critical)
    expect(problemType(() => checkAcmeTlsCertificate(der, id, 'tok.thumb'))).toBe('unauthorized')
  })
  it('ok/ip-identifier-uses-ip-san', async () => {
    const der = await acmeCert([{ type: 'ip', value: '2001:db8::1' }], 'k')
    expect(problemType(() => checkAcmeTlsCertificate(der, { type: 'ip', value: '2001:db8::1' }, 'k'))).toBe('ok')
  })
})

describe('reverse names (RFC 8738 §6)', () => {
  it.each([
    ['192.0.2.5', '5.2.0.192.in-addr.arpa'],
    ['2001:db8::1', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'],
  ])('ok/%s', (ip, name) => {
    expect(reverseName(ip)).toBe(name)
  })
})

describe('CAA (RFC 8659 §4, RFC 8657)', () => {
  const ctx = { identities: ['ca.example'], accountUrl: 'https://ca.example/acme/acct/1', method: 'http-01', wildcard: false }
  it.each([
    ['ok/no-records', [], ctx, true],
    ['ok/iodef-only', [{ critical: 0, iodef: 'mailto:x@y' }], ctx, true],
    ['ok/issue-names-us', [{ critical: 0, issue: 'ca.example' }], ctx, true],
    ['fail/issue-names-another-ca', [{ critical: 0, issue: 'other.example' }], ctx, false],
    ['fail/empty-issue-forbids-all', [{ critical: 0, issue: ';' }], ctx, false],
    ['ok/accounturi-matches', [{ critical: 0, issue: 'ca.example; accounturi=https://ca.example/acme/acct/1' }], ctx, true],
    ['fail/accounturi-other', [{ critical: 0, issue: 'ca.example; accounturi=https://ca.example/acme/acct/2' }], ctx, false],
    ['fail/validationmethods-exclude', [{ critical: 0, issue: 'ca.example; validationmethods=dns-01' }], ctx, false],
    ['ok/validationmethods-include', [{ critical: 0, issue: 'ca.example; validationmethods=dns-01,http-01' }], ctx, true],
    ['ok/issuewild-for-wildcard', [{ critical: 0, issue: 'other.example' }, { critical: 0, issuewild: 'ca.example' }], { ...ctx, wildcard: true }, true],
    ['fail/issuewild-denies-wildcard', [{ critical: 0, issue: 'ca.example' }, { critical: 0, issuewild: ';' }], { ...ctx, wildcard: true }, false],
    ['fail/critical-unknown-tag', [{ critical: 128, tbs: 'x' } as never, { critical: 0, issue: 'ca.example' }], ctx, false],
  ] as const)('%s', (_n, records, c, ok) => {
    expect(caaPermits([...records] as never, c).ok).toBe(ok)
  })
  it('ok/parse-issue-value', () => {
    expect(parseIssueValue(' CA.example ; accounturi = u ')).toEqual({ issuer: 'ca.example', params: new Map([['accounturi', 'u']]) })
  })
})
