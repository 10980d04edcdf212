// acmeApp(deps): the ACME server (RFC 8555, 8737, 8738, 9773, EAB) as a Hono app mounted at /acme.
import { Hono } from 'hono'
import { isIssuanceError } from '../../src/errors.js'
import { createAcmeContext, type AcmeContext, type AcmeDeps, type AcmeEnv } from './context.js'
import { replayNonceAndIndex } from './middleware.js'
import { AcmeProblem, fromIssuanceError } from './problems.js'
import { routes } from './routes.js'

export type { AcmeDeps } from './context.js'

/** Renders any error as application/problem+json; a 5xx never shows its detail (logged with the request id). */
function render(ctx: AcmeContext) {
  return (err: Error, c: Parameters<Parameters<Hono<AcmeEnv>['onError']>[0]>[1]) => {
    let problem: AcmeProblem
    if (err instanceof AcmeProblem) problem = err
    else if (isIssuanceError(err)) problem = fromIssuanceError(err)
    else {
      ctx.logger.error({ err, requestId: c.get('requestId'), path: c.req.path }, 'unhandled ACME error')
      problem = new AcmeProblem('serverInternal', `request ${String(c.get('requestId'))} failed`)
    }
    if (problem.status >= 500 && !(err instanceof AcmeProblem)) {
      ctx.logger.error({ err, requestId: c.get('requestId') }, 'ACME server error')
    }
    return c.body(JSON.stringify(problem.toDocument()), problem.status, {
      'Content-Type': 'application/problem+json',
      ...problem.options.headers,
    })
  }
}

export function acmeApp(deps: AcmeDeps): Hono<AcmeEnv> & { acme: AcmeContext } {
  const ctx = createAcmeContext(deps)
  const app = new Hono<AcmeEnv>()
  app.onError(render(ctx))
  app.use('*', replayNonceAndIndex(ctx))
  routes(app, ctx)
  return Object.assign(app, { acme: ctx })
}
