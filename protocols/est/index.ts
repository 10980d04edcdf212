// EST server (RFC 7030 with RFC 8951): estApp(deps) is mounted at /.well-known/est on the HTTPS listener.
// Errors leave as an HTTP status with a text/plain explanation; a 5xx hides its detail (logged by request id).
import { Hono } from 'hono'
import { isIssuanceError } from '../../src/errors.js'
import { internalError } from '../../src/http/middleware.js'
import type { EstDeps, EstEnv } from './context.js'
import { estRoutes } from './routes.js'
import { EstError, statusFor } from './status.js'

export type { EstDeps } from './context.js'

export function estApp(deps: EstDeps): Hono<EstEnv> {
  const app = new Hono<EstEnv>()
  if (!deps.config.est.enabled) return app
  app.onError((e, c) => {
    if (e instanceof EstError) return c.text(`${e.detail}\n`, e.status, e.headers)
    if (isIssuanceError(e)) {
      const status = statusFor[e.kind]
      if (status < 500) return c.text(`${e.detail}\n`, status)
      deps.logger.error({ err: e, requestId: c.get('requestId') }, 'EST request failed')
      return c.text(`request ${c.get('requestId')} failed; try again later\n`, status, { 'Retry-After': '30' })
    }
    return internalError(c, deps.logger, e)
  })
  const routes = estRoutes(deps)
  app.route('/', routes)
  app.route('/:label', routes)
  return app
}
