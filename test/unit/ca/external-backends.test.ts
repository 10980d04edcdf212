// Pure parts of the Vault and AWS Private CA backends: serial forms at the boundary, PCA's reason enum and signing
// algorithm choice, API passthrough values, the idempotency token, and the hand-written stored ZIP.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { zipStored } from '../../../src/admin/zip.js'
import type { SignRequest } from '../../../src/ca/backend.js'
import { colonSerial } from '../../../src/ca/external.js'
import { apiPassthrough, idempotencyToken, pcaRevocationReason, signingAlgorithmFor } from '../../../src/ca/pca/index.js'
import { requestableReasons } from '../../../src/pki/revocation-reason.js'
import { normalizeSerial } from '../../../src/pki/serial.js'
import { x509 } from '../../../src/pki/x509.js'
import { makeTestCa } from '../../doubles/ca.js'

const request = (o: Partial<SignRequest> = {}): SignRequest => ({
  reservationId: '42',
  serial: '01',
  profile: 'default',
  subjectDer: new Uint8Array(new x509.Name('CN=a.example.com, O=Example').toArrayBuffer()),
  publicKeyDer: new Uint8Array([1, 2, 3]),
  sans: [
    { type: 'dns', value: 'a.example.com' },
    { type: 'ip', value: '192.0.2.1' },
    { type: 'email', value: 'ops@example.com' },
    { type: 'uri', value: 'spiffe://example.org/a' },
  ],
  notBefore: new Date('2030-01-01T00:00:00Z'),
  notAfter: new Date('2030-04-01T00:00:00Z'),
  keyUsage: ['digitalSignature'],
  extKeyUsage: ['1.3.6.1.5.5.7.3.1'],
  csrDer: new Uint8Array([4, 5, 6]),
  ...o,
})

describe('serials at the boundary (inventory: lowercase hex; Vault and PCA: colon-separated)', () => {
  it.each([
    ['ok/plain', '3a0fbc', '3a:0f:bc'],
    ['ok/leading-zero-octet-dropped', '00ff01', 'ff:01'],
    ['ok/uppercase-and-colons-in', '3A:0F:BC', '3a:0f:bc'],
  ])('%s', (_n, input, colon) => {
    expect(colonSerial(input)).toBe(colon)
    expect(normalizeSerial(colon)).toBe(normalizeSerial(input))
  })
})

describe('AWS Private CA mappings', () => {
  it('ok/every-requestable-CRLReason-has-a-PCA-reason', () => {
    for (const code of requestableReasons) expect(pcaRevocationReason[code], `reason ${code}`).toBeDefined()
    expect(pcaRevocationReason[1]).toBe('KEY_COMPROMISE')
    expect(pcaRevocationReason[10]).toBe('A_A_COMPROMISE')
    expect(pcaRevocationReason[6]).toBeUndefined()
  })

  it('ok/signing-algorithm-matches-the-CA-key', async () => {
    const ca = await makeTestCa('unit')
    expect(signingAlgorithmFor(new Uint8Array(ca.issuing.rawData))).toBe('SHA256WITHECDSA')
  })

  it('ok/api-passthrough-carries-the-decided-subject-and-SANs', () => {
    const p = apiPassthrough(request())
    expect(p.Subject?.CustomAttributes).toEqual([
      { ObjectIdentifier: '2.5.4.3', Value: 'a.example.com' },
      { ObjectIdentifier: '2.5.4.10', Value: 'Example' },
    ])
    expect(p.Extensions?.SubjectAlternativeNames).toEqual([
      { DnsName: 'a.example.com' },
      { IpAddress: '192.0.2.1' },
      { Rfc822Name: 'ops@example.com' },
      { UniformResourceIdentifier: 'spiffe://example.org/a' },
    ])
    expect(p.Extensions?.CustomExtensions).toBeUndefined()
  })

  it('ok/ocsp-signing-requests-id-pkix-ocsp-nocheck', () => {
    const p = apiPassthrough(request({ extKeyUsage: ['1.3.6.1.5.5.7.3.9'] }))
    expect(p.Extensions?.CustomExtensions).toEqual([{ ObjectIdentifier: '1.3.6.1.5.5.7.48.1.5', Value: 'BQA=', Critical: false }])
  })

  it('ok/idempotency-token-is-stable-per-request-and-differs-across-requests', () => {
    const t = idempotencyToken(request(), 'arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1')
    expect(t).toMatch(/^[0-9a-f]{32}$/)
    expect(idempotencyToken(request(), 'arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1')).toBe(t)
    // Same reservation id in another deployment (another CSR): another token.
    expect(idempotencyToken(request({ csrDer: new Uint8Array([9]) }), 'arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1')).not.toBe(t)
    expect(idempotencyToken(request({ reservationId: '43' }), 'arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1')).not.toBe(t)
  })
})

const PY_UNZIP = `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
z.extractall(sys.argv[2])
print(json.dumps({"bad": bad, "modes": {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}}))
`

describe('zipStored (APPNOTE §4.3, stored entries)', () => {
  it('ok/python-zipfile-reads-names-contents-and-modes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enroll-zip-unit-'))
    try {
      const zip = zipStored([
        { name: 'server.crt', data: Buffer.from('CERT\n') },
        { name: 'server.key', data: Buffer.from('KEY\n'), mode: 0o600 },
        { name: 'empty.txt', data: new Uint8Array(0) },
      ])
      writeFileSync(join(dir, 'a.zip'), zip)
      // An independent reader: Python's zipfile checks CRCs (testzip), extracts, and reports the recorded modes.
      const report = execFileSync('python3', ['-c', PY_UNZIP, join(dir, 'a.zip'), join(dir, 'out')]).toString()
      expect(JSON.parse(report)).toEqual({ bad: null, modes: { 'server.crt': 0o644, 'server.key': 0o600, 'empty.txt': 0o644 } })
      expect(readFileSync(join(dir, 'out', 'server.crt'), 'utf8')).toBe('CERT\n')
      expect(readFileSync(join(dir, 'out', 'server.key'), 'utf8')).toBe('KEY\n')
      expect(readFileSync(join(dir, 'out', 'empty.txt')).length).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
