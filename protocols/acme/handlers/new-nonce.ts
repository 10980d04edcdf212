// RFC 8555 §7.2 newNonce: HEAD → 200, GET → 204; the nonce itself is added by replayNonceAndIndex.
import type { AcmeHandler } from '../context.js'

export const newNonce = (): AcmeHandler => async (c) => {
  c.header('Cache-Control', 'no-store')
  // Without a length node's HTTP server closes the connection after a bodiless 200, so every HEAD (the first
  // request of most clients) would cost a new TLS handshake.
  if (c.req.method === 'HEAD') c.header('Content-Length', '0')
  return c.body(null, c.req.method === 'HEAD' ? 200 : 204)
}
