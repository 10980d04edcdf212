// src/pki/csr.ts requireDerSignature: one signed request has one accepted encoding. Found by the EST fuzz test
// (test/integration/est-fuzz.test.ts): the verifying library ignored the tag of the ECDSA Ecdsa-Sig-Value and the
// tag of RSA's NULL parameters, so edited requests still verified.
import { describe, expect, it } from 'vitest'
import { IssuanceError } from '../../../src/errors.js'
import { parseCsr } from '../../../src/pki/csr.js'
import { sequence, tlv } from '../../../src/pki/der.js'
import { makeCsr } from '../../helpers/csr.js'

/** Offsets of the signatureAlgorithm and signature TLVs (the last two elements of the outer SEQUENCE). */
function layout(der: Uint8Array) {
  const len = (at: number) => {
    const l = der[at + 1]!
    if (!(l & 0x80)) return { start: at + 2, end: at + 2 + l }
    const n = l & 0x7f
    let v = 0
    for (let i = 0; i < n; i++) v = v * 256 + der[at + 2 + i]!
    return { start: at + 2 + n, end: at + 2 + n + v }
  }
  const outer = len(0)
  const tbs = len(outer.start)
  const alg = { at: tbs.end, ...len(tbs.end) }
  const bits = { at: alg.end, ...len(alg.end) }
  return { alg, bits }
}

async function rejected(der: Uint8Array): Promise<string> {
  const e = await parseCsr(der).catch((err: unknown) => err)
  expect(e).toBeInstanceOf(IssuanceError)
  return (e as IssuanceError).detail
}

describe('#5 - CSR signature encodings the verifier read leniently', () => {
  it('ok/untouched-requests-parse', async () => {
    for (const key of ['ecdsa-p256', 'rsa-2048', 'ed25519'] as const) {
      await expect(parseCsr((await makeCsr({ key, dns: ['a.example.com'] })).der)).resolves.toMatchObject({ commonName: undefined })
    }
  })

  it('fail/ecdsa-sig-value-sequence-tag-changed', async () => {
    const der = Buffer.from((await makeCsr({ key: 'ecdsa-p384', dns: ['a.example.com'] })).der)
    der[layout(der).bits.start + 1] = 0xb0
    expect(await rejected(der)).toMatch(/not DER-encoded/)
  })

  it('fail/ecdsa-integer-with-extra-leading-zero', async () => {
    const der = Buffer.from((await makeCsr({ key: 'ecdsa-p256', dns: ['a.example.com'] })).der)
    const { alg, bits } = layout(der)
    const tbsAndAlg = der.subarray(der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2, bits.at)
    const seq = der.subarray(bits.start + 1, bits.end)
    const r = seq.subarray(4, 4 + seq[3]!)
    const s = seq.subarray(4 + seq[3]!)
    const padded = sequence(tlv(0x02, Uint8Array.of(0), r), s)
    const edited = sequence(tbsAndAlg, tlv(0x03, Uint8Array.of(0), padded))
    expect(alg.end).toBe(bits.at)
    expect(await rejected(edited)).toMatch(/not DER-encoded|signature/)
  })

  it('fail/rsa-null-parameters-tag-changed', async () => {
    const der = Buffer.from((await makeCsr({ key: 'rsa-2048', dns: ['a.example.com'] })).der)
    const { alg } = layout(der)
    expect(der[alg.end - 2]).toBe(0x05)
    der[alg.end - 2] = 0x19
    expect(await rejected(der)).toMatch(/not DER-encoded/)
  })

  it('fail/bit-string-unused-bits-set', async () => {
    const der = Buffer.from((await makeCsr({ key: 'ed25519', dns: ['a.example.com'] })).der)
    der[layout(der).bits.start] = 0x01
    expect(await rejected(der)).toMatch(/not DER-encoded|signature/)
  })
})
