// RFC 8555 §7.5 authorizations: POST-as-GET, §7.5.2 deactivation, and §7.4.1 newAuthz pre-authorization.
import { decodeAuthzUpdate, decodeNewAuthz, toAuthorizationResource } from '../codec/resources.js'
import type { AcmeContext, AcmeHandler } from '../context.js'
import { challengeTypesFor, normalizeOrderIdentifiers } from '../identifiers.js'
import { authzOf } from '../lookup.js'
import { AcmeProblem } from '../problems.js'
import { resumeOrphaned } from '../validation.js'

export const authz = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const { account, payload, authz: prefetched } = c.get('jws')
  let current = await authzOf(ctx, account!, c.req.param('id')!, prefetched)
  if (payload !== undefined) {
    decodeAuthzUpdate(payload)
    current = (await ctx.store.acme.authorizations.deactivate(current.id)) ?? current
    if (current.status !== 'deactivated') throw new AcmeProblem('malformed', `an authorization that is ${current.status} cannot be deactivated`)
  } else {
    await resumeOrphaned(ctx, current, account!)
  }
  if (current.status === 'pending') c.header('Retry-After', String(ctx.config.acme.retryAfterSeconds))
  return c.json(toAuthorizationResource(current, ctx.links))
}

/** Pre-authorization cannot be used for wildcards (§7.4.1). */
export const newAuthz = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const { account, payload } = c.get('jws')
  const [identifier] = normalizeOrderIdentifiers([decodeNewAuthz(payload).identifier])
  if (identifier!.value.startsWith('*.')) throw new AcmeProblem('rejectedIdentifier', 'wildcard names cannot be pre-authorized')
  const expires = new Date(Date.now() + ctx.config.acme.orderLifetimeSeconds * 1000)
  const created = await ctx.store.acme.authorizations.create(account!.id, {
    identifier: identifier!,
    wildcard: false,
    challengeTypes: challengeTypesFor(identifier!, false),
    expires,
  })
  return c.json(toAuthorizationResource(created, ctx.links), 201, { Location: ctx.links.authz(created.id) })
}
