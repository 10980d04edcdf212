// Server-side key generation (RFC 7030 §4.4), protocol-neutral: a key pair chosen for the profile, and a PKCS#10
// request for it that carries the client's subject and SANs, self-signed with the new key, so the certificate
// goes down the one issuance path like any other.
// When the profile's CA generates keys itself (CanGenerateKey: Vault), the service lets the CA generate and escrow
// the key instead, and the request made here only carries the subject and SANs through policy.
import { webcrypto } from 'node:crypto'
import type { ProfileConfig } from '../config/schema.js'
import { IssuanceError } from '../errors.js'
import { parseCsr, type KeyInfo, type ParsedCsr } from '../pki/csr.js'
import type { Der } from '../pki/pem.js'
import { x509 } from '../pki/x509.js'

const subtle = webcrypto.subtle as unknown as SubtleCrypto

export type ServerKeyAlgorithm =
  | { kind: 'ecdsa'; curve: 'P-256' | 'P-384' | 'P-521' }
  | { kind: 'rsa'; bits: number }
  | { kind: 'ed25519' }

/**
 * The key to generate: the algorithm (and size) of the CSR's own key when the profile accepts it — the client's
 * way of saying which key it wants — else the profile's first choice: ECDSA (P-256 when allowed), RSA at the
 * profile's minimum (at least 2048 bits), then Ed25519.
 */
export function serverKeyAlgorithm(keys: ProfileConfig['keys'], requested: KeyInfo): ServerKeyAlgorithm {
  const rsaOk = (bits: number) => keys.rsaMinBits > 0 && bits >= keys.rsaMinBits && bits <= keys.rsaMaxBits
  if (requested.kind === 'ecdsa' && keys.ecdsaCurves.includes(requested.curve)) return requested
  if (requested.kind === 'rsa' && rsaOk(requested.bits) && requested.bits % 8 === 0) return requested
  if (requested.kind === 'ed25519' && keys.ed25519) return requested
  if (keys.ecdsaCurves.length) return { kind: 'ecdsa', curve: keys.ecdsaCurves.includes('P-256') ? 'P-256' : keys.ecdsaCurves[0]! }
  const bits = Math.max(2048, keys.rsaMinBits)
  if (rsaOk(bits)) return { kind: 'rsa', bits }
  if (keys.ed25519) return { kind: 'ed25519' }
  throw new IssuanceError('policyDenied', 'the profile allows no key algorithm the server can generate')
}

function webCryptoParams(alg: ServerKeyAlgorithm): { generate: Algorithm; signing: Algorithm } {
  switch (alg.kind) {
    case 'ecdsa': {
      const hash = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' }[alg.curve]
      return { generate: { name: 'ECDSA', namedCurve: alg.curve } as EcKeyGenParams, signing: { name: 'ECDSA', hash } as EcdsaParams }
    }
    case 'rsa': {
      const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      return {
        generate: { ...rsa, modulusLength: alg.bits, publicExponent: new Uint8Array([1, 0, 1]) } as RsaHashedKeyGenParams,
        signing: rsa,
      }
    }
    case 'ed25519':
      return { generate: { name: 'Ed25519' }, signing: { name: 'Ed25519' } }
  }
}

export interface ServerGeneratedRequest {
  /** The request to issue: the client's subject and SANs, the server-generated public key. */
  csr: ParsedCsr
  /** RFC 5958 OneAsymmetricKey (PKCS#8) DER of the generated private key. */
  privateKeyPkcs8: Der
}

/** Generates the key pair and a request for it that keeps the client request's subject and SANs. */
export async function requestWithServerKey(client: ParsedCsr, keys: ProfileConfig['keys']): Promise<ServerGeneratedRequest> {
  const params = webCryptoParams(serverKeyAlgorithm(keys, client.key))
  const pair = (await subtle.generateKey(params.generate, true, ['sign', 'verify'])) as CryptoKeyPair
  const sans = client.requestedSans.map(
    (s): x509.JsonGeneralName => ({ type: s.type === 'uri' ? 'url' : s.type, value: s.value }),
  )
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name(client.subjectDer),
    keys: pair,
    signingAlgorithm: params.signing,
    extensions: sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  })
  return {
    csr: await parseCsr(new Uint8Array(request.rawData)),
    privateKeyPkcs8: new Uint8Array(await subtle.exportKey('pkcs8', pair.privateKey)),
  }
}
