// parseCsr keeps the subject Name and SubjectPublicKeyInfo as received only when they are DER: both are copied into
// issued certificates, which must be DER (RFC 5280 §4.1). A request that encodes them in BER-only forms (here a
// long-form length where the short form fits) still verifies, and gets them re-encoded.
import { generateKeyPairSync, sign } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodeBer, isDer } from '../../../src/pki/ber.js'
import { parseCsr } from '../../../src/pki/csr.js'
import { bitString, concat, oid, sequence, tlv } from '../../../src/pki/der.js'

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))

/** `CN=<cn>` as a Name whose outer SEQUENCE uses a long-form length (0x81 n): valid BER, not DER. */
function berName(cn: string): Uint8Array {
  const rdn = tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, new TextEncoder().encode(cn))))
  return concat([Uint8Array.of(0x30, 0x81, rdn.length), rdn])
}

/** A PKCS#10 request over `subject` and `spkiBytes`, signed with ecdsa-with-SHA256. */
function request(subject: Uint8Array, spkiBytes: Uint8Array): Uint8Array {
  const info = sequence(Uint8Array.of(0x02, 0x01, 0x00), subject, spkiBytes, tlv(0xa0))
  const signature = sign('sha256', info, privateKey)
  return sequence(info, sequence(oid('1.2.840.10045.4.3.2')), bitString(signature))
}

describe('parseCsr: BER-only subject and key are re-encoded before they can reach a certificate', () => {
  it('ok/der-request-keeps-its-own-bytes', async () => {
    const subject = sequence(tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, new TextEncoder().encode('der.example')))))
    const csr = await parseCsr(request(subject, spki))
    expect(Buffer.from(csr.subjectDer).equals(Buffer.from(subject))).toBe(true)
    expect(Buffer.from(csr.publicKeyDer).equals(Buffer.from(spki))).toBe(true)
  })

  it('ok/long-form-length-subject-is-re-encoded-as-der', async () => {
    const subject = berName('ber.example')
    expect(isDer(decodeBer(subject))).toBe(false)
    const csr = await parseCsr(request(subject, spki))
    expect(csr.commonName).toBe('ber.example')
    expect(isDer(decodeBer(csr.subjectDer))).toBe(true)
    expect(csr.subjectDer[1]).toBe(subject.length - 3) // short form now
  })

  it('ok/long-form-length-key-is-re-encoded-as-der', async () => {
    const berSpki = concat([Uint8Array.of(0x30, 0x81, spki[1]!), spki.subarray(2)])
    expect(isDer(decodeBer(berSpki))).toBe(false)
    const csr = await parseCsr(request(sequence(tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, Uint8Array.of(0x61))))), berSpki))
    expect(Buffer.from(csr.publicKeyDer).equals(Buffer.from(spki))).toBe(true)
    expect(csr.key).toEqual({ kind: 'ecdsa', curve: 'P-256' })
  })
})
