// src/issuance/server-keygen.ts: which key the server generates for a profile (RFC 7030 §4.4), and the request it
// builds for it — the client's subject and SANs, the new key, a valid self-signature.
import { describe, expect, it } from 'vitest'
import { profileSchema } from '../../../src/config/schema.js'
import { IssuanceError } from '../../../src/errors.js'
import { requestWithServerKey, serverKeyAlgorithm } from '../../../src/issuance/server-keygen.js'
import { parseCsr, type KeyInfo } from '../../../src/pki/csr.js'
import { makeCsr } from '../../helpers/csr.js'

const keys = (k: Record<string, unknown>) => profileSchema.parse({ keys: k }).keys

describe('serverKeyAlgorithm', () => {
  it.each([
    ['ok/same-curve-as-the-request', {}, { kind: 'ecdsa', curve: 'P-384' }, { kind: 'ecdsa', curve: 'P-384' }],
    ['ok/same-rsa-size-as-the-request', {}, { kind: 'rsa', bits: 3072 }, { kind: 'rsa', bits: 3072 }],
    ['ok/ed25519-as-requested', {}, { kind: 'ed25519' }, { kind: 'ed25519' }],
    ['ok/curve-not-allowed-falls-back-to-p256', {}, { kind: 'ecdsa', curve: 'P-521' }, { kind: 'ecdsa', curve: 'P-256' }],
    ['ok/rsa-too-small-falls-back-to-p256', {}, { kind: 'rsa', bits: 1024 }, { kind: 'ecdsa', curve: 'P-256' }],
    ['ok/first-allowed-curve-without-p256', { ecdsaCurves: ['P-384'] }, { kind: 'rsa', bits: 1024 }, { kind: 'ecdsa', curve: 'P-384' }],
    ['ok/rsa-only-profile-at-its-minimum', { ecdsaCurves: [], ed25519: false, rsaMinBits: 3072 }, { kind: 'ecdsa', curve: 'P-256' }, { kind: 'rsa', bits: 3072 }],
    ['ok/rsa-only-profile-at-least-2048', { ecdsaCurves: [], ed25519: false, rsaMinBits: 1024 }, { kind: 'ed25519' }, { kind: 'rsa', bits: 2048 }],
    ['ok/ed25519-only-profile', { ecdsaCurves: [], rsaMinBits: 0 }, { kind: 'rsa', bits: 2048 }, { kind: 'ed25519' }],
  ] as const)('%s', (_name, k, requested, expected) => {
    expect(serverKeyAlgorithm(keys(k), requested as KeyInfo)).toEqual(expected)
  })

  it('fail/profile-allows-nothing-generatable', () => {
    expect(() => serverKeyAlgorithm(keys({ ecdsaCurves: [], rsaMinBits: 0, ed25519: false }), { kind: 'ed25519' })).toThrow(IssuanceError)
  })
})

describe('requestWithServerKey', () => {
  it('ok/keeps-subject-and-sans-with-a-new-key', async () => {
    const client = await parseCsr((await makeCsr({ subject: 'CN=dev.example.com, O=Acme', dns: ['dev.example.com'], ip: ['192.0.2.7'] })).der)
    const generated = await requestWithServerKey(client, keys({}))
    expect(generated.csr.subject).toBe(client.subject)
    expect(generated.csr.requestedSans).toEqual(client.requestedSans)
    expect(generated.csr.key).toEqual({ kind: 'ecdsa', curve: 'P-256' })
    expect(Buffer.from(generated.csr.publicKeyDer).equals(Buffer.from(client.publicKeyDer))).toBe(false)
    expect(generated.privateKeyPkcs8[0]).toBe(0x30)
  })
})
