// RFC 7030 §4.5: /csrattrs — what the label's profile requires of a CSR, as CsrAttrs, or 204 when nothing is
// required. Key types follow draft-ietf-lamps-rfc7030-csrattrs: an id-ecPublicKey attribute whose values are the
// allowed curves, an rsaEncryption attribute whose value is the minimum modulus size, or the bare id-Ed25519 OID.
// They are listed only when the profile admits a single key family (otherwise no key type is *required*).
import type { ProfileConfig } from '../../../src/config/schema.js'
import type { EstLabelConfig } from '../../../src/config/est.js'
import { integerFromBigInt, oid } from '../../../src/pki/der.js'
import { base64Body, CSRATTRS, encodeCsrAttrs, type AttrOrOid } from '../codec.js'
import type { EstDeps, EstHandler } from '../context.js'
import { base64Headers } from './respond.js'

const OID = {
  challengePassword: '1.2.840.113549.1.9.7',
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ed25519: '1.3.101.112',
}
const curveOids = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34', 'P-521': '1.3.132.0.35' } as const

/** The CsrAttrs of a label: challengePassword when PoP linking is required (§3.5), then the key type. */
export function csrAttrsFor(keys: ProfileConfig['keys'], label: Pick<EstLabelConfig, 'channelBinding'>): AttrOrOid[] {
  const attrs: AttrOrOid[] = []
  if (label.channelBinding === 'required') attrs.push({ oid: OID.challengePassword })
  const families = [keys.ecdsaCurves.length > 0, keys.rsaMinBits > 0, keys.ed25519].filter(Boolean).length
  if (families !== 1) return attrs
  if (keys.ecdsaCurves.length) {
    const curves = [...keys.ecdsaCurves].sort((a, b) => (a === 'P-256' ? -1 : b === 'P-256' ? 1 : 0))
    attrs.push({ type: OID.ecPublicKey, values: curves.map((c) => oid(curveOids[c])) })
  } else if (keys.rsaMinBits > 0) {
    attrs.push({ type: OID.rsaEncryption, values: [integerFromBigInt(BigInt(keys.rsaMinBits))] })
  } else {
    attrs.push({ oid: OID.ed25519 })
  }
  return attrs
}

export const csrattrs =
  (deps: EstDeps): EstHandler =>
  (c) => {
    const label = c.get('label')
    const attrs = csrAttrsFor(deps.config.profiles[label.config.profile]!.keys, label.config)
    if (!attrs.length) return c.body(null, 204)
    return c.body(base64Body(encodeCsrAttrs(attrs), label.config.base64LineLength), 200, base64Headers(CSRATTRS))
  }
