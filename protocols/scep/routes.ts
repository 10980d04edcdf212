// RFC 8894 §4.1: one URL, the operation in the query (`operation=…`, case as the RFC spells it; others tolerated),
// PKIOperation by POST (binary body) or GET (`message=` base64). The label comes from the mount path.
import { Hono, type MiddlewareHandler } from 'hono'
import type { ScepDeps, ScepEnv, ScepLabel } from './context.js'
import { ScepHttpError } from './fail-info.js'
import { getCaCaps } from './handlers/get-ca-caps.js'
import { getCaCert } from './handlers/get-ca-cert.js'
import { pkiOperation } from './handlers/pki-operation.js'

/** Resolves the path's label (none: `default`) to its configuration, or 404. */
function resolveLabel(deps: ScepDeps): MiddlewareHandler<ScepEnv> {
  const labels = new Map<string, ScepLabel>(
    Object.entries(deps.config.scep.labels).map(([name, config]) => [
      name,
      { name, config, backendId: deps.config.profiles[config.profile]!.backend },
    ]),
  )
  return async function resolveLabel(c, next) {
    const name = c.req.param('label') ?? 'default'
    const label = labels.get(name)
    if (!label) throw new ScepHttpError(404, `no SCEP label "${name}" is configured`)
    c.set('label', label)
    await next()
  }
}

/** The `operation` query parameter, matched without regard to case (some devices send it lowercased). */
const operationOf = (value: string | undefined) =>
  ['GetCACaps', 'GetCACert', 'GetCAChain', 'PKIOperation', 'GetNextCACert'].find(
    (op) => op.toLowerCase() === (value ?? '').toLowerCase(),
  )

export function scepRoutes(deps: ScepDeps): Hono<ScepEnv> {
  const r = new Hono<ScepEnv>()
  const label = resolveLabel(deps)
  const caps = getCaCaps(deps)
  const caCert = getCaCert(deps)
  const operation = pkiOperation(deps)
  r.on(['GET', 'POST'], '/', label, async function dispatch(c) {
    const op = operationOf(c.req.query('operation'))
    const method = c.req.method
    switch (op) {
      case 'GetCACaps':
        return caps(c, async () => {})
      // GetCAChain: the pre-RFC name certmonger still asks for; answered like GetCACert.
      case 'GetCACert':
      case 'GetCAChain':
        return caCert(c, async () => {})
      case 'PKIOperation':
        return operation(c, async () => {})
      case 'GetNextCACert':
        throw new ScepHttpError(400, 'GetNextCACert is not offered (GetCACaps does not list it)')
      default:
        throw new ScepHttpError(
          400,
          `unknown or missing operation "${c.req.query('operation') ?? ''}" (${method}); expected GetCACaps, GetCACert or PKIOperation`,
        )
    }
  })
  r.all('/', label, async function methodNotAllowed() {
    throw new ScepHttpError(405, 'use GET or POST', { Allow: 'GET, POST' })
  })
  return r
}
