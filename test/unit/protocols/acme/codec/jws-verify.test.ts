// RFC 7515 §5.2 / RFC 7518 §3 JWS signature verification with node:crypto (protocols/acme/codec/jws.ts), checked
// against jose: whatever jose signs verifies, and jose's verifier and ours agree on every mutation of a signed JWS
// (4,000 fast-check cases) — ours never throws anything but a `malformed` AcmeProblem.
import fc from 'fast-check'
import { exportJWK, FlattenedSign, flattenedVerify, generateKeyPair, type FlattenedJWSInput } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  decodeFlattenedJws,
  importAccountKey,
  toPublicJwk,
  verifySignature,
  type AccountKeyAlgorithm,
  type FlattenedJws,
} from '../../../../../protocols/acme/codec/jws.js'
import { AcmeProblem } from '../../../../../protocols/acme/problems.js'

const algorithms = ['ES256', 'ES384', 'ES512', 'RS256', 'EdDSA'] as const
type Keys = { alg: AccountKeyAlgorithm; keys: CryptoKeyPair; publicKey: Awaited<ReturnType<typeof importAccountKey>> }
const keys = new Map<AccountKeyAlgorithm, Keys>()

async function signed(k: Keys, payload: unknown, header: Record<string, unknown> = {}): Promise<FlattenedJws> {
  const bytes = payload === '' ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(payload))
  const jws = await new FlattenedSign(bytes).setProtectedHeader({ alg: k.alg, nonce: 'n0nce-n0nce-n0nce', url: 'https://acme.test/x', ...header }).sign(k.keys.privateKey)
  return jws as FlattenedJws
}

/** 'ok' with the payload, or the problem type; anything else thrown fails the test. */
async function ours(jws: FlattenedJws, k: Keys): Promise<string> {
  try {
    return `ok:${Buffer.from(await verifySignature(jws, k.publicKey, k.alg)).toString('base64url')}`
  } catch (e) {
    if (e instanceof AcmeProblem) return e.type
    throw e
  }
}

async function joses(jws: FlattenedJws, k: Keys): Promise<string> {
  try {
    const { payload } = await flattenedVerify(jws as FlattenedJWSInput, k.keys.publicKey, { algorithms: [k.alg] })
    return `ok:${Buffer.from(payload).toString('base64url')}`
  } catch {
    return 'malformed'
  }
}

beforeAll(async () => {
  for (const alg of algorithms) {
    const pair = (await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, { extractable: true })) as CryptoKeyPair
    keys.set(alg, { alg, keys: pair, publicKey: await importAccountKey(toPublicJwk(await exportJWK(pair.publicKey)), alg) })
  }
})

describe('verifySignature (RFC 7515 §5.2)', () => {
  it.each(algorithms)('ok/%s-signed-by-jose-verifies', async (alg) => {
    const k = keys.get(alg)!
    for (const payload of [{ identifiers: [{ type: 'dns', value: 'a.test' }] }, '']) {
      const jws = await signed(k, payload)
      expect(await ours(jws, k)).toBe(await joses(jws, k))
      expect(await ours(jws, k)).toMatch(/^ok:/)
    }
  })

  it.each(algorithms)('fail/%s-with-another-keys-signature', async (alg) => {
    const k = keys.get(alg)!
    const other = { ...k, publicKey: keys.get(alg === 'ES256' ? 'ES384' : 'ES256')!.publicKey }
    expect(await ours(await signed(k, {}), other)).toBe('malformed')
  })

  it('fail/hs256-with-the-wrong-mac-key', async () => {
    const secret = new Uint8Array(32).fill(7)
    const jws = (await new FlattenedSign(new Uint8Array([123, 125])).setProtectedHeader({ alg: 'HS256' }).sign(secret)) as FlattenedJws
    await expect(verifySignature(jws, secret, 'HS256')).resolves.toEqual(new Uint8Array([123, 125]))
    await expect(verifySignature(jws, new Uint8Array(32).fill(8), 'HS256')).rejects.toMatchObject({ type: 'malformed' })
    await expect(verifySignature(jws, keys.get('ES256')!.publicKey, 'HS256')).rejects.toMatchObject({ type: 'malformed' })
  })

  it('fail/crit-header-is-malformed', async () => {
    const jws = await signed(keys.get('ES256')!, {}, { crit: ['b64'], b64: true })
    expect(() => decodeFlattenedJws(JSON.stringify(jws))).toThrow(/crit/)
  })

  it('agrees with jose on 4000 mutated JWS (flipped bits, swapped parts, truncations)', async () => {
    const base = new Map<AccountKeyAlgorithm, FlattenedJws>()
    for (const alg of algorithms) base.set(alg, await signed(keys.get(alg)!, { csr: 'MIIB' }))
    const part = fc.constantFrom('protected' as const, 'payload' as const, 'signature' as const)
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), part, at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('truncate' as const), part, keep: fc.nat() }),
      fc.record({ kind: fc.constant('replace' as const), part, with: fc.base64String({ maxLength: 200 }).map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')) }),
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...algorithms), mutation, async (alg, m) => {
        const k = keys.get(alg)!
        const jws = { ...base.get(alg)! }
        const value = jws[m.part]
        if (m.kind === 'flip') {
          const bytes = Buffer.from(value, 'base64url')
          if (bytes.length) bytes[m.at % bytes.length]! ^= 1 << m.bit
          jws[m.part] = bytes.toString('base64url')
        } else if (m.kind === 'truncate') jws[m.part] = value.slice(0, m.keep % (value.length + 1))
        else jws[m.part] = m.with
        expect(await ours(jws, k)).toBe(await joses(jws, k))
      }),
      { numRuns: 4000 },
    )
  }, 60_000)
})
