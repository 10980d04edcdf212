// Builds RFC 6960 OCSPRequests for tests (TEST ONLY): CertIDs from an issuer certificate, optional nonce.
import { createHash } from 'node:crypto'
import { extension, integerFromHex, NULL, octetString, oid, sequence, tlv } from '../../src/pki/der.js'
import { publicKeyBits } from '../../src/pki/key-identifier.js'
import { x509 } from '../../src/pki/x509.js'

const HASH_OID = { sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1' } as const
export type Hash = keyof typeof HASH_OID

export interface CertIdSpec {
  hash?: Hash
  /** Override the algorithm OID (negative tests). */
  hashOid?: string
  issuerNameHash: Uint8Array
  issuerKeyHash: Uint8Array
  serial: string
}

/** CertID fields for a certificate issued by `issuerDer`. */
export function certIdFor(issuerDer: Uint8Array, serial: string, hash: Hash = 'sha1'): CertIdSpec {
  const issuer = new x509.X509Certificate(new Uint8Array(issuerDer))
  const name = new Uint8Array(issuer.subjectName.toArrayBuffer())
  const key = publicKeyBits(new Uint8Array(issuer.publicKey.rawData))
  return {
    hash,
    issuerNameHash: createHash(hash).update(name).digest(),
    issuerKeyHash: createHash(hash).update(key).digest(),
    serial,
  }
}

export const certIdDer = (c: CertIdSpec) =>
  sequence(
    sequence(oid(c.hashOid ?? HASH_OID[c.hash ?? 'sha1']), NULL),
    octetString(c.issuerNameHash),
    octetString(c.issuerKeyHash),
    integerFromHex(c.serial),
  )

/** OCSPRequest { tbsRequest { requestList, [2] requestExtensions { nonce } } }; `nonce` is the inner octets. */
export function ocspRequest(certIds: CertIdSpec[], nonce?: Uint8Array): Uint8Array<ArrayBuffer> {
  const requests = certIds.map((c) => sequence(certIdDer(c)))
  const exts = nonce ? [tlv(0xa2, sequence(extension('1.3.6.1.5.5.7.48.1.2', false, octetString(nonce))))] : []
  return sequence(sequence(sequence(...requests), ...exts))
}
