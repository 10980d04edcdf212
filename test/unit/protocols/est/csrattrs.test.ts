// protocols/est/handlers/csrattrs.ts csrAttrsFor: what a profile requires of a CSR (RFC 7030 §4.5.2 with
// draft-ietf-lamps-rfc7030-csrattrs key-type attributes; §3.5 challengePassword for PoP linking).
import { describe, expect, it } from 'vitest'
import { encodeCsrAttrs } from '../../../../protocols/est/codec.js'
import { csrAttrsFor } from '../../../../protocols/est/handlers/csrattrs.js'
import { profileSchema } from '../../../../src/config/schema.js'

const keys = (k: Record<string, unknown>) => profileSchema.parse({ keys: k }).keys
const hex = (k: Record<string, unknown>, channelBinding: 'optional' | 'required' = 'optional') =>
  Buffer.from(encodeCsrAttrs(csrAttrsFor(keys(k), { channelBinding }))).toString('hex')

describe('csrAttrsFor (RFC 7030 §4.5.2)', () => {
  it.each([
    // SEQUENCE {} : several key families allowed, nothing required.
    ['ok/default-profile-requires-nothing', {}, 'optional', '3000'],
    // SEQUENCE { SEQUENCE { id-ecPublicKey, SET { prime256v1, secp384r1 } } }
    ['ok/ecdsa-only-lists-curves-p256-first', { rsaMinBits: 0, ed25519: false, ecdsaCurves: ['P-384', 'P-256'] }, 'optional',
      '301e301c' + '06072a8648ce3d0201' + '3111' + '06082a8648ce3d030107' + '06052b81040022'],
    // SEQUENCE { SEQUENCE { rsaEncryption, SET { INTEGER 3072 } } }
    ['ok/rsa-only-lists-minimum-size', { rsaMinBits: 3072, ecdsaCurves: [], ed25519: false }, 'optional',
      '30133011' + '06092a864886f70d010101' + '3104' + '02020c00'],
    // SEQUENCE { id-Ed25519 }
    ['ok/ed25519-only-is-a-bare-oid', { rsaMinBits: 0, ecdsaCurves: [] }, 'optional', '3005' + '06032b6570'],
    // SEQUENCE { challengePassword }
    ['ok/pop-linking-required-asks-for-challenge-password', {}, 'required', '300b' + '06092a864886f70d010907'],
  ] as const)('%s', (_name, k, binding, expected) => {
    expect(hex(k, binding)).toBe(expected)
  })
})
