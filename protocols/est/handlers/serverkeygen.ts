// RFC 7030 §4.4: /serverkeygen — the server generates the key (per profile, in src/issuance/server-keygen.ts) and
// answers multipart/mixed: the PKCS#8 private key, then the certs-only response. Keys are returned unencrypted
// over the TLS session; encryption to a client key (§4.4.1.1/§4.4.1.2 attributes) is not offered.
import { requireChannelBinding } from '../auth.js'
import { decodePkcs10Body, encodeCertsOnly, encodeServerKeygen, requestAttributeTypes } from '../codec.js'
import type { EstDeps, EstHandler } from '../context.js'
import { EstError } from '../status.js'

const DECRYPT_KEY_IDENTIFIER = '1.2.840.113549.1.9.16.2.37'
const ASYMMETRIC_DECRYPT_KEY_IDENTIFIER = '1.2.840.113549.1.9.16.2.54'

export const serverkeygen =
  (deps: EstDeps): EstHandler =>
  async (c) => {
    const label = c.get('label')
    if (!label.config.serverKeygen) throw new EstError(501, `serverkeygen is not offered on label "${label.name}"`)
    const csr = await decodePkcs10Body(new Uint8Array(await c.req.arrayBuffer()))
    requireChannelBinding(c, csr, label)
    if (requestAttributeTypes(csr.der).some((t) => t === DECRYPT_KEY_IDENTIFIER || t === ASYMMETRIC_DECRYPT_KEY_IDENTIFIER)) {
      throw new EstError(501, 'encrypted server-generated keys (RFC 7030 §4.4.1.1, §4.4.1.2) are not supported')
    }
    const issued = await deps.issuance.issueWithServerKey({
      csr,
      profile: label.config.profile,
      protocol: 'est',
      requester: c.get('client').requester,
      requestId: c.get('requestId'),
    })
    const { body, contentType } = encodeServerKeygen(
      issued.privateKeyPkcs8,
      encodeCertsOnly([issued.certificateDer]),
      label.config.base64LineLength,
    )
    return c.body(body, 200, { 'Content-Type': contentType })
  }
