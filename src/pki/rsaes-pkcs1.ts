// RFC 8017 §7.2.2 RSAES-PKCS1-v1_5 decryption with implicit rejection (draft-irtf-cfrg-rsa-guidance §7; the
// algorithm OpenSSL 3.2+ runs by default, ossl_rsa_padding_check_PKCS1_type_2). Node 20 refuses PKCS#1 v1.5
// private decryption (CVE-2023-46809, the Marvin attack) because its OpenSSL 3.0 lacks implicit rejection; SCEP
// clients wrap their content keys exactly that way. So the RSA primitive runs raw (RSA_NO_PADDING, which Node
// allows) and the unpadding happens here: a malformed block never raises an error, it yields a synthetic message
// derived from the private key and the ciphertext, so a caller cannot tell (by error or by value) whether the
// padding was valid — there is no Bleichenbacher oracle. The unpadding has no data-dependent branch or index: it
// computes with 0/-1 masks over the whole block, as OpenSSL does (JavaScript cannot promise constant time the way
// C can; the masks keep the JIT's work independent of the secret).
import { constants, createHash, createHmac, privateDecrypt, type KeyObject } from 'node:crypto'

/** A private key prepared for implicit rejection: the KDK key is SHA-256 of the private exponent (k octets). */
export interface ImplicitRejectionKey {
  key: KeyObject
  /** Modulus length in octets. */
  k: number
  dHash: Buffer
}

export function prepareRsaKey(key: KeyObject): ImplicitRejectionKey {
  const jwk = key.export({ format: 'jwk' })
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.d) throw new Error('not an RSA private key')
  const n = Buffer.from(jwk.n, 'base64url')
  let start = 0
  while (start < n.length - 1 && n[start] === 0) start++
  const k = n.length - start
  const d = Buffer.from(jwk.d, 'base64url')
  const dPadded = Buffer.concat([Buffer.alloc(Math.max(0, k - d.length)), d])
  return { key, k, dHash: createHash('sha256').update(dPadded).digest() }
}

// ── constant-time helpers on small non-negative integers (< 2^30): masks are 0 or -1 ──────────────────
const msb = (a: number) => a >> 31
const isZero = (a: number) => msb(~a & (a - 1))
const eq = (a: number, b: number) => isZero(a ^ b)
const lt = (a: number, b: number) => msb(a - b)
const ge = (a: number, b: number) => ~lt(a, b)
const select = (mask: number, a: number, b: number) => (mask & a) | (~mask & b)

/** draft-irtf-cfrg-rsa-guidance PRF: HMAC-SHA256(KDK, I2OSP(i, 2) || label || I2OSP(bits, 2)), i = 0, 1, … */
function prf(kdk: Buffer, label: string, bits: number): Buffer {
  const octets = bits / 8
  const out = Buffer.alloc(octets)
  const tail = Buffer.concat([Buffer.from(label, 'latin1'), Buffer.from([(bits >> 8) & 0xff, bits & 0xff])])
  for (let i = 0, pos = 0; pos < octets; i++, pos += 32) {
    const block = createHmac('sha256', kdk)
      .update(Buffer.from([(i >> 8) & 0xff, i & 0xff]))
      .update(tail)
      .digest()
    block.copy(out, pos, 0, Math.min(32, octets - pos))
  }
  return out
}

const CANDIDATE_LENGTHS = 128

/**
 * Decrypts `ciphertext` (at most k octets; shorter values are left-padded with zeros, as OpenSSL accepts) and
 * removes EME-PKCS1-v1_5 padding with implicit rejection. Throws only for publicly invalid input (wrong length,
 * value not below the modulus), never for bad padding.
 */
export function rsaesPkcs1v15Decrypt(prepared: ImplicitRejectionKey, ciphertext: Uint8Array): Buffer {
  const { k } = prepared
  if (ciphertext.length < 1 || ciphertext.length > k) throw new Error(`RSA ciphertext of ${ciphertext.length} octets for a ${k}-octet modulus`)
  if (k < 11 + 2) throw new Error('RSA modulus too small for PKCS#1 v1.5')
  const c = Buffer.concat([Buffer.alloc(k - ciphertext.length), ciphertext])
  // Throws "data too large for modulus" when c ≥ n: publicly invalid, no secret involved.
  const em = privateDecrypt({ key: prepared.key, padding: constants.RSA_NO_PADDING }, c)

  const kdk = createHmac('sha256', prepared.dHash).update(c).digest()
  const synthetic = prf(kdk, 'message', k * 8)
  const candidates = prf(kdk, 'length', CANDIDATE_LENGTHS * 2 * 8)
  const maxSepOffset = k - 2 - 8
  let mask = maxSepOffset
  mask |= mask >> 1
  mask |= mask >> 2
  mask |= mask >> 4
  mask |= mask >> 8
  let syntheticLength = 0
  for (let i = 0; i < CANDIDATE_LENGTHS * 2; i += 2) {
    const candidate = ((candidates[i]! << 8) | candidates[i + 1]!) & mask
    syntheticLength = select(lt(candidate, maxSepOffset), candidate, syntheticLength)
  }
  const syntheticIndex = k - syntheticLength

  let good = isZero(em[0]!) & eq(em[1]!, 2)
  let foundZero = 0
  let zeroIndex = 0
  for (let i = 2; i < k; i++) {
    const isZeroByte = isZero(em[i]!)
    zeroIndex = select(~foundZero & isZeroByte, i, zeroIndex)
    foundZero |= isZeroByte
  }
  // At least 8 octets of padding string (RFC 8017 §7.2.2 step 3); no zero octet at all leaves zeroIndex 0.
  good &= ge(zeroIndex, 2 + 8)
  const msgIndex = select(good, zeroIndex + 1, syntheticIndex)

  const out = Buffer.alloc(k - msgIndex)
  for (let i = msgIndex, j = 0; i < k; i++, j++) out[j] = select(good, em[i]!, synthetic[i]!) & 0xff
  em.fill(0)
  return out
}
