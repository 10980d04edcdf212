// protocols/ocsp/codec.ts: RFC 6960 §4.1.1 OCSPRequest and RFC 8954 nonce, decoded from requests OpenSSL 3.0
// sent (fixtures/ocsp/openssl-ocsp-request-*.der; see fixtures/README.md).
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { describe, expect, it } from 'vitest'
import { decodeOcspRequest } from '../../../../protocols/ocsp/codec.js'

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../fixtures/${name}`, import.meta.url)))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

// As `openssl ocsp -reqin … -req_text` prints them (the issuing CA of the capture run, TEST ONLY).
const ISSUER = {
  sha1: {
    name: 'd5a02f2399651133ae06f7306c71ca78ba69567e',
    key: '5975bb78b3691b804d977d627e3723a85c6b7c90',
  },
  sha256: {
    name: '7962750bbbec7cdd05fbd89d791b33c01bc15a66cf7f82ed412bb3f47d12c48c',
    key: 'd8dcd977202e08f89dfdc01446158d0a3ee5c3cb01acc7a890746c7774498bce',
  },
}
const GOOD_SERIAL = '0f5e0a2566115cc71de6013e64c2fffe'
const REVOKED_SERIAL = '5b1a69569f5236533ee3f61d8df551c2'

describe('decodeOcspRequest (RFC 6960 §4.1.1) on OpenSSL 3.0 requests', () => {
  it.each([
    [
      'ok/openssl-nonce',
      'openssl-ocsp-request-nonce.der',
      'sha1',
      [GOOD_SERIAL],
      '0410e67c58c9a0b5c7acf33eada272ada3fc',
    ],
    ['ok/openssl-no-nonce', 'openssl-ocsp-request-no-nonce.der', 'sha1', [GOOD_SERIAL], undefined],
    [
      'ok/openssl-sha256-certid',
      'openssl-ocsp-request-sha256.der',
      'sha256',
      [GOOD_SERIAL],
      '041035fcb2f2147f8074fadbac144bc700f0',
    ],
    [
      'ok/openssl-two-certids',
      'openssl-ocsp-request-two-certids.der',
      'sha1',
      [GOOD_SERIAL, REVOKED_SERIAL],
      '0410fc3cc4df5ca126c6c5e231a2603bdce4',
    ],
  ] as const)('%s', (_name, file, alg, serials, nonce) => {
    const der = fixture(`ocsp/${file}`)
    const query = decodeOcspRequest(der)
    expect(query.certIds.map((id) => id.serial)).toEqual(serials)
    for (const id of query.certIds) {
      expect(id.hashAlgorithm).toBe(alg)
      expect(hex(id.issuerNameHash)).toBe(ISSUER[alg].name)
      expect(hex(id.issuerKeyHash)).toBe(ISSUER[alg].key)
      // The CertID is echoed in the SingleResponse: its DER must be the bytes the client sent.
      expect(Buffer.from(der).indexOf(Buffer.from(id.der))).toBeGreaterThan(0)
    }
    // RFC 8954 §2.1: the extnValue is an OCTET STRING; OpenSSL sends 16 random octets.
    expect(query.nonce === undefined ? undefined : hex(query.nonce)).toBe(nonce)
  })

  it('ok/issuer-hashes-are-those-of-the-issuing-ca-fixture', () => {
    const pem = readFileSync(
      new URL('../../../../fixtures/pki/revocation-issuing-ca.pem', import.meta.url),
      'utf8',
    )
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    const ca = pkijs.Certificate.fromBER(der)
    const name = Buffer.from(ca.subject.toSchema().toBER())
    const key = Buffer.from(ca.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
    for (const alg of ['sha1', 'sha256'] as const) {
      expect(createHash(alg).update(name).digest('hex')).toBe(ISSUER[alg].name)
      expect(createHash(alg).update(key).digest('hex')).toBe(ISSUER[alg].key)
    }
  })

  it('fail/truncated-openssl-request-is-malformed', () => {
    const der = fixture('ocsp/openssl-ocsp-request-nonce.der')
    expect(() => decodeOcspRequest(der.subarray(0, der.length - 1))).toThrow(
      expect.objectContaining({ status: 'malformedRequest' }),
    )
  })

  /** The captured request with its nonce replaced by one of `octets` octets. */
  function withNonce(octets: number): Uint8Array {
    const request = pkijs.OCSPRequest.fromBER(fixture('ocsp/openssl-ocsp-request-nonce.der'))
    const nonce = request.tbsRequest.requestExtensions![0]!
    nonce.extnValue = new asn1js.OctetString({
      valueHex: new asn1js.OctetString({ valueHex: new Uint8Array(octets) }).toBER(),
    })
    return new Uint8Array(request.toSchema(true).toBER())
  }

  it('ok/openssl-request-with-a-128-octet-nonce', () => {
    const query = decodeOcspRequest(withNonce(128))
    expect(query.nonce?.byteLength).toBe(2 + 1 + 128) // OCTET STRING header with a long-form length
    expect(query.certIds[0]!.serial).toBe(GOOD_SERIAL)
  })

  it('fail/openssl-request-with-a-129-octet-nonce-is-malformed (RFC 9654)', () => {
    expect(() => decodeOcspRequest(withNonce(129))).toThrow(
      expect.objectContaining({ status: 'malformedRequest' }),
    )
  })
})
