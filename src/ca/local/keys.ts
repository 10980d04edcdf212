// Key generation and PKCS#8/PEM persistence for the embedded CA.
import { webcrypto } from 'node:crypto'
import type { CaKeyAlgorithm } from '../../config/schema.js'
import { describeKey } from '../../pki/csr.js'
import { fromPem, toPem, type Der } from '../../pki/pem.js'

const subtle = webcrypto.subtle as unknown as SubtleCrypto

export interface KeyParams {
  generate: RsaHashedKeyGenParams | EcKeyGenParams
  import: RsaHashedImportParams | EcKeyImportParams
  signing: Algorithm | EcdsaParams
}

export function keyParams(alg: CaKeyAlgorithm): KeyParams {
  switch (alg) {
    case 'ecdsa-p256':
    case 'ecdsa-p384': {
      const namedCurve = alg === 'ecdsa-p256' ? 'P-256' : 'P-384'
      const hash = alg === 'ecdsa-p256' ? 'SHA-256' : 'SHA-384'
      return {
        generate: { name: 'ECDSA', namedCurve },
        import: { name: 'ECDSA', namedCurve },
        signing: { name: 'ECDSA', hash } as EcdsaParams,
      }
    }
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096': {
      const modulusLength = Number(alg.slice(4))
      const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      return {
        generate: { ...rsa, modulusLength, publicExponent: new Uint8Array([1, 0, 1]) },
        import: rsa,
        signing: rsa,
      }
    }
  }
}

/** The CaKeyAlgorithm matching an existing public key (for CA files loaded from disk). */
export function algorithmOfKey(spki: Der): CaKeyAlgorithm {
  const key = describeKey(spki)
  if (key.kind === 'ecdsa' && key.curve === 'P-256') return 'ecdsa-p256'
  if (key.kind === 'ecdsa' && key.curve === 'P-384') return 'ecdsa-p384'
  if (key.kind === 'rsa' && [2048, 3072, 4096].includes(key.bits)) return `rsa-${key.bits}` as CaKeyAlgorithm
  throw new Error(`CA key type ${JSON.stringify(key)} is not supported`)
}

export function generateKeyPair(alg: CaKeyAlgorithm): Promise<CryptoKeyPair> {
  return subtle.generateKey(keyParams(alg).generate, true, ['sign', 'verify']) as Promise<CryptoKeyPair>
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return toPem(new Uint8Array(await subtle.exportKey('pkcs8', key)), 'PRIVATE KEY')
}

export function importPrivateKeyPem(pem: string, alg: CaKeyAlgorithm): Promise<CryptoKey> {
  return subtle.importKey('pkcs8', fromPem(pem, 'PRIVATE KEY'), keyParams(alg).import, false, ['sign'])
}

export { subtle }
