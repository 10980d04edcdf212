// TEST ONLY: a two-level CA (root + issuing, ECDSA P-256, generated per run) that the Vault and ACM-PCA doubles
// sign with, so what they issue verifies like a real CA's certificates.
import { randomBytes, webcrypto } from 'node:crypto'
import { x509 } from '../../src/pki/x509.js'

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

export interface TestCa {
  root: x509.X509Certificate
  issuing: x509.X509Certificate
  issuingKey: CryptoKey
  /** Issuing CA first, root last. */
  chainPem: string[]
}

/** A random positive serial of `octets` octets, as hex. */
export function randomSerialHex(octets = 20): string {
  const b = randomBytes(octets)
  b[0] = (b[0]! & 0x7f) | 0x01
  return b.toString('hex')
}

export async function makeTestCa(name: string): Promise<TestCa> {
  const now = Date.now()
  const rootKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name: `CN=${name} Root (TEST ONLY)`,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 3650 * 86_400_000),
    keys: rootKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  })
  const issuingKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const issuing = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: `CN=${name} Issuing CA (TEST ONLY)`,
    issuer: root.subjectName,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 1825 * 86_400_000),
    publicKey: issuingKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(issuingKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  })
  return { root, issuing, issuingKey: issuingKeys.privateKey, chainPem: [issuing.toString('pem'), root.toString('pem')] }
}

export interface LeafParams {
  serialHex: string
  subject: x509.Name | string
  publicKey: x509.PublicKey
  notBefore: Date
  notAfter: Date
  sans: x509.JsonGeneralName[]
  keyUsage: number
  extKeyUsage: string[]
  extra?: x509.Extension[]
}

/** Signs an end-entity certificate with the issuing CA's key. */
export async function signLeaf(ca: TestCa, p: LeafParams): Promise<x509.X509Certificate> {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(p.keyUsage, true),
    await x509.SubjectKeyIdentifierExtension.create(p.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.issuing.publicKey),
  ]
  if (p.extKeyUsage.length) extensions.push(new x509.ExtendedKeyUsageExtension(p.extKeyUsage))
  if (p.sans.length) extensions.push(new x509.SubjectAlternativeNameExtension(p.sans))
  extensions.push(...(p.extra ?? []))
  return x509.X509CertificateGenerator.create({
    serialNumber: p.serialHex,
    subject: p.subject,
    issuer: ca.issuing.subjectName,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    publicKey: p.publicKey,
    signingKey: ca.issuingKey,
    signingAlgorithm: ALG,
    extensions,
  })
}

/** A CRL of the issuing CA listing `revoked` (hex serials). */
export async function signCrl(
  ca: TestCa,
  number: number,
  revoked: { serialHex: string; at: Date; reason?: x509.X509CrlReason }[],
): Promise<x509.X509Crl> {
  const now = Date.now()
  return x509.X509CrlGenerator.create({
    issuer: ca.issuing.subjectName,
    thisUpdate: new Date(now - 1000),
    nextUpdate: new Date(now + 86_400_000),
    entries: revoked.map((r) => ({ serialNumber: r.serialHex, revocationDate: r.at, ...(r.reason !== undefined ? { reason: r.reason } : {}) })),
    signingKey: ca.issuingKey,
    signingAlgorithm: ALG,
    extensions: [new x509.Extension('2.5.29.20', false, new Uint8Array([0x02, 0x01, number & 0x7f]))],
  })
}

/** Key usage flags by the names Vault and the PCA templates use. */
export const KU = x509.KeyUsageFlags
