// RFC 8555 §6.2 JWS codec details: RFC 7638 thumbprints, RFC 8555 §8.1 key authorizations, account key checks.
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'
import { importAccountKey, keyAuthorization, thumbprint, toPublicJwk } from '../../../../../protocols/acme/codec/jws.js'
import { AcmeProblem } from '../../../../../protocols/acme/problems.js'

describe('thumbprint (RFC 7638 §3)', () => {
  it.each(['ES256', 'ES384', 'RS256', 'Ed25519'] as const)('ok/%s-equals-jose', async (alg) => {
    const { publicKey } = await generateKeyPair(alg, { extractable: true })
    const jwk = await exportJWK(publicKey)
    expect(await thumbprint(toPublicJwk(jwk))).toBe(await calculateJwkThumbprint(jwk, 'sha256'))
  })

  it('ok/rfc-7638-example', async () => {
    // RFC 7638 §3.1 example RSA key and its thumbprint.
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
    }
    expect(await thumbprint(toPublicJwk(jwk))).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
  })

  it('ok/key-authorization-is-token-dot-thumbprint', () => {
    expect(keyAuthorization('tok', 'thumb')).toBe('tok.thumb')
  })
})

describe('account keys (RFC 8555 §6.2)', () => {
  const type = async (p: Promise<unknown>) => p.then(() => 'ok', (e) => (e instanceof AcmeProblem ? e.type : 'other'))

  it('fail/curve-must-match-alg', async () => {
    const { publicKey } = await generateKeyPair('ES384', { extractable: true })
    expect(await type(importAccountKey(toPublicJwk(await exportJWK(publicKey)), 'ES256'))).toBe('badPublicKey')
  })

  it('fail/private-members-refused', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    expect(await type(exportJWK(privateKey).then((jwk) => toPublicJwk(jwk)))).toBe('badPublicKey')
  })

  it('fail/symmetric-key-refused', () => {
    expect(() => toPublicJwk({ kty: 'oct', k: 'AAAA' })).toThrow(AcmeProblem)
  })
})
