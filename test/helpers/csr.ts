// Builds real PKCS#10 requests with WebCrypto and @peculiar/x509 (TEST ONLY keys, generated per run).
import { webcrypto } from 'node:crypto'
import { x509 } from '../../src/pki/x509.js'

export type TestKeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa-1024' | 'rsa-2048' | 'rsa-3072' | 'ed25519'

export interface MakeCsrOptions {
  key?: TestKeyType
  subject?: string
  dns?: string[]
  ip?: string[]
  email?: string[]
  uri?: string[]
  challengePassword?: string
}

function algorithm(key: TestKeyType) {
  if (key.startsWith('ecdsa')) {
    const curve = { 'ecdsa-p256': 'P-256', 'ecdsa-p384': 'P-384', 'ecdsa-p521': 'P-521' }[key as 'ecdsa-p256']
    const hash = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' }[curve]
    return { name: 'ECDSA', namedCurve: curve, hash }
  }
  if (key === 'ed25519') return { name: 'Ed25519' }
  return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: Number(key.slice(4)), publicExponent: new Uint8Array([1, 0, 1]) }
}

export async function makeKeys(key: TestKeyType = 'ecdsa-p256'): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm(key) as EcKeyGenParams, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
}

export async function makeCsr(o: MakeCsrOptions = {}, keys?: CryptoKeyPair): Promise<{ der: Uint8Array<ArrayBuffer>; pem: string; keys: CryptoKeyPair }> {
  const key = o.key ?? 'ecdsa-p256'
  const pair = keys ?? (await makeKeys(key))
  const names: x509.JsonGeneralName[] = [
    ...(o.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(o.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(o.email ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(o.uri ?? []).map((value) => ({ type: 'url' as const, value })),
  ]
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: o.subject ?? '',
    keys: pair,
    signingAlgorithm: algorithm(key) as Algorithm,
    extensions: names.length ? [new x509.SubjectAlternativeNameExtension(names)] : [],
    attributes: o.challengePassword ? [new x509.ChallengePasswordAttribute(o.challengePassword)] : [],
  })
  return { der: new Uint8Array(csr.rawData), pem: csr.toString('pem'), keys: pair }
}
