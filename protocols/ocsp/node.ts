// The OCSP hot path as a node:http listener in front of Hono. OCSP is the busiest endpoint a CA serves and most
// answers are pre-signed bytes from the cache; building a Fetch Request/Response pair and running the middleware
// chain cost three times the bytes' own HTTP cost (measured by `npm run bench -- revocation`). This listener
// answers POST /.well-known/pki/ocsp (body size known from Content-Length, within the body limit) and GET
// /.well-known/pki/ocsp/<base64> itself, through the same core as the Hono routes (answerOcsp + renderOcsp), with
// the same request id, access log line and request metric. A cache hit is answered in the callback that completes
// the body, without a promise; a miss is looked up and signed asynchronously. Everything else — HEAD, chunked or
// oversized bodies, other paths — goes on to Hono unchanged.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { recordRequest, requestIdFrom } from '../../src/http/middleware.js'
import type { Metrics } from '../../src/metrics.js'
import type { OcspAnswer } from '../../src/revocation/index.js'
import { answerOcsp, getRequestBytes, renderOcsp, requestKey, type OcspDeps } from './index.js'

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

/** Node's header list of a shared renderOcsp headers object, flattened once per object. */
const headerLists = new WeakMap<object, string[]>()
function headerList(headers: Readonly<Record<string, string>>): string[] {
  let list = headerLists.get(headers)
  if (!list) {
    list = Object.entries(headers).flat()
    headerLists.set(headers, list)
  }
  return list
}

export function ocspFastPath(deps: OcspFastPathDeps): (next: NodeListener) => NodeListener {
  function write(req: IncomingMessage, res: ServerResponse, route: string, started: number, requestId: string, answer: OcspAnswer) {
    const method = req.method!
    const out = renderOcsp(answer, method, req.headers['if-none-match'])
    const headers = headerList(out.headers).concat('X-Request-Id', requestId)
    if (out.body) headers.push('Content-Length', String(out.body.byteLength))
    res.writeHead(out.status, headers)
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

  /** Answers request bytes (undefined: not decodable): a cache hit at once, anything else once looked up. */
  function answer(req: IncomingMessage, res: ServerResponse, route: string, started: number, der: Uint8Array | undefined) {
    const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined)
    const hit = der && deps.ocsp.cached(requestKey(der))
    if (hit) return write(req, res, route, started, requestId, hit)
    void answerOcsp(deps, der, requestId).then(
      (a) => write(req, res, route, started, requestId, a),
      (e: unknown) => {
        // answerOcsp turns every failure into an OCSP error answer; this is the last guard, never a hung request.
        deps.logger.error({ err: e, requestId }, 'OCSP answer failed')
        res.destroy()
      },
    )
  }

  /** Reads exactly `length` body bytes, then answers; a client that goes away mid-body gets no answer. */
  function readThenAnswer(req: IncomingMessage, res: ServerResponse, length: number) {
    const started = performance.now()
    const body = Buffer.allocUnsafe(length)
    let at = 0
    let failed = false
    const fail = () => {
      if (failed) return
      failed = true
      res.destroy()
    }
    req.on('data', (chunk: Buffer) => {
      // node's parser stops at Content-Length; the guard keeps a misbehaving stream from overrunning.
      if (failed || at + chunk.byteLength > length) return fail()
      chunk.copy(body, at)
      at += chunk.byteLength
    })
    req.once('end', () => {
      if (failed) return
      if (at !== length) return fail()
      answer(req, res, OCSP_PATH, started, body)
    })
    req.once('error', fail)
  }

  return (next) =>
    function ocspFastPath(req, res) {
      const url = req.url ?? ''
      if (req.method === 'POST' && (url === OCSP_PATH || url.startsWith(`${OCSP_PATH}?`))) {
        const length = boundedLength(req, deps.bodyLimitBytes)
        if (length === undefined) return next(req, res)
        return readThenAnswer(req, res, length)
      }
      if (req.method === 'GET' && url.startsWith(`${OCSP_PATH}/`)) {
        return answer(req, res, `${OCSP_PATH}/*`, performance.now(), getRequestBytes(url.split('?', 1)[0]!))
      }
      return next(req, res)
    }
}
