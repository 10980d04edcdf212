// src/ca/local: the embedded CA hierarchy (root + issuing CA) on disk, and leaves it signs (RFC 5280 §4).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SignRequest } from '../../../../src/ca/backend.js'
import { LocalCa } from '../../../../src/ca/local/index.js'
import { backendSchema, type CaKeyAlgorithm } from '../../../../src/config/schema.js'
import { parseCsr } from '../../../../src/pki/csr.js'
import { toPem, type Der } from '../../../../src/pki/pem.js'
import { newSerial } from '../../../../src/pki/serial.js'
import { x509 } from '../../../../src/pki/x509.js'
import { makeCsr } from '../../../helpers/csr.js'

const DAY = 24 * 3600 * 1000
const dirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'enroll-localca-'))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const localConfig = (keyAlgorithm: CaKeyAlgorithm = 'ecdsa-p256') => {
  const c = backendSchema.parse({ kind: 'local', keyAlgorithm })
  if (c.kind !== 'local') throw new Error('expected a local backend config')
  return c
}
const open = (dataDir: string, keyAlgorithm?: CaKeyAlgorithm, create = true) =>
  LocalCa.open(
    { id: 'local', dataDir, config: localConfig(keyAlgorithm), publicHttpUrl: 'http://pki.test' },
    create,
  )

async function signRequest(dns: string): Promise<SignRequest> {
  const csr = await parseCsr((await makeCsr({ dns: [dns] })).der)
  const now = Date.now()
  return {
    reservationId: '1',
    serial: newSerial(),
    profile: 'default',
    subjectDer: csr.subjectDer,
    publicKeyDer: csr.publicKeyDer,
    sans: csr.requestedSans,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 30 * DAY),
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['1.3.6.1.5.5.7.3.1'],
  }
}

/** openssl's own path validation of leaf → issuing → root. */
function opensslVerify(leaf: Uint8Array, chain: Uint8Array[]): string {
  const dir = tempDir()
  const files = ['leaf', 'issuing', 'root'].map((n) => join(dir, `${n}.pem`))
  ;[leaf, ...chain].forEach((der, i) => writeFileSync(files[i]!, toPem(der, 'CERTIFICATE')))
  return execFileSync(
    'openssl',
    ['verify', '-x509_strict', '-CAfile', files[2]!, '-untrusted', files[1]!, files[0]!],
    {
      encoding: 'utf8',
    },
  ).trim()
}

describe('LocalCa.open (first start)', () => {
  let dataDir: string
  let generated: boolean
  let chain: Der[]
  beforeAll(async () => {
    dataDir = tempDir()
    const opened = await open(dataDir)
    generated = opened.generated
    chain = await opened.ca.chain()
  })

  it('ok/files-written-keys-private', () => {
    expect(generated).toBe(true)
    const dir = join(dataDir, 'ca', 'local')
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    for (const f of ['root.key.pem', 'issuing.key.pem'])
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
    for (const f of ['root.crt.pem', 'issuing.crt.pem'])
      expect(statSync(join(dir, f)).mode & 0o022).toBe(0)
    expect(readFileSync(join(dir, 'issuing.key.pem'), 'utf8')).toMatch(
      /^-----BEGIN PRIVATE KEY-----\n/,
    )
    expect(existsSync(join(dir, 'issuing.key.pem.tmp'))).toBe(false)
  })

  it('ok/root-self-signed-ca', async () => {
    const root = new x509.X509Certificate(chain[1]!)
    expect(root.subject).toBe('CN=Enroll Development CA Root')
    expect(root.issuer).toBe(root.subject)
    expect(await root.verify({ signatureOnly: true })).toBe(true)
    const bc = root.getExtension(x509.BasicConstraintsExtension)!
    expect([bc.critical, bc.ca, bc.pathLength]).toEqual([true, true, undefined])
    const ku = root.getExtension(x509.KeyUsagesExtension)!
    expect([ku.critical, ku.usages]).toEqual([
      true,
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    ])
    expect(root.getExtension(x509.SubjectKeyIdentifierExtension)).toBeTruthy()
    expect(root.notAfter.getTime() - root.notBefore.getTime()).toBeGreaterThan(3649 * DAY)
  })

  it('ok/issuing-ca-under-root', async () => {
    const [issuing, root] = chain.map((d) => new x509.X509Certificate(d))
    expect(issuing!.subject).toBe('CN=Enroll Development CA Issuing CA')
    expect(issuing!.issuer).toBe(root!.subject)
    expect(await issuing!.verify({ publicKey: root!.publicKey, signatureOnly: true })).toBe(true)
    const bc = issuing!.getExtension(x509.BasicConstraintsExtension)!
    expect([bc.critical, bc.ca, bc.pathLength]).toEqual([true, true, 0])
    const ku = issuing!.getExtension(x509.KeyUsagesExtension)!
    expect(ku.critical).toBe(true)
    expect(ku.usages & (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign)).toBe(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    )
    expect(issuing!.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(
      root!.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId,
    )
    expect(issuing!.notAfter.getTime()).toBeLessThanOrEqual(root!.notAfter.getTime())
  })

  it('ok/reopen-uses-the-same-ca', async () => {
    const again = await open(dataDir)
    expect(again.generated).toBe(false)
    const reopened = await again.ca.chain()
    expect(reopened.map((d) => Buffer.from(d).toString('hex'))).toEqual(
      chain.map((d) => Buffer.from(d).toString('hex')),
    )
    const signed = await again.ca.sign(await signRequest('after-reopen.example.com'))
    const issuing = new x509.X509Certificate(chain[0]!)
    expect(
      await new x509.X509Certificate(signed.certificateDer).verify({
        publicKey: issuing.publicKey,
        signatureOnly: true,
      }),
    ).toBe(true)
    expect(opensslVerify(signed.certificateDer, signed.chainDer)).toMatch(/: OK$/)
  })

  it('fail/partial-ca-refused', async () => {
    const partial = tempDir()
    await open(partial)
    rmSync(join(partial, 'ca', 'local', 'issuing.key.pem'))
    await expect(open(partial)).rejects.toThrow(
      /^ca: .* holds only part of a CA \(certificate or key missing\); refusing to regenerate$/,
    )
    expect(existsSync(join(partial, 'ca', 'local', 'issuing.key.pem'))).toBe(false)
  })

  it('fail/no-ca-without-create', async () => {
    const empty = tempDir()
    await expect(open(empty, undefined, false)).rejects.toThrow(
      /^ca: no CA in .*; run "enroll ca init" or "enroll serve" first$/,
    )
    expect(existsSync(join(empty, 'ca', 'local'))).toBe(false)
  })
})

describe('LocalCa key algorithms', () => {
  it.each([
    ['ok/ecdsa-p384', 'ecdsa-p384', 'ECDSA'],
    ['ok/rsa-2048', 'rsa-2048', 'RSASSA-PKCS1-v1_5'],
  ] as const)('%s', async (_name, alg, signatureName) => {
    const { ca } = await open(tempDir(), alg)
    const signed = await ca.sign(await signRequest('alg.example.com'))
    const cert = new x509.X509Certificate(signed.certificateDer)
    expect(cert.signatureAlgorithm.name).toBe(signatureName)
    expect(opensslVerify(signed.certificateDer, signed.chainDer)).toMatch(/: OK$/)
  })
})
