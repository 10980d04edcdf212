// RFC 8555 §7.2 newNonce: HEAD → 200, GET → 204; the nonce itself is added by replayNonceAndIndex.
import type { AcmeHandler } from '../context.js'

export const newNonce = (): AcmeHandler => async (c) => {
  c.header('Cache-Control', 'no-store')
  return c.body(null, c.req.method === 'HEAD' ? 200 : 204)
}
