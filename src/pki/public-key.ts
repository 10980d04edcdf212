// SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) → node:crypto KeyObject. OpenSSL 3 decodes a key given as DER through
// its decoder framework (~110 µs for RSA-2048 here) but takes the same key as a JWK in ~6 µs. A key whose encoding
// is exactly the DER that names it (RFC 3279 §2.3.1 RSA, RFC 5480 §2 EC on a named curve, RFC 8410 §4 Ed25519) is
// imported from its JWK; anything else goes through OpenSSL's DER decoder, which accepts or refuses it as before.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { children, contents, decodeBer, oidString, sameBytes, TAG } from './ber.js'
import { bitString, NULL, oid, sequence, tlv } from './der.js'

const RSA = '1.2.840.113549.1.1.1'
const EC = '1.2.840.10045.2.1'
const ED25519 = '1.3.101.112'
const curves: Record<string, { crv: string; size: number }> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', size: 32 },
  '1.3.132.0.34': { crv: 'P-384', size: 48 },
  '1.3.132.0.35': { crv: 'P-521', size: 66 },
}

const b64u = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url')
/** A positive INTEGER in minimal form (X.690 §8.3.2). */
const minimalPositive = (c: Uint8Array) => c.length > 0 && !(c[0]! & 0x80) && !(c[0] === 0 && (c.length === 1 || !(c[1]! & 0x80)))

/** The JWK of a canonically encoded RSA, named-curve EC or Ed25519 key; undefined for anything else. */
function canonicalJwk(spki: Uint8Array): JsonWebKey | undefined {
  const [algorithm, key, extra] = children(decodeBer(spki))
  if (extra || algorithm?.tag !== TAG.SEQUENCE || key?.tag !== TAG.BIT_STRING) return undefined
  const [algorithmId, params] = children(algorithm)
  const bits = contents(key)
  if (bits[0] !== 0) return undefined
  const value = bits.subarray(1)
  let jwk: JsonWebKey | undefined
  let rebuilt: Uint8Array | undefined
  const type = oidString(algorithmId, 'algorithm')
  if (type === RSA && params?.tag === TAG.NULL) {
    const [n, e] = children(decodeBer(value))
    if (n?.tag !== TAG.INTEGER || e?.tag !== TAG.INTEGER || !minimalPositive(contents(n)) || !minimalPositive(contents(e))) return undefined
    const modulus = contents(n)
    jwk = { kty: 'RSA', n: b64u(modulus[0] === 0 ? modulus.subarray(1) : modulus), e: b64u(contents(e)) }
    rebuilt = sequence(sequence(oid(RSA), NULL), bitString(sequence(tlv(TAG.INTEGER, modulus), tlv(TAG.INTEGER, contents(e)))))
  } else if (type === EC && params?.tag === TAG.OID) {
    const curveOid = oidString(params, 'namedCurve')
    const curve = curves[curveOid]
    if (!curve || value.length !== 1 + 2 * curve.size || value[0] !== 0x04) return undefined
    jwk = { kty: 'EC', crv: curve.crv, x: b64u(value.subarray(1, 1 + curve.size)), y: b64u(value.subarray(1 + curve.size)) }
    rebuilt = sequence(sequence(oid(EC), oid(curveOid)), bitString(value))
  } else if (type === ED25519 && !params && value.length === 32) {
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(value) }
    rebuilt = sequence(sequence(oid(ED25519)), bitString(value))
  }
  return jwk && rebuilt && sameBytes(rebuilt, spki) ? jwk : undefined
}

/** The public JWK of a canonically encoded key (as canonicalPublicKey takes it), without importing it; else undefined. */
export function jwkOf(spki: Uint8Array): JsonWebKey | undefined {
  try {
    return canonicalJwk(spki)
  } catch {
    return undefined
  }
}

/**
 * The KeyObject of a key encoded as OpenSSL writes it (`export({ type: 'spki' })`): RSA with NULL parameters and
 * minimal INTEGERs, EC on a named curve with an uncompressed point, Ed25519 — all in DER. Undefined otherwise.
 */
export function canonicalPublicKey(spki: Uint8Array): KeyObject | undefined {
  const jwk = jwkOf(spki)
  return jwk ? createPublicKey({ key: jwk, format: 'jwk' }) : undefined
}

/** The KeyObject of a DER SubjectPublicKeyInfo; throws as createPublicKey does for what OpenSSL refuses. */
export function publicKeyFromSpki(spki: Uint8Array): KeyObject {
  const jwk = jwkOf(spki)
  if (jwk) return createPublicKey({ key: jwk, format: 'jwk' })
  return createPublicKey({ key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength), format: 'der', type: 'spki' })
}
