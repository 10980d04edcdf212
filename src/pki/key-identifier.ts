// RFC 5280 §4.2.1.2 method 1 key identifiers; also RFC 6960's ResponderID byKey and CertID issuerKeyHash input.
import { createHash } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509'

/** The subjectPublicKey BIT STRING value of a DER SubjectPublicKeyInfo. */
export const publicKeyBits = (spkiDer: Uint8Array): Uint8Array =>
  new Uint8Array(AsnConvert.parse(spkiDer, SubjectPublicKeyInfo).subjectPublicKey)

/** SHA-1 of the subjectPublicKey bits, hex. */
export const keyIdentifier = (spkiDer: Uint8Array): string =>
  createHash('sha1').update(publicKeyBits(spkiDer)).digest('hex')
