// Runs a challenge validation in the background and settles it in the store. Network I/O happens outside any
// transaction: the store is only written once the outcome is known (the embedded store has one connection).
import type { AcmeAccount, AcmeAuthorization, AcmeChallenge, ChallengeOutcome } from '../../src/store/index.js'
import { validate } from './challenges/index.js'
import { keyAuthorization } from './codec/jws.js'
import type { AcmeContext } from './context.js'
import { AcmeProblem } from './problems.js'

export async function runValidation(ctx: AcmeContext, challenge: AcmeChallenge, authz: AcmeAuthorization, account: AcmeAccount): Promise<ChallengeOutcome> {
  try {
    await validate(
      {
        type: challenge.type,
        identifier: authz.identifier,
        wildcard: authz.wildcard,
        token: challenge.token,
        keyAuthorization: keyAuthorization(challenge.token, account.thumbprint),
        accountUrl: ctx.links.account(account.id),
      },
      ctx.net,
      ctx.validation,
    )
    return { status: 'valid' }
  } catch (e) {
    const problem = e instanceof AcmeProblem ? e : new AcmeProblem('serverInternal', 'validation failed unexpectedly')
    if (!(e instanceof AcmeProblem)) ctx.logger.error({ err: e, challenge: challenge.id }, 'validation error')
    return { status: 'invalid', error: { ...problem.toDocument(), identifier: authz.identifier } }
  }
}

/**
 * Starts validation, tracked in ctx.inflight; resolves to the settled challenge once its outcome is recorded
 * (undefined when it could not be), so the caller may wait a little for it (see `settledWithin`).
 */
export function startValidation(ctx: AcmeContext, challenge: AcmeChallenge, authz: AcmeAuthorization, account: AcmeAccount): Promise<AcmeChallenge | undefined> {
  return recordWhenKnown(ctx, challenge.id, runValidation(ctx, challenge, authz, account))
}

/** Settles a `processing` challenge once its outcome is known, tracked in ctx.inflight. */
function recordWhenKnown(ctx: AcmeContext, id: string, outcome: Promise<ChallengeOutcome>): Promise<AcmeChallenge | undefined> {
  const task = outcome
    .then((o) => ctx.store.acme.challenges.complete(id, o, ctx.config.acme.authzValiditySeconds))
    .catch((err: unknown) => {
      ctx.logger.error({ err, challenge: id }, 'cannot record a validation outcome')
      return undefined
    })
    .finally(() => ctx.inflight.delete(done))
  const done: Promise<void> = task.then(() => {})
  ctx.inflight.add(done)
  return task
}

/**
 * RFC 8555 §7.5.1 leaves the client to poll while the server validates, and lets the response to the challenge
 * already carry the outcome. A validation finished within `acme.validation.awaitSeconds` is answered with its
 * outcome (the client needs no poll); a slower one goes on in the background and the answer is `processing`.
 */
export async function settledWithin(ctx: AcmeContext, validation: Promise<AcmeChallenge | undefined>): Promise<AcmeChallenge | undefined> {
  const ms = ctx.config.acme.validation.awaitSeconds * 1000
  if (!ms) return undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), ms)
  })
  try {
    return await Promise.race([validation, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The challenge a response may validate before recording anything: a pending challenge of `account` whose
 * authorization, as read with the request, is pending with no sibling being validated — and only when responses
 * wait for validations at all (awaitSeconds > 0). Undefined otherwise: the request takes the recorded path.
 */
export function validatableNow(ctx: AcmeContext, authz: AcmeAuthorization | undefined, id: string, account: AcmeAccount): AcmeChallenge | undefined {
  if (!ctx.config.acme.validation.awaitSeconds || !authz || authz.accountId !== account.id || authz.status !== 'pending') return undefined
  if (authz.challenges.some((c) => c.status === 'processing')) return undefined
  const challenge = authz.challenges.find((c) => c.id === id)
  return challenge?.status === 'pending' ? challenge : undefined
}

/**
 * Validates first, records once. An outcome within `awaitSeconds` goes to the store in one statement, pending →
 * valid | invalid, under the same conditions `startProcessing` checks (challenges.settle); a slower validation is
 * recorded as `processing` when the wait ends and settled in the background as `startValidation` does. Returns the
 * challenge to answer with; undefined when the conditions no longer held (another request or instance got there
 * first): the caller reads the current state. Two requests racing may both validate; one outcome is recorded.
 */
export async function validateThenRecord(
  ctx: AcmeContext,
  challenge: AcmeChallenge,
  authz: AcmeAuthorization,
  account: AcmeAccount,
): Promise<AcmeChallenge | undefined> {
  const stale = validationStaleSeconds(ctx)
  const outcome = runValidation(ctx, challenge, authz, account)
  let timer: ReturnType<typeof setTimeout> | undefined
  const waited = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), ctx.config.acme.validation.awaitSeconds * 1000)
  })
  const early = await Promise.race([outcome, waited])
  clearTimeout(timer)
  if (early) return ctx.store.acme.challenges.settle(challenge.id, account.id, early, ctx.config.acme.authzValiditySeconds, stale)
  const claimed = await ctx.store.acme.challenges.startProcessing(challenge.id, account.id, stale)
  if (!claimed) return undefined
  void recordWhenKnown(ctx, challenge.id, outcome)
  return claimed.challenge
}

/** After this long a `processing` challenge is presumed orphaned (its instance died) and may be restarted. */
export const validationStaleSeconds = (ctx: AcmeContext) => {
  const v = ctx.config.acme.validation
  return Math.ceil(v.attempts * (v.timeoutSeconds + v.retryDelaySeconds) + 60)
}

/**
 * Resumes validations whose instance died mid-way (a crash or restart between `processing` and the outcome):
 * when a client reads an authorization, or a challenge, with a `processing` challenge started more than
 * `validationStaleSeconds` ago, this instance takes it over (the same conditional statement a new challenge
 * response uses, so two readers cannot both take it) and validates it in the background. Clients keep polling as
 * RFC 8555 §7.5.1 tells them to and see the outcome; nothing is left `processing` for ever. Returns whether a
 * validation was resumed.
 */
export async function resumeOrphaned(ctx: AcmeContext, authz: AcmeAuthorization, account: AcmeAccount): Promise<boolean> {
  if (authz.status !== 'pending') return false
  const orphan = authz.challenges.find((c) => c.status === 'processing')
  if (!orphan) return false
  const taken = await ctx.store.acme.challenges.startProcessing(orphan.id, account.id, validationStaleSeconds(ctx))
  if (!taken) return false
  ctx.logger.warn({ challenge: orphan.id, authz: authz.id }, 'acme: resuming a validation left processing by a stopped instance')
  void startValidation(ctx, taken.challenge, taken.authz, account)
  return true
}
