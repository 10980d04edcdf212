// RFC 6960 §4.2.1 OCSPResponse / BasicOCSPResponse, written straight to DER (the ASN.1 module uses EXPLICIT
// tags; certStatus alternatives are IMPLICIT). The CertID of each request is echoed byte for byte.
import { bitString, extension, oid, sequence, tlv } from '../pki/der.js'
import type { Der } from '../pki/pem.js'

export type OcspResponseStatus =
  | 'successful'
  | 'malformedRequest'
  | 'internalError'
  | 'tryLater'
  | 'sigRequired'
  | 'unauthorized'

const statusCode: Record<OcspResponseStatus, number> = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
}

export type CertStatus =
  | { kind: 'good' }
  | { kind: 'revoked'; revokedAt: Date; reason: number | null }
  | { kind: 'unknown' }

export interface SingleAnswer {
  /** DER CertID exactly as the request carried it. */
  certIdDer: Uint8Array
  status: CertStatus
  thisUpdate: Date
  nextUpdate: Date
}

export interface ResponseSigner {
  /** SHA-1 of the responder's public key BIT STRING (ResponderID byKey, RFC 6960 §4.2.2.3). */
  keyHash: Uint8Array
  certDer: Uint8Array
  signatureAlgorithmDer: Uint8Array
  sign(tbs: Der): Promise<Der>
}

/** GeneralizedTime, Zulu, no fractional seconds (RFC 5280 §4.1.2.5.2, as RFC 6960 §4.2.2.1 asks). */
export function generalizedTime(d: Date): Uint8Array {
  const iso = d.toISOString()
  return tlv(
    0x18,
    Buffer.from(`${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`, 'latin1'),
  )
}

/** An OCSPResponse carrying only an error status (no responseBytes), RFC 6960 §2.3. */
export const errorResponse = (status: Exclude<OcspResponseStatus, 'successful'>): Der =>
  sequence(tlv(0x0a, Uint8Array.of(statusCode[status])))

function certStatus(s: CertStatus): Uint8Array {
  switch (s.kind) {
    case 'good':
      return Uint8Array.of(0x80, 0x00)
    case 'unknown':
      return Uint8Array.of(0x82, 0x00)
    case 'revoked': {
      const reason = s.reason === null || s.reason === 0 ? [] : [tlv(0xa0, tlv(0x0a, Uint8Array.of(s.reason)))]
      return tlv(0xa1, generalizedTime(s.revokedAt), ...reason)
    }
  }
}

const singleResponse = (a: SingleAnswer) =>
  sequence(a.certIdDer, certStatus(a.status), generalizedTime(a.thisUpdate), tlv(0xa0, generalizedTime(a.nextUpdate)))

const ID_PKIX_OCSP_BASIC = oid('1.3.6.1.5.5.7.48.1.1')
const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2'

/**
 * Signs a successful response. `nonce` is the request's nonce extnValue, echoed as is (RFC 8954 §2.1);
 * responses with a nonce are never cached.
 */
export async function signedResponse(
  signer: ResponseSigner,
  producedAt: Date,
  answers: SingleAnswer[],
  nonce?: Uint8Array,
): Promise<Der> {
  const tbs = sequence(
    tlv(0xa2, tlv(0x04, signer.keyHash)),
    generalizedTime(producedAt),
    sequence(...answers.map(singleResponse)),
    ...(nonce ? [tlv(0xa1, sequence(extension(ID_PKIX_OCSP_NONCE, false, nonce)))] : []),
  )
  const signature = await signer.sign(tbs)
  const basic = sequence(tbs, signer.signatureAlgorithmDer, bitString(signature), tlv(0xa0, sequence(signer.certDer)))
  return sequence(tlv(0x0a, Uint8Array.of(0)), tlv(0xa0, sequence(ID_PKIX_OCSP_BASIC, tlv(0x04, basic))))
}
