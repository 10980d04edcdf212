// Admin REST API under /api/v1: certificates, approvals, revocation, audit. OpenAPI at /api/v1/openapi.json.
import { Hono } from 'hono'
import type { Logger } from 'pino'
import { z } from 'zod'
import { internalError } from '../http/middleware.js'
import { IssuanceError } from '../errors.js'
import type { IssuanceService } from '../issuance/service.js'
import { parseCsr } from '../pki/csr.js'
import { toPem } from '../pki/pem.js'
import { parseReason } from '../pki/revocation-reason.js'
import type { Store } from '../store/index.js'
import { requireApiKey, type AdminEnv, type ApiKey } from './auth.js'
import { openApiDocument } from './openapi.js'
import { problem, statusFor } from './problems.js'
import { toAuditResource, toCertificateResource, toCertificateSummary } from './resources.js'
import { keyBundleRoutes } from './key-bundle.js'
import type { ChallengeService } from '../scep/index.js'
import { scepChallengeRoutes } from './scep-challenges.js'
import { acmeAdminRoutes } from './acme.js'
import { jsonBody, parse } from './request.js'

export interface AdminDeps {
  store: Store
  issuance: IssuanceService
  apiKeys: ApiKey[]
  publicUrl: string
  logger: Logger
  /** SCEP one-time challenges; /scep/challenges is served when set. */
  scepChallenges?: ChallengeService | undefined
}

const encodeCursor = (id: string) => Buffer.from(`id:${id}`).toString('base64url')
function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined
  const m = /^id:(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString())
  if (!m) throw new IssuanceError('badRequest', 'cursor is not valid')
  return m[1]
}

const limit = z.coerce.number().int().min(1).max(500).default(50)
const listQuery = z.object({
  status: z.enum(['pending', 'reserved', 'valid', 'expired', 'revoked', 'failed', 'rejected']).optional(),
  'expiring-before': z.iso.datetime({ offset: true }).optional(),
  san: z.string().min(1).max(253).optional(),
  profile: z.string().min(1).max(64).optional(),
  limit,
  cursor: z.string().max(64).optional(),
})
const auditQuery = z.object({
  limit,
  cursor: z.string().max(64).optional(),
  serial: z.string().min(1).max(64).optional(),
  action: z.string().min(1).max(64).optional(),
})
const issueBody = z.object({
  csr: z.string().min(1),
  profile: z.string().min(1).max(64).optional(),
  notAfter: z.iso.datetime({ offset: true }).optional(),
})
const revokeBody = z.object({
  reason: z.union([z.string(), z.number()]).default('unspecified'),
  /** RFC 5280 §5.3.2: when the key is known or suspected to have been compromised. */
  invalidityDate: z.iso.datetime({ offset: true }).optional(),
})
const rejectBody = z.object({ reason: z.string().max(500).default('rejected by an administrator') })

const chainPem = (der: Uint8Array[]) => der.map((d) => toPem(d, 'CERTIFICATE')).join('')

export function adminApp(deps: AdminDeps) {
  const { store, issuance } = deps
  const app = new Hono<AdminEnv>()

  app.onError((e, c) => {
    if (e instanceof IssuanceError) return problem(c, statusFor[e.kind], e.kind, e.detail)
    return internalError(c, deps.logger, e)
  })

  app.get('/openapi.json', (c) => c.json(openApiDocument(deps.publicUrl)))
  app.use('*', requireApiKey(deps.apiKeys))

  app.get('/certificates', async (c) => {
    const q = parse(listQuery, c.req.query())
    const rows = await store.certificates.list({
      status: q.status,
      expiringBefore: q['expiring-before'] ? new Date(q['expiring-before']) : undefined,
      sanContains: q.san,
      profile: q.profile,
      beforeId: decodeCursor(q.cursor),
      limit: q.limit + 1,
    })
    const items = rows.slice(0, q.limit)
    const next = rows.length > q.limit ? encodeCursor(items.at(-1)!.id) : null
    return c.json({ items: items.map(toCertificateSummary), nextCursor: next })
  })

  app.post('/certificates', async (c) => {
    const body = parse(issueBody, await jsonBody(c))
    const csr = await parseCsr(body.csr)
    const outcome = await issuance.issue({
      csr,
      profile: body.profile,
      protocol: 'admin',
      requester: c.get('actor'),
      notAfter: body.notAfter ? new Date(body.notAfter) : undefined,
      requestId: c.get('requestId'),
    })
    const location = `/api/v1/certificates/${outcome.certificate.id}`
    if (outcome.status === 'pending') {
      return c.json(toCertificateSummary(outcome.certificate), 202, { Location: location, 'Retry-After': '60' })
    }
    return c.json(
      { ...toCertificateResource(outcome.certificate), chainPem: chainPem(outcome.chainDer) },
      201,
      { Location: location },
    )
  })

  app.route('/certificates', keyBundleRoutes(issuance))

  app.get('/certificates/:ref', async (c) => c.json(toCertificateResource(await issuance.find(c.req.param('ref')))))

  app.post('/certificates/:ref/revoke', async (c) => {
    const body = parse(revokeBody, await jsonBody(c))
    const reason = parseReason(body.reason)
    if (reason === undefined) throw new IssuanceError('badRequest', `reason "${body.reason}" is not an RFC 5280 CRLReason`)
    const found = await issuance.find(c.req.param('ref'))
    const revoked = await issuance.revoke({
      id: found.id,
      reason,
      invalidityDate: body.invalidityDate ? new Date(body.invalidityDate) : undefined,
      actor: c.get('actor'),
      protocol: 'admin',
      requestId: c.get('requestId'),
    })
    return c.json(toCertificateSummary(revoked))
  })

  app.get('/requests', async (c) => {
    const q = parse(listQuery.pick({ limit: true, cursor: true, profile: true }), c.req.query())
    const rows = await store.certificates.list({
      status: 'pending',
      profile: q.profile,
      beforeId: decodeCursor(q.cursor),
      limit: q.limit + 1,
    })
    const items = rows.slice(0, q.limit)
    const next = rows.length > q.limit ? encodeCursor(items.at(-1)!.id) : null
    return c.json({ items: items.map(toCertificateSummary), nextCursor: next })
  })

  app.post('/requests/:id/approve', async (c) => {
    const issued = await issuance.approve(c.req.param('id'), c.get('actor'), c.get('requestId'))
    return c.json({ ...toCertificateResource(issued.certificate), chainPem: chainPem(issued.chainDer) })
  })

  app.post('/requests/:id/reject', async (c) => {
    const body = parse(rejectBody, await jsonBody(c))
    const rejected = await issuance.reject(c.req.param('id'), c.get('actor'), body.reason, c.get('requestId'))
    return c.json(toCertificateSummary(rejected))
  })

  if (deps.scepChallenges) app.route('/scep/challenges', scepChallengeRoutes(deps.scepChallenges))
  app.route('/acme', acmeAdminRoutes(store))

  app.get('/audit', async (c) => {
    const q = parse(auditQuery, c.req.query())
    const rows = await store.audit.list({
      beforeId: decodeCursor(q.cursor),
      serial: q.serial,
      action: q.action,
      limit: q.limit + 1,
    })
    const items = rows.slice(0, q.limit)
    const next = rows.length > q.limit ? encodeCursor(items.at(-1)!.id) : null
    return c.json({ items: items.map(toAuditResource), nextCursor: next })
  })

  return app
}
