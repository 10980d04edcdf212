// RFC 5280 §4.2.1.2 method 1 key identifiers; also RFC 6960's ResponderID byKey and CertID issuerKeyHash input.
import { createHash } from 'node:crypto'
import { childrenOf, contents, decodeBer, TAG } from './ber.js'

/** The subjectPublicKey BIT STRING value of a DER SubjectPublicKeyInfo (read by position: this runs per issuance). */
export function publicKeyBits(spkiDer: Uint8Array): Uint8Array {
  const [algorithm, key] = childrenOf(decodeBer(spkiDer), TAG.SEQUENCE, 'SubjectPublicKeyInfo')
  if (algorithm?.tag !== TAG.SEQUENCE || key?.tag !== TAG.BIT_STRING) throw new Error('not a SubjectPublicKeyInfo')
  const bits = contents(key)
  if (bits.length === 0) throw new Error('subjectPublicKey is empty')
  return new Uint8Array(bits.subarray(1))
}

/** SHA-1 of the subjectPublicKey bits, hex. */
export const keyIdentifier = (spkiDer: Uint8Array): string =>
  createHash('sha1').update(publicKeyBits(spkiDer)).digest('hex')
