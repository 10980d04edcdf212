// RFC 8555 §7.4 newOrder and the order resource (POST-as-GET), with RFC 8738 ip identifiers, profiles and
// RFC 9773 replaces.
import { decodeNewOrder, toOrderResource } from '../codec/resources.js'
import type { AcmeContext, AcmeHandler } from '../context.js'
import { normalizeOrderIdentifiers } from '../identifiers.js'
import { orderOf } from '../lookup.js'
import { requireWithinRateLimit } from '../middleware.js'
import { followPendingIssuance, planAuthorizations, requireExposedProfile, requireIdentifiersAllowed, resolveReplaces } from '../orders.js'
import { AcmeProblem } from '../problems.js'

export const newOrder = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const account = c.get('jws').account!
  const req = decodeNewOrder(c.get('jws').payload)
  const identifiers = normalizeOrderIdentifiers(req.identifiers)
  const profile = requireExposedProfile(ctx, req.profile)
  requireIdentifiersAllowed(ctx, profile, identifiers)
  const notBefore = req.notBefore ? new Date(req.notBefore) : undefined
  const notAfter = req.notAfter ? new Date(req.notAfter) : undefined
  if (notBefore && notAfter && notAfter <= notBefore) throw new AcmeProblem('malformed', 'notAfter must be later than notBefore')
  const replaces = await resolveReplaces(ctx, account, req.replaces)
  await requireWithinRateLimit(ctx, `newOrder:${account.id}`, ctx.config.acme.rateLimits.newOrdersPerAccountPerHour)
  const now = new Date()
  const order = await ctx.store.acme.orders.create({
    accountId: account.id,
    identifiers,
    expires: new Date(now.getTime() + ctx.config.acme.orderLifetimeSeconds * 1000),
    notBefore,
    notAfter,
    profile,
    replaces,
    ...(await planAuthorizations(ctx, account, identifiers, now)),
  })
  return c.json(toOrderResource(order, ctx.links), 201, { Location: ctx.links.order(order.id) })
}

/** POST-as-GET; Retry-After (delta-seconds) while processing. */
export const order = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const found = await orderOf(ctx, c.get('jws').account!, c.req.param('id')!)
  const current = await followPendingIssuance(ctx, found)
  if (current.status === 'processing') c.header('Retry-After', String(ctx.config.acme.retryAfterSeconds))
  return c.json(toOrderResource(current, ctx.links))
}
