// src/pki/public-key.ts: a canonically encoded key imported from its JWK is the same key OpenSSL decodes from the
// DER; other encodings still go through OpenSSL's decoder (and are refused when it refuses them).
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { children, decodeBer, encoding } from '../../../src/pki/ber.js'
import { oid, sequence } from '../../../src/pki/der.js'
import { publicKeyFromSpki } from '../../../src/pki/public-key.js'

const pairs = {
  'rsa-2048': generateKeyPairSync('rsa', { modulusLength: 2048 }),
  'rsa-1025': generateKeyPairSync('rsa', { modulusLength: 1025 }),
  'ecdsa-p256': generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  'ecdsa-p384': generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  'ecdsa-p521': generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  ed25519: generateKeyPairSync('ed25519'),
  'ecdsa-secp256k1': generateKeyPairSync('ec', { namedCurve: 'secp256k1' }),
}

describe('publicKeyFromSpki', () => {
  it.each(Object.keys(pairs) as (keyof typeof pairs)[])('ok/%s-is-the-key-openssl-decodes', (name) => {
    const { publicKey, privateKey } = pairs[name]
    const spki = publicKey.export({ format: 'der', type: 'spki' })
    const imported = publicKeyFromSpki(new Uint8Array(spki))
    expect(imported.equals(createPublicKey({ key: spki, format: 'der', type: 'spki' }))).toBe(true)
    const hash = name === 'ed25519' ? null : 'sha256'
    expect(verify(hash, Buffer.from('x'), imported, sign(hash, Buffer.from('x'), privateKey))).toBe(true)
  })

  it('ok/rsa-without-null-parameters-goes-through-openssl', () => {
    const spki = new Uint8Array(pairs['rsa-2048'].publicKey.export({ format: 'der', type: 'spki' }))
    const [, bits] = children(decodeBer(spki))
    const edited = sequence(sequence(oid('1.2.840.113549.1.1.1')), encoding(bits!))
    expect(publicKeyFromSpki(edited).equals(pairs['rsa-2048'].publicKey)).toBe(true)
  })

  it('fail/a-point-off-the-curve-is-refused', () => {
    const spki = new Uint8Array(pairs['ecdsa-p256'].publicKey.export({ format: 'der', type: 'spki' }))
    spki[spki.length - 1]! ^= 1
    expect(() => publicKeyFromSpki(spki)).toThrow()
  })

  it('fail/junk-is-refused', () => {
    expect(() => publicKeyFromSpki(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01))).toThrow()
  })
})
