// The EST route table (RFC 7030 §3.2.2): each operation with its checks, in the order they run. Mounted at
// /.well-known/est and at /.well-known/est/<label>.
import { Hono, type MiddlewareHandler } from 'hono'
import { TrustAnchors } from '../../src/pki/path-validation.js'
import { authenticator } from './auth.js'
import type { EstDeps, EstEnv, EstLabel } from './context.js'
import { cacerts } from './handlers/cacerts.js'
import { csrattrs } from './handlers/csrattrs.js'
import { fullcmc } from './handlers/fullcmc.js'
import { serverkeygen } from './handlers/serverkeygen.js'
import { simpleenroll } from './handlers/simpleenroll.js'
import { simplereenroll } from './handlers/simplereenroll.js'
import { EstError } from './status.js'

/** Resolves the path's label (none: `default`) to its configuration, or 404. */
function resolveLabel(deps: EstDeps): MiddlewareHandler<EstEnv> {
  const labels = new Map<string, EstLabel>(
    Object.entries(deps.config.est.labels).map(([name, config]) => [
      name,
      {
        name,
        config,
        externalCas: new TrustAnchors(config.externalCas.flat()),
        clientProfiles: config.clientProfiles ?? [config.profile],
      },
    ]),
  )
  return async function resolveLabel(c, next) {
    const name = c.req.param('label') ?? 'default'
    const label = labels.get(name)
    if (!label) throw new EstError(404, `no EST label "${name}" is configured`)
    c.set('label', label)
    await next()
  }
}

/**
 * RFC 7030 §4.2.1: enrollment requests are `application/pkcs10` (parameters ignored). The request's
 * Content-Transfer-Encoding header is ignored: the body is base64 regardless (RFC 8951 §3.2).
 */
const requirePkcs10: MiddlewareHandler<EstEnv> = async function requirePkcs10(c, next) {
  const type = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/pkcs10') {
    throw new EstError(415, `expected Content-Type application/pkcs10, got "${type || 'none'}"`)
  }
  await next()
}

const methodNotAllowed = (allow: string) =>
  async function methodNotAllowed() {
    throw new EstError(405, `use ${allow}`, { Allow: allow })
  }

export function estRoutes(deps: EstDeps): Hono<EstEnv> {
  const r = new Hono<EstEnv>()
  // Per route, not r.use('*'): the app is mounted at / and at /:label, and a wildcard would match both mounts.
  const label = resolveLabel(deps)
  const authenticate = authenticator(deps)
  // §4.1, §4.5: open to anyone.
  r.get('/cacerts', label, cacerts(deps))
  r.get('/csrattrs', label, csrattrs(deps))
  // §4.2, §4.4: authenticated per the label's mode; simplereenroll by the certificate being renewed.
  r.post('/simpleenroll', label, authenticate('enroll'), requirePkcs10, simpleenroll(deps))
  r.post('/simplereenroll', label, authenticate('reenroll'), requirePkcs10, simplereenroll(deps))
  r.post('/serverkeygen', label, authenticate('enroll'), requirePkcs10, serverkeygen(deps))
  // §4.3: not offered.
  r.all('/fullcmc', label, fullcmc)
  for (const op of ['/cacerts', '/csrattrs']) r.all(op, label, methodNotAllowed('GET'))
  for (const op of ['/simpleenroll', '/simplereenroll', '/serverkeygen']) r.all(op, label, methodNotAllowed('POST'))
  return r
}
