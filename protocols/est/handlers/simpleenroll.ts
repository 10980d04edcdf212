// RFC 7030 §4.2.1: /simpleenroll — parse → PoP linking → earlier held request, else issue → certs-only or 202.
import { decodePkcs10Body } from '../codec.js'
import type { EstDeps, EstHandler } from '../context.js'
import { requireChannelBinding } from '../auth.js'
import { enrollmentResponse } from './respond.js'

export const simpleenroll =
  (deps: EstDeps): EstHandler =>
  async (c) => {
    const label = c.get('label')
    const { requester } = c.get('client')
    const csr = await decodePkcs10Body(new Uint8Array(await c.req.arrayBuffer()))
    requireChannelBinding(c, csr, label)
    const profile = label.config.profile
    const outcome =
      (await deps.issuance.heldOutcome({ csrDer: csr.der, profile, requester })) ??
      (await deps.issuance.issue({ csr, profile, protocol: 'est', requester, requestId: c.get('requestId') }))
    return enrollmentResponse(c, outcome, deps.config.est.retryAfterSeconds)
  }
