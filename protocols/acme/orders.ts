// Order rules: authorizations for a new order (reuse within the window, pre-authorization), profile
// selection (draft-aaron-acme-profiles), RFC 9773 `replaces`, and following an order held for approval.
import { createPublicKey } from 'node:crypto'
import { IssuanceError } from '../../src/errors.js'
import type { AcmeAccount, AcmeIdentifier, AcmeOrder, NewAuthorization } from '../../src/store/index.js'
import { preauthorizedMatcher } from './accounts.js'
import { decodeCertId } from './codec/cert-id.js'
import { thumbprint, toPublicJwk } from './codec/jws.js'
import type { AcmeContext } from './context.js'
import { authzIdentifierFor, challengeTypesFor } from './identifiers.js'
import { AcmeProblem, type ProblemOptions } from './problems.js'

/** draft-aaron-acme-profiles §4: a named profile must be one we expose, else invalidProfile. */
export function requireExposedProfile(ctx: AcmeContext, profile: string | undefined): string | undefined {
  if (profile === undefined) return undefined
  if (!ctx.issuance.exposedProfiles().some((p) => p.name === profile)) {
    throw new AcmeProblem('invalidProfile', `profile "${profile}" is not offered by this server`)
  }
  return profile
}

/**
 * The profile's policy is asked at newOrder already, so a client never validates names it could not get
 * (Boulder does the same); each refused identifier is a rejectedIdentifier subproblem (RFC 8555 §6.7.1).
 */
export function requireIdentifiersAllowed(ctx: AcmeContext, profile: string | undefined, identifiers: AcmeIdentifier[]): void {
  const subproblems: NonNullable<ProblemOptions['subproblems']> = []
  for (const identifier of identifiers) {
    try {
      ctx.issuance.checkIdentifiers(profile, [identifier])
    } catch (e) {
      if (!(e instanceof IssuanceError) || e.kind !== 'policyDenied') throw e
      subproblems.push({ type: 'rejectedIdentifier', detail: e.detail, identifier })
    }
  }
  if (subproblems.length === 1) throw new AcmeProblem('rejectedIdentifier', subproblems[0]!.detail, { extra: { identifier: subproblems[0]!.identifier } })
  if (subproblems.length) throw new AcmeProblem('rejectedIdentifier', `${subproblems.length} identifiers are not allowed`, { subproblems })
}

/** One authorization per identifier: a reusable valid one of the account, or a new one (§7.1.4, §7.4). */
export async function planAuthorizations(
  ctx: AcmeContext,
  account: AcmeAccount,
  identifiers: AcmeIdentifier[],
  now: Date,
): Promise<(string | NewAuthorization)[]> {
  const acme = ctx.config.acme
  const preauthorized = await preauthorizedMatcher(ctx, account.eabKeyId)
  const expires = new Date(now.getTime() + acme.orderLifetimeSeconds * 1000)
  const plan: (string | NewAuthorization)[] = []
  for (const id of identifiers) {
    const { identifier, wildcard } = authzIdentifierFor(id)
    const reuse = acme.authzReuseSeconds
      ? await ctx.store.acme.authorizations.findReusable(account.id, identifier, wildcard, new Date(now.getTime() - acme.authzReuseSeconds * 1000), expires)
      : undefined
    if (reuse) {
      plan.push(reuse)
      continue
    }
    const pre = preauthorized(id)
    plan.push({ identifier, wildcard, challengeTypes: challengeTypesFor(identifier, wildcard), expires, preauthorized: pre })
  }
  return plan
}

/**
 * RFC 9773 §5 `replaces`: the certID must name a certificate of ours issued to this account; a second claim
 * is alreadyReplaced (checked atomically by the store).
 */
export async function resolveReplaces(ctx: AcmeContext, account: AcmeAccount, replaces: string | undefined) {
  if (replaces === undefined) return undefined
  const certId = decodeCertId(replaces)
  let record
  try {
    record = await ctx.issuance.find(certId.serial)
  } catch (e) {
    if (e instanceof IssuanceError && e.kind === 'notFound') throw new AcmeProblem('malformed', 'replaces names no certificate of this server')
    throw e
  }
  if (record.requester !== ctx.links.account(account.id)) {
    throw new AcmeProblem('unauthorized', 'replaces names a certificate of another account')
  }
  const claimedBy = await ctx.store.acme.renewal.replacedBy(record.serial)
  const by = claimedBy ? await ctx.store.acme.orders.byId(claimedBy) : undefined
  if (by && by.status !== 'invalid') throw new AcmeProblem('alreadyReplaced', 'the certificate was already replaced by another order')
  return { certId: replaces, serial: record.serial }
}

/** An order held for approval follows its inventory row: issued → valid; rejected or failed → invalid. */
export async function followPendingIssuance(ctx: AcmeContext, order: AcmeOrder): Promise<AcmeOrder> {
  if (order.status !== 'processing' || !order.certificateId) return order
  const record = await ctx.issuance.find(order.certificateId)
  if (record.status === 'valid' || record.status === 'revoked') {
    return ctx.store.acme.orders.recordCertificate(order.id, record.id, record.serial, true)
  }
  if (record.status === 'rejected' || record.status === 'failed') {
    return ctx.store.acme.orders.fail(order.id, new AcmeProblem('unauthorized', `the request was ${record.status}: ${record.failure ?? ''}`).toDocument())
  }
  return order
}

/** RFC 8555 §11.1: the certificate key must not be the account key (badCSR). */
export async function requireCsrKeyIsNotAccountKey(csrPublicKeyDer: Uint8Array, accountThumbprint: string): Promise<void> {
  let jwk: unknown
  try {
    jwk = createPublicKey({ key: Buffer.from(csrPublicKeyDer), format: 'der', type: 'spki' }).export({ format: 'jwk' })
  } catch {
    return // a key node cannot export is not an account key type either
  }
  if (await sameKeyThumbprint(jwk, accountThumbprint)) throw new AcmeProblem('badCSR', 'the CSR key is the account key')
}

async function sameKeyThumbprint(jwk: unknown, expected: string): Promise<boolean> {
  try {
    return (await thumbprint(toPublicJwk(jwk))) === expected
  } catch {
    return false
  }
}
