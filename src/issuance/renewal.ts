// Renewal of a certificate by its holder (EST simplereenroll, RFC 7030 §4.2.2): the new certificate keeps the
// identity of the old one, and the old one is marked superseded once the new one is issued.
import { IssuanceError } from '../errors.js'
import type { Identifier } from '../pki/csr.js'
import type { Decision } from '../policy/evaluate.js'
import type { CertificateRecord } from '../store/index.js'

const idKey = (id: Identifier) => `${id.type}:${id.value.toLowerCase()}`

/**
 * The certificate being renewed must be valid, not renewed already, and of the same profile; and what policy
 * decided to sign now must name the same subject and the same set of SANs. RFC 7030 §4.2.2 asks for the CSR's
 * Subject and SubjectAltName to be identical to the certificate's; we compare after policy, so a CSR that repeats
 * the original request (whose extra subject attributes or CN-as-SAN policy normalised) renews as expected.
 */
export function requireRenewable(old: CertificateRecord, profile: string, decision: Decision): void {
  const deny = (detail: string) => new IssuanceError('policyDenied', detail)
  if (old.status !== 'valid') throw deny(`certificate ${old.serial} is ${old.status}; only a valid certificate can be renewed`)
  if (old.supersededBy) throw deny(`certificate ${old.serial} was already renewed (by certificate ${old.supersededBy})`)
  if (old.profile !== profile) {
    throw deny(`certificate ${old.serial} was issued under profile "${old.profile}", not "${profile}"`)
  }
  if (old.subject !== decision.subject) {
    throw deny(`the request's subject "${decision.subject}" differs from the certificate's "${old.subject}"`)
  }
  const before = new Set(old.sans.map(idKey))
  const after = new Set(decision.sans.map(idKey))
  const same = before.size === after.size && [...after].every((k) => before.has(k))
  if (!same) {
    throw deny(
      `the request's subjectAltName (${[...after].join(', ') || 'none'}) differs from the certificate's ` +
        `(${[...before].join(', ') || 'none'})`,
    )
  }
}
