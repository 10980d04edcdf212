// Cross-protocol Hono middleware: access log + metrics, body limit, internal-error rendering.
import { randomUUID } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'

export type AppEnv = { Variables: { requestId: string } }

export interface RequestRecord {
  listener: string
  /** The matched route pattern (bounded label cardinality), or 'unmatched'. */
  route: string
  method: string
  path: string
  status: number
  requestId: string
  ms: number
}

/** Counts one request by matched route and logs it as one JSON line (when info is enabled). */
export function recordRequest(logger: Logger, metrics: Metrics, r: RequestRecord): void {
  metrics.observeRequest(r.listener, r.route, r.method, r.status)
  if (!logger.isLevelEnabled('info')) return
  logger.info(
    {
      listener: r.listener,
      requestId: r.requestId,
      method: r.method,
      path: r.path,
      status: r.status,
      ms: Math.round(r.ms * 10) / 10,
    },
    'request',
  )
}

/** A client's X-Request-Id is kept when short and plain (as hono/request-id does), else a new one is made. */
export function requestIdFrom(header: string | undefined): string {
  return header && header.length <= 255 && !/[^\w\-=]/.test(header) ? header : randomUUID()
}

/** Sets the request id (the client's when acceptable) on the context and the X-Request-Id response header. */
export function requestIdHeader(): MiddlewareHandler<AppEnv> {
  return async function requestIdHeader(c, next) {
    const id = requestIdFrom(c.req.header('x-request-id'))
    c.set('requestId', id)
    c.header('X-Request-Id', id)
    await next()
  }
}

/** Logs one JSON line per request and counts it by matched route (bounded label cardinality). */
export function accessLog(listener: string, logger: Logger, metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async function accessLog(c, next) {
    const started = performance.now()
    await next()
    recordRequest(logger, metrics, {
      listener,
      route: c.req.routePath || 'unmatched',
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      requestId: c.get('requestId'),
      ms: performance.now() - started,
    })
  }
}

/**
 * Rejects bodies over the configured size with 413 before they are buffered. Bodiless methods and requests with
 * a Content-Length are decided from the headers alone: wrapping every request's body stream (what bodyLimit
 * does) cost the cached OCSP path two thirds of its throughput. Chunked bodies are still counted as they stream.
 */
export function limitBody(maxSize: number): MiddlewareHandler<AppEnv> {
  const onError = (c: Context) =>
    c.json(
      { type: 'about:blank', title: 'Payload Too Large', status: 413, detail: `request body exceeds ${maxSize} bytes` },
      413,
      { 'Content-Type': 'application/problem+json' },
    )
  const streaming = bodyLimit({ maxSize, onError })
  return async function limitBody(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    const length = c.req.header('content-length')
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(length, 10) > maxSize ? onError(c) : next()
    }
    return streaming(c, next)
  }
}

/** 500 with the detail hidden: the error is logged with the request id, the client sees only the id. */
export function internalError(c: Context, logger: Logger, err: unknown) {
  const requestId: unknown = c.get('requestId')
  logger.error({ err, requestId, path: c.req.path }, 'unhandled error')
  return c.json(
    { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: `request ${String(requestId)} failed` },
    500,
    { 'Content-Type': 'application/problem+json' },
  )
}
