// RFC 8555 §6.2 request authentication: flattened JWS (RFC 7515 §7.2.2) with a protected header naming alg,
// nonce, url and exactly one of jwk / kid. Signatures are verified with node:crypto over KeyObjects (RFC 7518 §3):
// WebCrypto, which jose uses, costs twice as much per verification and per key import.
import { constants, createHash, createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import { AcmeProblem } from '../problems.js'

/** Account key algorithms (RFC 8555 §6.2: ES256 mandatory, EdDSA recommended; RS256 for certbot/dehydrated). */
export const supportedAlgorithms = ['ES256', 'ES384', 'ES512', 'RS256', 'EdDSA'] as const
export type AccountKeyAlgorithm = (typeof supportedAlgorithms)[number]

/** RFC 8555 §7.3.4 EAB MAC algorithms. */
export const eabAlgorithms = ['HS256', 'HS384', 'HS512'] as const

export const RSA_MIN_BITS = 2048
export const RSA_MAX_BITS = 8192

export interface FlattenedJws {
  protected: string
  payload: string
  signature: string
}

export interface ProtectedHeader {
  alg: string
  nonce?: unknown
  url?: unknown
  jwk?: unknown
  kid?: unknown
  [member: string]: unknown
}

export type PublicJwk = JWK & { kty: 'EC' | 'RSA' | 'OKP' }

const b64url = /^[A-Za-z0-9_-]*$/

const malformed = (detail: string) => new AcmeProblem('malformed', detail)

function decodeB64urlJson(part: string, what: string): unknown {
  if (!b64url.test(part)) throw malformed(`${what} is not base64url`)
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    throw malformed(`${what} is not base64url-encoded JSON`)
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Parses the flattened JSON serialization. MUSTs (RFC 8555 §6.2): flattened form only (no `signatures`), no
 * unprotected header, a protected header that is a JSON object with an `alg`.
 */
export function decodeFlattenedJws(body: unknown): { jws: FlattenedJws; header: ProtectedHeader } {
  let parsed: unknown = body
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body)
    } catch {
      throw malformed('request body is not JSON')
    }
  }
  if (!isObject(parsed)) throw malformed('request body is not a JWS object')
  if ('signatures' in parsed) throw malformed('JWS must use the flattened JSON serialization')
  if ('header' in parsed) throw malformed('JWS unprotected header is not allowed')
  const { protected: prot, payload, signature } = parsed
  if (typeof prot !== 'string' || typeof payload !== 'string' || typeof signature !== 'string') {
    throw malformed('JWS must have string protected, payload and signature members')
  }
  // A length of 4n+1 is no base64url encoding at all (RFC 4648 §5).
  if (!b64url.test(payload) || !b64url.test(signature) || payload.length % 4 === 1 || signature.length % 4 === 1) {
    throw malformed('JWS payload or signature is not base64url')
  }
  const header = decodeB64urlJson(prot, 'JWS protected header')
  if (!isObject(header)) throw malformed('JWS protected header is not a JSON object')
  if (typeof header['alg'] !== 'string') throw malformed('JWS protected header has no alg')
  // RFC 7515 §4.1.11: extensions marked critical must be understood; ACME defines none, so none is.
  if ('crit' in header) throw malformed('JWS crit header parameters are not supported')
  return { jws: { protected: prot, payload, signature }, header: header as ProtectedHeader }
}

/** `none`, MACs and anything else outside our list → badSignatureAlgorithm, listing what we accept. */
export function requireSupportedAlgorithm(alg: string): AccountKeyAlgorithm {
  if ((supportedAlgorithms as readonly string[]).includes(alg)) return alg as AccountKeyAlgorithm
  throw new AcmeProblem('badSignatureAlgorithm', `JWS algorithm ${JSON.stringify(alg).slice(0, 40)} is not supported`, {
    extra: { algorithms: [...supportedAlgorithms] },
  })
}

const publicMembers: Record<string, string[]> = { EC: ['kty', 'crv', 'x', 'y'], RSA: ['kty', 'n', 'e'], OKP: ['kty', 'crv', 'x'] }
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const curveFor: Partial<Record<AccountKeyAlgorithm, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521', EdDSA: 'Ed25519' }

/** The public members only (what we store and thumbprint); private or symmetric key material → badPublicKey. */
export function toPublicJwk(jwk: unknown): PublicJwk {
  if (!isObject(jwk)) throw new AcmeProblem('malformed', 'jwk is not a JSON object')
  const members = publicMembers[String(jwk['kty'])]
  if (!members) throw new AcmeProblem('badPublicKey', `key type ${JSON.stringify(jwk['kty'])?.slice(0, 20)} is not supported`)
  if (privateMembers.some((m) => m in jwk)) throw new AcmeProblem('badPublicKey', 'jwk must not contain private key material')
  const out: Record<string, string> = {}
  for (const m of members) {
    const v = jwk[m]
    if (typeof v !== 'string' || !b64url.test(v) || (m !== 'kty' && m !== 'crv' && v === '')) {
      throw new AcmeProblem('badPublicKey', `jwk member "${m}" is missing or malformed`)
    }
    out[m] = v
  }
  return out as unknown as PublicJwk
}

/** Size of an RSA modulus from its base64url encoding. */
function rsaBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url')
  let i = 0
  while (i < bytes.length && bytes[i] === 0) i++
  if (i === bytes.length) return 0
  return (bytes.length - i) * 8 - (Math.clz32(bytes[i]!) - 24)
}

/**
 * Imports an account public key for `alg`. Checks: key type and curve match the algorithm; RSA between 2048 and
 * 8192 bits; the key parses (OpenSSL checks an EC point lies on its curve). Failures → badPublicKey.
 */
export async function importAccountKey(jwk: PublicJwk, alg: AccountKeyAlgorithm): Promise<KeyObject> {
  const kty = alg === 'RS256' ? 'RSA' : alg === 'EdDSA' ? 'OKP' : 'EC'
  if (jwk.kty !== kty) throw new AcmeProblem('badPublicKey', `a ${jwk.kty} key cannot sign ${alg}`)
  if (curveFor[alg] && jwk.crv !== curveFor[alg]) throw new AcmeProblem('badPublicKey', `${alg} needs curve ${curveFor[alg]}, not ${jwk.crv}`)
  if (kty === 'RSA') {
    const bits = rsaBits(jwk.n!)
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
      throw new AcmeProblem('badPublicKey', `RSA key of ${bits} bits is outside ${RSA_MIN_BITS}..${RSA_MAX_BITS}`)
    }
  }
  try {
    return createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
  } catch (e) {
    throw new AcmeProblem('badPublicKey', `jwk cannot be imported: ${(e as Error).message}`)
  }
}

export type JwsAlgorithm = AccountKeyAlgorithm | (typeof eabAlgorithms)[number]

/** RFC 7518 §3.1: the hash of each algorithm; ES* signatures are R || S of the curve's size (§3.4). */
const hashOf: Record<JwsAlgorithm, string | null> = {
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', RS256: 'sha256', EdDSA: null, HS256: 'sha256', HS384: 'sha384', HS512: 'sha512',
}
const ecSignatureBytes: Partial<Record<JwsAlgorithm, number>> = { ES256: 64, ES384: 96, ES512: 132 }

function signatureVerifies(alg: JwsAlgorithm, key: KeyObject | Uint8Array, input: Buffer, signature: Buffer): boolean {
  if (alg.startsWith('HS')) {
    if (!(key instanceof Uint8Array)) return false
    const mac = createHmac(hashOf[alg]!, key).update(input).digest()
    return mac.length === signature.length && timingSafeEqual(mac, signature)
  }
  if (key instanceof Uint8Array) return false
  if (alg === 'EdDSA') return key.asymmetricKeyType === 'ed25519' && verify(null, input, key, signature)
  if (alg === 'RS256') return key.asymmetricKeyType === 'rsa' && verify('sha256', input, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
  return key.asymmetricKeyType === 'ec' && signature.length === ecSignatureBytes[alg] && verify(hashOf[alg], input, { key, dsaEncoding: 'ieee-p1363' }, signature)
}

/**
 * Verifies the JWS signature (RFC 7515 §5.2) with `alg`, which the caller has checked against the algorithms it
 * accepts, over ASCII(protected "." payload); returns the payload bytes. A bad signature is `malformed` (RFC 8555
 * names no type for it).
 */
export async function verifySignature(jws: FlattenedJws, key: KeyObject | Uint8Array, alg: JwsAlgorithm): Promise<Uint8Array> {
  let ok = false
  try {
    ok = signatureVerifies(alg, key, Buffer.from(`${jws.protected}.${jws.payload}`, 'ascii'), Buffer.from(jws.signature, 'base64url'))
  } catch {
    ok = false
  }
  if (!ok) throw malformed('JWS signature is invalid')
  return new Uint8Array(Buffer.from(jws.payload, 'base64url'))
}

/**
 * RFC 8555 §6.3: an empty payload is POST-as-GET (returns undefined); anything else must be a JSON object.
 */
export function decodePayload(bytes: Uint8Array): Record<string, unknown> | undefined {
  if (bytes.byteLength === 0) return undefined
  let v: unknown
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    throw malformed('JWS payload is not JSON')
  }
  if (!isObject(v)) throw malformed('JWS payload must be a JSON object')
  return v
}

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members in lexicographic order. Computed with
 * node:crypto synchronously: this runs on every newAccount, keyChange and finalize.
 */
export async function thumbprint(jwk: PublicJwk): Promise<string> {
  const members = publicMembers[jwk.kty]!
  const canonical = `{${[...members].sort().map((m) => `${JSON.stringify(m)}:${JSON.stringify((jwk as unknown as Record<string, string>)[m])}`).join(',')}}`
  return createHash('sha256').update(canonical).digest('base64url')
}

/** RFC 8555 §8.1 key authorization: token "." base64url(JWK thumbprint). */
export const keyAuthorization = (token: string, accountThumbprint: string) => `${token}.${accountThumbprint}`

/** Same key? Compared by RFC 7638 thumbprint. */
export async function sameKey(a: unknown, b: unknown): Promise<boolean> {
  try {
    return (await thumbprint(toPublicJwk(a))) === (await thumbprint(toPublicJwk(b)))
  } catch {
    return false
  }
}

export interface InnerJws {
  jws: FlattenedJws
  header: ProtectedHeader
}

/** Decodes a JWS nested in a payload member (keyChange §7.3.5, externalAccountBinding §7.3.4). */
export function decodeNestedJws(value: unknown, what: string): InnerJws {
  if (!isObject(value)) throw malformed(`${what} must be a flattened JWS object`)
  try {
    return decodeFlattenedJws(value)
  } catch (e) {
    if (e instanceof AcmeProblem) throw malformed(`${what}: ${e.detail}`)
    throw e
  }
}

/**
 * Imported account keys, most recently used kept (bounded): importing a JWK costs more than verifying with it.
 * Keyed by the JWK's members and the algorithm, so a changed key is a different entry.
 */
export function accountKeyCache(max = 10_000) {
  const keys = new Map<string, Promise<KeyObject>>()
  return {
    get(jwk: PublicJwk, alg: AccountKeyAlgorithm): Promise<KeyObject> {
      const id = `${alg}|${jwk.kty}|${jwk.crv ?? ''}|${jwk.x ?? jwk.n}|${jwk.y ?? jwk.e ?? ''}`
      let key = keys.get(id)
      if (key) {
        keys.delete(id)
      } else {
        key = importAccountKey(jwk, alg)
        key.catch(() => keys.delete(id))
        if (keys.size >= max) keys.delete(keys.keys().next().value!)
      }
      keys.set(id, key)
      return key
    },
  }
}
