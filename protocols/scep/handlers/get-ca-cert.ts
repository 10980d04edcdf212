// RFC 8894 §4.2: GetCACert — a degenerate certs-only SignedData, application/x-x509-ca-ra-cert, with the RA
// certificate first (several clients take the first certificate as the one to encrypt to), then the issuing CA
// and the rest of the chain. The `message` parameter (a CA identifier) is ignored: the label selects the CA.
import { degenerate } from '../codec/cms.js'
import type { ScepDeps, ScepHandler } from '../context.js'

export const getCaCert =
  (deps: ScepDeps): ScepHandler =>
  async (c) => {
    const label = c.get('label')
    const ra = deps.scep!.ra.current(label.backendId)
    const chain = await deps.issuance.chainFor(label.config.profile)
    return c.body(degenerate([ra.certificateDer, ...chain]), 200, { 'Content-Type': 'application/x-x509-ca-ra-cert' })
  }
