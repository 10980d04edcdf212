// RFC 5280 §5 CRLs written by the streaming builder, parsed back with @peculiar/x509 and pkijs.
import { execFileSync, spawnSync } from 'node:child_process'
import { webcrypto } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as pkijs from 'pkijs'
import { describe, expect, it } from 'vitest'
import type { CrlSigner } from '../../../src/ca/backend.js'
import { pkiUrls } from '../../../src/ca/urls.js'
import { ecdsaRawToDer, oid, sequence } from '../../../src/pki/der.js'
import { keyIdentifier } from '../../../src/pki/key-identifier.js'
import { x509 } from '../../../src/pki/x509.js'
import { buildCrl, encodeEntries } from '../../../src/revocation/crl-builder.js'
import type { RevokedEntry } from '../../../src/store/index.js'

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }

/** A throwaway issuing CA (TEST ONLY key, generated per run) acting as CRL signer. */
async function testSigner(shards = 0): Promise<{ signer: CrlSigner; cert: x509.X509Certificate }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, false, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Test CRL Issuer',
    keys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  })
  const signer: CrlSigner = {
    issuerNameDer: new Uint8Array(cert.subjectName.toArrayBuffer()),
    keyIdentifier: new Uint8Array(Buffer.from(keyIdentifier(new Uint8Array(cert.publicKey.rawData)), 'hex')),
    signatureAlgorithmDer: sequence(oid('1.2.840.10045.4.3.2')),
    shards,
    urls: pkiUrls('http://pki.test', 'local'),
    async sign(tbs) {
      return ecdsaRawToDer(new Uint8Array(await webcrypto.subtle.sign(ALG, keys.privateKey as unknown as webcrypto.CryptoKey, tbs)))
    },
  }
  return { signer, cert }
}

async function* batches(entries: RevokedEntry[], size = 1000) {
  for (let i = 0; i < entries.length; i += size) yield entries.slice(i, i + size)
}

const entry = (serial: string, reason: number | null, invalidityDate: Date | null = null): RevokedEntry => ({
  serial,
  revokedAt: new Date('2026-05-06T07:08:09Z'),
  reason,
  invalidityDate,
})

describe('buildCrl (RFC 5280 §5.1)', () => {
  it('ok/full-crl-verifies-and-lists-entries-with-reasons', async () => {
    const { signer, cert } = await testSigner()
    const built = await buildCrl({
      signer,
      kind: 'full',
      number: 7n,
      thisUpdate: new Date('2026-05-06T08:00:00Z'),
      nextUpdate: new Date('2026-05-07T08:00:00Z'),
      entries: batches([
        entry('01ab', 1, new Date('2026-05-01T00:00:00Z')),
        entry('80ff00', 4), // high bit: INTEGER needs a leading zero
        entry('7f', 0), // unspecified: no reasonCode extension (RFC 5280 §5.3.1)
        entry('0a0b0c', null),
      ]),
    })
    expect(built.entries).toBe(4)
    const crl = new x509.X509Crl(built.der)
    expect(await crl.verify({ publicKey: cert.publicKey })).toBe(true)
    expect(Buffer.from(built.der).indexOf(Buffer.from('020101', 'hex'))).toBeLessThan(12) // version v2 (INTEGER 1)
    expect(crl.thisUpdate.toISOString()).toBe('2026-05-06T08:00:00.000Z')
    expect(crl.nextUpdate?.toISOString()).toBe('2026-05-07T08:00:00.000Z')
    const bySerial = Object.fromEntries(crl.entries.map((e) => [e.serialNumber.toLowerCase(), e]))
    expect(Object.keys(bySerial).sort()).toEqual(['01ab', '0a0b0c', '7f', '80ff00'].sort())
    expect(bySerial['01ab']!.reason).toBe(x509.X509CrlReason.keyCompromise)
    expect(bySerial['01ab']!.invalidity?.toISOString()).toBe('2026-05-01T00:00:00.000Z')
    expect(bySerial['80ff00']!.reason).toBe(x509.X509CrlReason.superseded)
    expect(bySerial['7f']!.extensions).toHaveLength(0)
    const aki = crl.getExtension('2.5.29.35')!
    expect(Buffer.from(aki.value).toString('hex')).toContain(Buffer.from(signer.keyIdentifier).toString('hex'))
    expect(Buffer.from(crl.getExtension('2.5.29.20')!.value).toString('hex')).toBe('020107')
    expect(Buffer.from(crl.getExtension('2.5.29.46')!.value).toString('latin1')).toContain('http://pki.test/.well-known/pki/crl/local/delta')
    // pkijs agrees on the structure.
    const parsed = pkijs.CertificateRevocationList.fromBER(built.der)
    expect(parsed.revokedCertificates).toHaveLength(4)
  })

  it('ok/no-entries-omits-the-revoked-list', async () => {
    const { signer, cert } = await testSigner()
    const built = await buildCrl({
      signer,
      kind: 'full',
      number: 1n,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + 3_600_000),
      entries: batches([]),
    })
    const crl = new x509.X509Crl(built.der)
    expect(await crl.verify({ publicKey: cert.publicKey })).toBe(true)
    expect(crl.entries).toHaveLength(0)
    expect(pkijs.CertificateRevocationList.fromBER(built.der).revokedCertificates).toBeUndefined()
  })

  it('ok/delta-crl-has-critical-indicator-and-no-freshest', async () => {
    const { signer, cert } = await testSigner()
    const built = await buildCrl({
      signer,
      kind: 'delta',
      number: 9n,
      baseNumber: 8n,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + 3_600_000),
      entries: batches([entry('05', 1)]),
    })
    const crl = new x509.X509Crl(built.der)
    expect(await crl.verify({ publicKey: cert.publicKey })).toBe(true)
    const indicator = crl.getExtension('2.5.29.27')!
    expect(indicator.critical).toBe(true)
    expect(Buffer.from(indicator.value).toString('hex')).toBe('020108')
    expect(crl.getExtension('2.5.29.46')).toBeNull()
  })

  it('fail/delta-without-base-number', async () => {
    const { signer } = await testSigner()
    await expect(
      buildCrl({ signer, kind: 'delta', number: 2n, thisUpdate: new Date(), nextUpdate: new Date(), entries: batches([]) }),
    ).rejects.toThrow(/base CRL number/)
  })

  it('ok/shard-crl-has-critical-idp-with-shard-url-and-user-certs-only', async () => {
    const { signer } = await testSigner(4)
    const built = await buildCrl({
      signer,
      kind: 'full',
      shard: 3,
      number: 1n,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + 3_600_000),
      entries: batches([entry('03', 1)]),
    })
    const crl = new x509.X509Crl(built.der)
    const idp = crl.getExtension('2.5.29.28')!
    expect(idp.critical).toBe(true)
    const hex = Buffer.from(idp.value).toString('hex')
    expect(Buffer.from(idp.value).toString('latin1')).toContain('http://pki.test/.well-known/pki/crl/local/3')
    expect(hex.endsWith('8101ff')).toBe(true) // onlyContainsUserCerts TRUE
  })

  it('ok/generalized-time-from-2050 (RFC 5280 §5.1.2.4)', async () => {
    const { signer, cert } = await testSigner()
    const built = await buildCrl({
      signer,
      kind: 'full',
      number: 1n,
      thisUpdate: new Date('2051-01-01T00:00:00Z'),
      nextUpdate: new Date('2051-01-02T00:00:00Z'),
      entries: batches([{ serial: '42', revokedAt: new Date('2050-06-01T12:00:00Z'), reason: 1, invalidityDate: null }]),
    })
    const crl = new x509.X509Crl(built.der)
    expect(await crl.verify({ publicKey: cert.publicKey })).toBe(true)
    expect(crl.entries[0]!.revocationDate.toISOString()).toBe('2050-06-01T12:00:00.000Z')
    expect(crl.thisUpdate.toISOString()).toBe('2051-01-01T00:00:00.000Z')
  })

  it('ok/100000-entries-stream-and-verify-with-openssl', async () => {
    const { signer, cert } = await testSigner()
    const many = Array.from({ length: 100_000 }, (_, i) => entry(`1${i.toString(16).padStart(31, '0')}`, i % 11 === 7 ? 1 : i % 11))
    const built = await buildCrl({
      signer,
      kind: 'full',
      number: 2n,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + 3_600_000),
      entries: batches(many, 10_000),
    })
    expect(built.entries).toBe(100_000)
    // Too many nodes for the JS ASN.1 parsers' safety limits; openssl reads and verifies it.
    const dir = mkdtempSync(join(tmpdir(), 'enroll-crl-'))
    try {
      writeFileSync(join(dir, 'crl.der'), built.der)
      writeFileSync(join(dir, 'ca.pem'), cert.toString('pem'))
      const out = execFileSync('openssl', ['crl', '-inform', 'DER', '-in', join(dir, 'crl.der'), '-CAfile', join(dir, 'ca.pem'), '-noout', '-text'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] })
      expect(out.match(/Serial Number:/g)).toHaveLength(100_000)
      const verify = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', join(dir, 'crl.der'), '-CAfile', join(dir, 'ca.pem'), '-noout'], { encoding: 'utf8' })
      expect(verify.stderr + verify.stdout).toMatch(/verify OK/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})

describe('encodeEntries', () => {
  it('ok/each-entry-is-one-der-sequence', () => {
    const buf = encodeEntries([entry('01', 1), entry('ff', null)])
    expect(buf[0]).toBe(0x30)
    expect(buf[2]).toBe(0x02)
    expect(buf.subarray(2, 5).toString('hex')).toBe('020101')
    const second = 2 + buf[1]!
    expect(buf.subarray(second + 2, second + 6).toString('hex')).toBe('020200ff')
  })
})
