// OCSP responder routes (RFC 6960 Appendix A, RFC 5019 §5): POST application/ocsp-request and GET with the
// base64 request in the path. Every answer — errors included — is an OCSPResponse; never a 5xx.
import { Hono, type Context } from 'hono'
import type { Logger } from 'pino'
import type { AppEnv } from '../../src/http/middleware.js'
import { errorResponse, type OcspAnswer, type OcspService } from '../../src/revocation/index.js'
import { decodeOcspRequest, OcspProblem } from './codec.js'

export interface OcspDeps {
  ocsp: OcspService
  logger: Logger
}

const CONTENT_TYPE = 'application/ocsp-response'

/** RFC 5019 §6.2 caching headers, for answers that may be cached; no-store for the rest. */
function render(c: Context, answer: OcspAnswer): Response {
  const headers: Record<string, string> = { 'Content-Type': CONTENT_TYPE }
  const cache = answer.cache
  if (cache) {
    const maxAge = Math.max(0, Math.floor((cache.staleAt.getTime() - Date.now()) / 1000))
    headers['Cache-Control'] = `max-age=${maxAge}, public, no-transform, must-revalidate`
    headers['Last-Modified'] = cache.thisUpdate.toUTCString()
    headers['Expires'] = cache.nextUpdate.toUTCString()
    headers['ETag'] = cache.etag
    if (c.req.method === 'GET' && c.req.header('if-none-match') === cache.etag) {
      return new Response(null, { status: 304, headers })
    }
  } else {
    headers['Cache-Control'] = 'no-cache, no-store'
  }
  return new Response(answer.der as Uint8Array<ArrayBuffer>, { status: 200, headers })
}

/** Decodes the GET form: the rest of the path is the URL-encoded base64 of the DER request. */
function getRequestBytes(c: Context): Uint8Array | undefined {
  const path = new URL(c.req.url).pathname
  const marker = '/ocsp/'
  const at = path.indexOf(marker)
  if (at < 0) return undefined
  const encoded = path.slice(at + marker.length)
  let b64: string
  try {
    b64 = decodeURIComponent(encoded)
  } catch {
    return undefined
  }
  if (!/^[A-Za-z0-9+/=\s]*$/.test(b64)) return undefined
  return new Uint8Array(Buffer.from(b64.replace(/\s/g, ''), 'base64'))
}

export function ocspApp(deps: OcspDeps) {
  const app = new Hono<AppEnv>()

  async function answer(c: Context, der: Uint8Array | undefined): Promise<Response> {
    if (!der) return render(c, { status: 'malformedRequest', der: errorResponse('malformedRequest') })
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')
    const hit = deps.ocsp.cached(key)
    if (hit) return render(c, hit)
    try {
      return render(c, await deps.ocsp.respond(decodeOcspRequest(der), key))
    } catch (e) {
      if (e instanceof OcspProblem) return render(c, { status: e.status, der: errorResponse(e.status) })
      deps.logger.error({ err: e, requestId: c.get('requestId') }, 'OCSP request failed')
      return render(c, { status: 'internalError', der: errorResponse('internalError') })
    }
  }

  app.post('/', async (c) => answer(c, new Uint8Array(await c.req.arrayBuffer())))
  app.get('/*', async (c) => answer(c, getRequestBytes(c)))
  return app
}
