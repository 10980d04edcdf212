// Helpers shared by the backends that call an external CA (Vault, AWS Private CA): the serial and name forms
// those APIs use, and the one way their failures become domain errors.
import { IssuanceError } from '../errors.js'
import { fromPemAll, type Der } from '../pki/pem.js'
import { normalizeSerial } from '../pki/serial.js'
import { x509 } from '../pki/x509.js'

/** Inventory serial (lowercase hex) → the colon-separated form Vault and ACM PCA use ("3a:0f:…"). */
export const colonSerial = (serial: string) => normalizeSerial(serial).match(/../g)!.join(':')

/** The serial of a certificate, in inventory form. */
export const serialOf = (der: Der) => normalizeSerial(new x509.X509Certificate(der).serialNumber)

/** The CN of a DER Name (the last one, as RFC 6125 clients read it), or undefined. */
export function commonNameOf(nameDer: Der): string | undefined {
  return new x509.Name(nameDer).getField('CN').at(-1)
}

/** Every CERTIFICATE block of one or more PEM strings, in order, duplicates removed. */
export function certificatesFromPem(...pem: (string | undefined)[]): Der[] {
  const seen = new Set<string>()
  const out: Der[] = []
  for (const der of pem.flatMap((p) => (p ? fromPemAll(p, 'CERTIFICATE') : []))) {
    const key = Buffer.from(der).toString('base64')
    if (seen.has(key)) continue
    seen.add(key)
    out.push(der)
  }
  return out
}

/** A CA backend could not do what was asked; `detail` says why (it reaches the audit log and the caller). */
export const unavailable = (backendId: string, why: string, cause?: unknown) =>
  new IssuanceError('backendUnavailable', `CA backend "${backendId}": ${why}`, { cause })
