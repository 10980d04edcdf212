// Composition only: mounts the protocols, the admin API and the operational endpoints on two listeners.
import { Hono } from 'hono'
import type { Logger } from 'pino'
import { adminApp } from './admin/routes.js'
import type { ApiKey } from './admin/auth.js'
import type { BackendRegistry } from './ca/registry.js'
import type { Config } from './config/schema.js'
import { caDownloadApp } from './http/ca-download.js'
import { accessLog, internalError, limitBody, requestIdHeader, type AppEnv } from './http/middleware.js'
import type { IssuanceService } from './issuance/service.js'
import type { Metrics } from './metrics.js'
import type { Revocation } from './revocation/index.js'
import type { ScepServices } from './scep/index.js'
import type { Store } from './store/index.js'
import { acmeApp } from '../protocols/acme/index.js'
import { crlApp } from '../protocols/crl/index.js'
import { estApp } from '../protocols/est/index.js'
import { ocspApp, ocspFastPath } from '../protocols/ocsp/index.js'
import { scepApp } from '../protocols/scep/index.js'

export interface AppDeps {
  config: Config
  store: Store
  backends: BackendRegistry
  issuance: IssuanceService
  logger: Logger
  metrics: Metrics
  apiKeys: ApiKey[]
  revocation: Revocation
  /** SCEP RA and challenges (startServer sets them up); without them SCEP is not served. */
  scep?: ScepServices | undefined
}

/** Middleware and operational routes both listeners share. */
function base(listener: 'https' | 'http', deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use('*', requestIdHeader())
  app.use('*', accessLog(listener, deps.logger, deps.metrics))
  app.use('*', limitBody(deps.config.bodyLimitBytes))
  app.onError((err, c) => internalError(c, deps.logger, err))
  app.notFound((c) =>
    c.json({ type: 'about:blank', title: 'Not Found', status: 404, detail: `${c.req.path} is not served here` }, 404, {
      'Content-Type': 'application/problem+json',
    }),
  )
  /** Liveness: the process answers. */
  app.get('/health', (c) => c.json({ status: 'ok' }))
  /** Readiness: the store answers and every CA backend can sign. */
  app.get('/ready', async (c) => {
    const [store, ...backends] = await Promise.all([
      deps.store.ping(),
      ...deps.backends.all().map((b) => b.ready().catch(() => false)),
    ])
    const checks = {
      store: store ? 'ok' : 'unavailable',
      backends: Object.fromEntries(deps.backends.all().map((b, i) => [b.id, backends[i] ? 'ok' : 'unavailable'])),
    }
    const ok = store && backends.every(Boolean)
    return c.json({ status: ok ? 'ready' : 'unavailable', checks }, ok ? 200 : 503)
  })
  app.get('/metrics', async (c) =>
    c.body(await deps.metrics.registry.metrics(), 200, { 'Content-Type': deps.metrics.registry.contentType }),
  )
  return app
}

export interface Apps {
  https: Hono<AppEnv>
  http: Hono<AppEnv>
  /** Wraps the HTTP listener's Hono node listener with the OCSP hot path (protocols/ocsp/node.ts). */
  httpFastPath: ReturnType<typeof ocspFastPath>
}

export function createApp(deps: AppDeps): Apps {
  const https = base('https', deps)
  https.route('/acme', acmeApp(deps))
  https.route('/.well-known/est', estApp(deps))
  https.route(
    '/api/v1',
    adminApp({
      store: deps.store,
      issuance: deps.issuance,
      apiKeys: deps.apiKeys,
      publicUrl: deps.config.publicUrl,
      logger: deps.logger,
      scepChallenges: deps.scep?.challenges,
    }),
  )

  const http = base('http', deps)
  http.route('/.well-known/pki', caDownloadApp(deps.issuance))
  http.route('/.well-known/pki/ocsp', ocspApp({ ocsp: deps.revocation.ocsp, logger: deps.logger }))
  http.route(
    '/.well-known/pki',
    crlApp({ crl: deps.revocation.crl, defaultBackendId: deps.config.profiles['default']!.backend }),
  )
  const scep = scepApp({ ...deps, scep: deps.scep, crl: deps.revocation.crl })
  http.route('/scep', scep)
  http.route('/scep/:label', scep)
  http.route('/cgi-bin/pkiclient.exe', scep)
  const httpFastPath = ocspFastPath({
    ocsp: deps.revocation.ocsp,
    logger: deps.logger,
    metrics: deps.metrics,
    bodyLimitBytes: deps.config.bodyLimitBytes,
    listener: 'http',
  })
  return { https, http, httpFastPath }
}
