// OCSP responder routes (RFC 6960 Appendix A, RFC 5019 §5): POST application/ocsp-request and GET with the
// base64 request in the path. Every answer — errors included — is an OCSPResponse; never a 5xx.
// Two adapters share one core (answerOcsp + renderOcsp): the Hono routes, and the node-level listener in
// node.ts that the HTTP listener puts in front of Hono for the hot path.
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

export interface RenderedOcsp {
  status: 200 | 304
  headers: Readonly<Record<string, string>>
  body: Uint8Array | undefined
}

/** The caching headers of a cached answer, built once per answer and second (max-age counts down by the second). */
const cachingHeaders = new WeakMap<object, { second: number; headers: Readonly<Record<string, string>> }>()

const uncachedHeaders: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': CONTENT_TYPE,
  'Cache-Control': 'no-cache, no-store',
})

/**
 * RFC 5019 §6.2 caching headers for answers that may be cached, no-store for the rest; a GET whose
 * If-None-Match names the current answer gets 304. The headers object is shared between requests: copy it to
 * add to it.
 */
export function renderOcsp(answer: OcspAnswer, method: string, ifNoneMatch: string | undefined): RenderedOcsp {
  const cache = answer.cache
  if (!cache) return { status: 200, headers: uncachedHeaders, body: answer.der }
  const second = Math.floor(Date.now() / 1000)
  let built = cachingHeaders.get(cache)
  if (built?.second !== second) {
    // Counted from the end of this second, so no request of the second is told more than the time left.
    const maxAge = Math.max(0, Math.floor((cache.staleAt.getTime() - (second + 1) * 1000) / 1000))
    built = {
      second,
      headers: Object.freeze({
        'Content-Type': CONTENT_TYPE,
        'Cache-Control': `max-age=${maxAge}, public, no-transform, must-revalidate`,
        'Last-Modified': cache.thisUpdate.toUTCString(),
        Expires: cache.nextUpdate.toUTCString(),
        ETag: cache.etag,
      }),
    }
    cachingHeaders.set(cache, built)
  }
  if (method === 'GET' && ifNoneMatch === cache.etag) return { status: 304, headers: built.headers, body: undefined }
  return { status: 200, headers: built.headers, body: answer.der }
}

/** The cache key of request bytes. */
export function requestKey(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')
}

/** The answer to request bytes (undefined: the GET path did not decode): from the cache, else looked up and signed. */
export async function answerOcsp(deps: OcspDeps, der: Uint8Array | undefined, requestId: string): Promise<OcspAnswer> {
  if (!der) return { status: 'malformedRequest', der: errorResponse('malformedRequest') }
  const key = requestKey(der)
  const hit = deps.ocsp.cached(key)
  if (hit) return hit
  try {
    return await deps.ocsp.respond(decodeOcspRequest(der), key)
  } catch (e) {
    if (e instanceof OcspProblem) return { status: e.status, der: errorResponse(e.status) }
    deps.logger.error({ err: e, requestId }, 'OCSP request failed')
    return { status: 'internalError', der: errorResponse('internalError') }
  }
}

/** Decodes the GET form: the path after `/ocsp/` is the URL-encoded base64 of the DER request. */
export function getRequestBytes(path: string): Uint8Array | undefined {
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

  async function respond(c: Context<AppEnv>, der: Uint8Array | undefined): Promise<Response> {
    const answer = await answerOcsp(deps, der, c.get('requestId'))
    const out = renderOcsp(answer, c.req.method, c.req.header('if-none-match'))
    return new Response(out.body as Uint8Array<ArrayBuffer> | undefined, { status: out.status, headers: out.headers })
  }

  app.post('/', async (c) => respond(c, new Uint8Array(await c.req.arrayBuffer())))
  app.get('/*', async (c) => respond(c, getRequestBytes(new URL(c.req.url).pathname)))
  return app
}

export { ocspFastPath, OCSP_PATH } from './node.js'
