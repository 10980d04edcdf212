// RFC 7030 §4.2.2: /simplereenroll — the client renews the certificate it authenticated with (auth.ts made sure
// it is ours and valid); the issuance service checks the identity is unchanged and marks the old one superseded.
import { decodePkcs10Body } from '../codec.js'
import type { EstDeps, EstHandler } from '../context.js'
import { requireChannelBinding } from '../auth.js'
import { enrollmentResponse } from './respond.js'

export const simplereenroll =
  (deps: EstDeps): EstHandler =>
  async (c) => {
    const label = c.get('label')
    const { requester, certificate } = c.get('client')
    const csr = await decodePkcs10Body(new Uint8Array(await c.req.arrayBuffer()))
    requireChannelBinding(c, csr, label)
    const profile = label.config.profile
    const outcome =
      (await deps.issuance.heldOutcome({ csrDer: csr.der, profile, requester })) ??
      (await deps.issuance.issue({
        csr,
        profile,
        protocol: 'est',
        requester,
        replaces: certificate!.record!.id,
        requestId: c.get('requestId'),
      }))
    return enrollmentResponse(c, outcome, deps.config.est.retryAfterSeconds)
  }
