// Fuzzing the ACME JWS/JSON codecs (fast-check, 11,000 cases): arbitrary input either decodes or is refused with
// an AcmeProblem of the right type — never another exception (which would be a 500).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeCertId } from '../../../../../protocols/acme/codec/cert-id.js'
import { decodeFlattenedJws, decodePayload, requireSupportedAlgorithm, supportedAlgorithms, toPublicJwk } from '../../../../../protocols/acme/codec/jws.js'
import { decodeNewOrder } from '../../../../../protocols/acme/codec/resources.js'
import { normalizeOrderIdentifiers } from '../../../../../protocols/acme/identifiers.js'
import { AcmeProblem, type ProblemType } from '../../../../../protocols/acme/problems.js'

/** Runs fn; returns the problem type it threw, or 'ok'. Anything but an AcmeProblem fails the property. */
function outcome(fn: () => unknown): ProblemType | 'ok' {
  try {
    fn()
    return 'ok'
  } catch (e) {
    if (e instanceof AcmeProblem) return e.type
    throw e
  }
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const jwsLike = fc.record(
  {
    protected: fc.oneof(fc.string(), fc.json().map(b64), fc.record({ alg: fc.string(), url: fc.webUrl(), nonce: fc.string() }).map(b64)),
    payload: fc.oneof(fc.string(), fc.json().map(b64), fc.constant('')),
    signature: fc.oneof(fc.string(), fc.base64String()),
    header: fc.json(),
    signatures: fc.array(fc.json()),
  },
  { requiredKeys: [] },
)

describe('fuzz: ACME codecs never fail with anything but a problem document', () => {
  it('decodeFlattenedJws (RFC 8555 §6.2): 3000 cases', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), jwsLike.map((o) => JSON.stringify(o))), (body) => {
        expect(['ok', 'malformed']).toContain(outcome(() => decodeFlattenedJws(body)))
      }),
      { numRuns: 3000 },
    )
  })

  it('decodePayload (§6.3): 2000 cases', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }), fc.json().map((j) => new TextEncoder().encode(j))), (bytes) => {
        expect(['ok', 'malformed']).toContain(outcome(() => decodePayload(bytes)))
      }),
      { numRuns: 2000 },
    )
  })

  it('newOrder identifiers (§7.4, RFC 8738): 2000 cases', () => {
    const identifier = fc.record({
      type: fc.oneof(fc.constantFrom('dns', 'ip', 'email', 'DNS', ''), fc.string()),
      value: fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6(), fc.string(), fc.domain().map((d) => `*.${d}`)),
    })
    fc.assert(
      fc.property(fc.oneof(fc.array(identifier, { maxLength: 5 }), fc.json()), (identifiers) => {
        const type = outcome(() => normalizeOrderIdentifiers(decodeNewOrder({ identifiers }).identifiers))
        expect(['ok', 'malformed', 'rejectedIdentifier', 'unsupportedIdentifier', 'compound']).toContain(type)
      }),
      { numRuns: 2000 },
    )
  })

  it('certID (RFC 9773 §4.1): 2000 cases', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.tuple(fc.base64String(), fc.base64String()).map(([a, b]) => `${a}.${b}`)), (text) => {
        expect(['ok', 'malformed']).toContain(outcome(() => decodeCertId(text)))
      }),
      { numRuns: 2000 },
    )
  })

  it('alg (§6.2): 1000 cases; only our list passes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom('none', 'HS256', 'RS512', 'PS256', ...supportedAlgorithms)), (alg) => {
        const type = outcome(() => requireSupportedAlgorithm(alg))
        expect(type).toBe((supportedAlgorithms as readonly string[]).includes(alg) ? 'ok' : 'badSignatureAlgorithm')
      }),
      { numRuns: 1000 },
    )
  })

  it('jwk (§6.2): 1000 cases; private or symmetric material never passes', () => {
    const jwk = fc.record(
      { kty: fc.constantFrom('EC', 'RSA', 'OKP', 'oct', 'x'), crv: fc.string(), x: fc.base64String(), y: fc.string(), n: fc.string(), e: fc.string(), d: fc.string(), k: fc.string() },
      { requiredKeys: ['kty'] },
    )
    fc.assert(
      fc.property(fc.oneof(jwk, fc.json()), (value) => {
        const type = outcome(() => toPublicJwk(value))
        expect(['ok', 'malformed', 'badPublicKey']).toContain(type)
        if (type === 'ok') expect(value).not.toHaveProperty('d')
      }),
      { numRuns: 1000 },
    )
  })
})
