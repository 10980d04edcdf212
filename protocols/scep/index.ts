// SCEP server (RFC 8894): scepApp(deps) is mounted on the HTTP listener at /scep, /scep/<label> and
// /cgi-bin/pkiclient.exe. Refusals that cannot be answered in-band leave as text/plain HTTP errors; everything
// after a pkiMessage is identified is a signed CertRep (handlers/pki-operation.ts).
import { Hono } from 'hono'
import { internalError } from '../../src/http/middleware.js'
import type { ScepDeps, ScepEnv } from './context.js'
import { ScepHttpError } from './fail-info.js'
import { scepRoutes } from './routes.js'

export type { ScepDeps } from './context.js'

export function scepApp(deps: ScepDeps): Hono<ScepEnv> {
  const app = new Hono<ScepEnv>()
  if (!deps.config.scep.enabled || !deps.scep) return app
  app.onError((e, c) => {
    if (e instanceof ScepHttpError) return c.text(`${e.detail}\n`, e.status, e.headers)
    return internalError(c, deps.logger, e)
  })
  app.route('/', scepRoutes(deps))
  return app
}
