// RFC 7030 §4.1: /cacerts — the CA certificates of the label's profile (issuing CA first, root last), as a
// certs-only response. Open to anyone (§4.1.1: no client authentication).
import type { EstDeps, EstHandler } from '../context.js'
import { certsOnly } from './respond.js'

export const cacerts =
  (deps: EstDeps): EstHandler =>
  async (c) =>
    certsOnly(c, await deps.issuance.chainFor(c.get('label').config.profile))
