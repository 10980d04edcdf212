// RFC 9773 §4.1 certID: base64url(AuthorityKeyIdentifier keyIdentifier) "." base64url(serial number DER value).
import { x509 } from '../../../src/pki/x509.js'
import { normalizeSerial } from '../../../src/pki/serial.js'
import { AcmeProblem } from '../problems.js'

export interface CertId {
  /** keyIdentifier of the issuer, lowercase hex. */
  aki: string
  /** Serial in the inventory's canonical form (lowercase hex, no leading zero octets). */
  serial: string
}

const part = /^[A-Za-z0-9_-]+$/

export function decodeCertId(text: string): CertId {
  const [a, s, ...rest] = text.split('.')
  if (!a || !s || rest.length || !part.test(a) || !part.test(s) || text.includes('=')) {
    throw new AcmeProblem('malformed', 'certID must be base64url(AKI keyIdentifier) "." base64url(serial)')
  }
  const aki = Buffer.from(a, 'base64url').toString('hex')
  const serialHex = Buffer.from(s, 'base64url').toString('hex')
  if (!aki || !serialHex || serialHex.length > 42) throw new AcmeProblem('malformed', 'certID parts are empty or too long')
  return { aki, serial: normalizeSerial(serialHex) }
}

/** The certID of a certificate (DER), and its AKI for comparison. */
export function certIdOf(der: Uint8Array): { id: string; aki: string | undefined } {
  const cert = new x509.X509Certificate(new Uint8Array(der))
  const akiExt = cert.getExtension(x509.AuthorityKeyIdentifierExtension)
  const aki = akiExt?.keyId?.toLowerCase()
  let serial = Buffer.from(cert.serialNumber, 'hex')
  if (serial.length && serial[0]! >= 0x80) serial = Buffer.concat([Buffer.from([0]), serial])
  return { id: `${Buffer.from(aki ?? '', 'hex').toString('base64url')}.${serial.toString('base64url')}`, aki }
}
