// RFC 8555 §7.5.1 responding to a challenge: a JSON object payload ({}) starts validation; POST-as-GET reads.
// Answers 200 with the challenge (processing) and Link rel="up" to its authorization; idempotent afterwards.
import { toChallengeResource } from '../codec/resources.js'
import type { AcmeContext, AcmeHandler } from '../context.js'
import { linkValue } from '../links.js'
import { authzOf } from '../lookup.js'
import { AcmeProblem } from '../problems.js'
import { startValidation, validationStaleSeconds } from '../validation.js'

export const challenge = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const { account, payload } = c.get('jws')
  const found = await ctx.store.acme.challenges.byId(c.req.param('id')!)
  if (!found) throw new AcmeProblem('malformed', 'challenge does not exist', { status: 404 })
  const authz = await authzOf(ctx, account!, found.authzId)
  let current = found
  if (payload !== undefined && (found.status === 'pending' || found.status === 'processing')) {
    if (authz.status !== 'pending') throw new AcmeProblem('malformed', `the authorization is ${authz.status}`)
    if (await ctx.store.acme.challenges.startProcessing(found.id, validationStaleSeconds(ctx))) {
      current = { ...found, status: 'processing' }
      startValidation(ctx, current, authz, account!)
    } else {
      current = (await ctx.store.acme.challenges.byId(found.id)) ?? found
    }
  }
  if (current.status === 'processing') c.header('Retry-After', String(ctx.config.acme.retryAfterSeconds))
  c.header('Link', linkValue(ctx.links.authz(authz.id), 'up'), { append: true })
  return c.json(toChallengeResource(current, ctx.links))
}
