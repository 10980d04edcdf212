// The OCSP hot path as a node:http listener in front of Hono. OCSP is the busiest endpoint a CA serves and most
// answers are pre-signed bytes from the cache; building a Fetch Request/Response pair and running the middleware
// chain cost three times the bytes' own HTTP cost (measured by `npm run bench -- revocation`). This listener
// answers POST /.well-known/pki/ocsp (body size known from Content-Length, within the body limit) and GET
// /.well-known/pki/ocsp/<base64> itself, through the same core as the Hono routes (answerOcsp + renderOcsp), with
// the same request id, access log line and request metric. Everything else — HEAD, chunked or oversized bodies,
// other paths — goes on to Hono unchanged.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { recordRequest, requestIdFrom } from '../../src/http/middleware.js'
import type { Metrics } from '../../src/metrics.js'
import { answerOcsp, getRequestBytes, renderOcsp, type OcspDeps } from './index.js'

export const OCSP_PATH = '/.well-known/pki/ocsp'

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => unknown

export interface OcspFastPathDeps extends OcspDeps {
  metrics: Metrics
  /** The HTTP listener's body limit; larger bodies are left to Hono, which answers 413. */
  bodyLimitBytes: number
  /** The listener label of the access log and metrics ('http'). */
  listener: string
}

/** The Content-Length of a request whose body this path may read, else undefined. */
function boundedLength(req: IncomingMessage, limit: number): number | undefined {
  const header = req.headers['content-length']
  if (header === undefined || req.headers['transfer-encoding'] !== undefined) return undefined
  const length = Number(header)
  return Number.isSafeInteger(length) && length >= 0 && length <= limit ? length : undefined
}

function readBody(req: IncomingMessage, length: number): Promise<Uint8Array> {
  return new Promise((done, fail) => {
    const body = Buffer.allocUnsafe(length)
    let at = 0
    req.on('data', (chunk: Buffer) => {
      // node's parser stops at Content-Length; the guard keeps a misbehaving stream from overrunning.
      if (at + chunk.byteLength > length) return fail(new Error('body longer than Content-Length'))
      chunk.copy(body, at)
      at += chunk.byteLength
    })
    req.once('end', () => (at === length ? done(body) : fail(new Error('body shorter than Content-Length'))))
    req.once('error', fail)
  })
}

export function ocspFastPath(deps: OcspFastPathDeps): (next: NodeListener) => NodeListener {
  async function serve(req: IncomingMessage, res: ServerResponse, route: string, body: Promise<Uint8Array | undefined>) {
    const started = performance.now()
    const method = req.method!
    const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined)
    let der: Uint8Array | undefined
    try {
      der = await body
    } catch {
      res.destroy() // the client went away mid-body: there is no one to answer
      return
    }
    const answer = await answerOcsp(deps, der, requestId)
    const out = renderOcsp(answer, method, req.headers['if-none-match'])
    out.headers['X-Request-Id'] = requestId
    if (out.body) out.headers['Content-Length'] = String(out.body.byteLength)
    res.writeHead(out.status, out.headers)
    res.end(out.body)
    recordRequest(deps.logger, deps.metrics, {
      listener: deps.listener,
      route,
      method,
      path: (req.url ?? '').split('?', 1)[0]!,
      status: out.status,
      requestId,
      ms: performance.now() - started,
    })
  }

  return (next) =>
    function ocspFastPath(req, res) {
      const url = req.url ?? ''
      if (req.method === 'POST' && (url === OCSP_PATH || url.startsWith(`${OCSP_PATH}?`))) {
        const length = boundedLength(req, deps.bodyLimitBytes)
        if (length === undefined) return next(req, res)
        return serve(req, res, OCSP_PATH, readBody(req, length))
      }
      if (req.method === 'GET' && url.startsWith(`${OCSP_PATH}/`)) {
        return serve(req, res, `${OCSP_PATH}/*`, Promise.resolve(getRequestBytes(url.split('?', 1)[0]!)))
      }
      return next(req, res)
    }
}
