// RFC 8555 §7.5.1 responding to a challenge: a JSON object payload ({}) starts validation; POST-as-GET reads.
// Answers 200 with the challenge and Link rel="up" to its authorization: with its outcome when the validation
// finishes within acme.validation.awaitSeconds, else `processing`; idempotent afterwards.
import { toChallengeResource } from '../codec/resources.js'
import type { AcmeContext, AcmeHandler } from '../context.js'
import { linkValue } from '../links.js'
import { authzOf } from '../lookup.js'
import { AcmeProblem } from '../problems.js'
import { resumeOrphaned, settledWithin, startValidation, validatableNow, validateThenRecord, validationStaleSeconds } from '../validation.js'

export const challenge = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const { account, payload, authz: prefetched } = c.get('jws')
  const id = c.req.param('id')!
  // The usual case: the authorization read with the nonce shows this challenge pending, so it is validated at once
  // and its outcome recorded in one statement (or `processing`, when the validation outlasts the wait).
  const validatable = payload !== undefined ? validatableNow(ctx, prefetched, id, account!) : undefined
  const settled = validatable ? await validateThenRecord(ctx, validatable, prefetched!, account!) : undefined
  // Otherwise, in one statement: a pending challenge of this account starts; anything else is read below.
  const started =
    payload !== undefined && !validatable ? await ctx.store.acme.challenges.startProcessing(id, account!.id, validationStaleSeconds(ctx)) : undefined
  let current
  let authzId
  if (settled) {
    current = settled
    authzId = settled.authzId
  } else if (started) {
    const validation = startValidation(ctx, started.challenge, started.authz, account!)
    current = (await settledWithin(ctx, validation)) ?? started.challenge
    authzId = started.authz.id
  } else {
    const found = await ctx.store.acme.challenges.byId(id)
    if (!found) throw new AcmeProblem('malformed', 'challenge does not exist', { status: 404 })
    // The prefetched authorization is only as of the request: after a fast-path attempt it is read again.
    const authz = await authzOf(ctx, account!, found.authzId, validatable ? undefined : prefetched)
    if (payload !== undefined && (found.status === 'pending' || found.status === 'processing') && authz.status !== 'pending') {
      throw new AcmeProblem('malformed', `the authorization is ${authz.status}`)
    }
    if (payload === undefined && found.status === 'processing') await resumeOrphaned(ctx, authz, account!)
    current = found
    authzId = authz.id
  }
  if (current.status === 'processing') c.header('Retry-After', String(ctx.config.acme.retryAfterSeconds))
  c.header('Link', linkValue(ctx.links.authz(authzId), 'up'), { append: true })
  return c.json(toChallengeResource(current, ctx.links))
}
