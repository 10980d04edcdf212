// Order rules: authorizations for a new order (reuse within the window, pre-authorization), profile
// selection (draft-aaron-acme-profiles), RFC 9773 `replaces`, and following an order held for approval.
import { IssuanceError, isIssuanceError } from '../../src/errors.js'
import { parseCsr, type ParsedCsr } from '../../src/pki/csr.js'
import { jwkOf, publicKeyFromSpki } from '../../src/pki/public-key.js'
import type { AcmeAccount, AcmeIdentifier, AcmeOrder, NewAuthorization, NewOrder } from '../../src/store/index.js'
import { preauthorizedMatcher } from './accounts.js'
import { decodeCertId } from './codec/cert-id.js'
import { thumbprint, toPublicJwk } from './codec/jws.js'
import type { AcmeContext } from './context.js'
import { decodeFinalize } from './codec/resources.js'
import { authzIdentifierFor, challengeTypesFor, requireCsrMatchesOrder } from './identifiers.js'
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

/**
 * One new authorization per identifier (§7.1.4), pre-authorized when the account's EAB key covers the name; the
 * store puts a reusable valid one of the account in its place when there is one (§7.4, `authzReuseSeconds`).
 */
export async function planAuthorizations(
  ctx: AcmeContext,
  account: AcmeAccount,
  identifiers: AcmeIdentifier[],
  now: Date,
): Promise<Pick<NewOrder, 'authorizations' | 'reuseValidatedAfter'>> {
  const acme = ctx.config.acme
  const preauthorized = await preauthorizedMatcher(ctx, account.eabKeyId)
  const expires = new Date(now.getTime() + acme.orderLifetimeSeconds * 1000)
  const authorizations = identifiers.map((id): NewAuthorization => {
    const { identifier, wildcard } = authzIdentifierFor(id)
    return { identifier, wildcard, challengeTypes: challengeTypesFor(identifier, wildcard), expires, preauthorized: preauthorized(id) }
  })
  const reuseValidatedAfter = acme.authzReuseSeconds ? new Date(now.getTime() - acme.authzReuseSeconds * 1000) : undefined
  return { authorizations, reuseValidatedAfter }
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
    return ctx.store.acme.orders.recordIssued(order.id, record.id, record.serial)
  }
  if (record.status === 'rejected' || record.status === 'failed') {
    return ctx.store.acme.orders.fail(order.id, new AcmeProblem('unauthorized', `the request was ${record.status}: ${record.failure ?? ''}`).toDocument())
  }
  return order
}

/**
 * The finalize CSR (§7.4): it parses and proves possession of its key (badCSR otherwise), requests exactly the
 * order's identifiers, and its key is not the account key.
 */
export async function requireAcceptableCsr(payload: Record<string, unknown> | undefined, order: AcmeOrder, account: AcmeAccount): Promise<ParsedCsr> {
  const csr = await parseCsr(decodeFinalize(payload)).catch((e: unknown) => {
    throw isIssuanceError(e) ? new AcmeProblem('badCSR', e.detail) : e
  })
  requireCsrMatchesOrder(csr, order.identifiers)
  await requireCsrKeyIsNotAccountKey(csr.publicKeyDer, account.thumbprint)
  return csr
}

/**
 * RFC 8555 §11.1: the certificate key must not be the account key (badCSR). Compared by RFC 7638 thumbprint of the
 * CSR key's JWK: read from a canonically encoded key as it stands, else from the key OpenSSL imports.
 */
export async function requireCsrKeyIsNotAccountKey(csrPublicKeyDer: Uint8Array, accountThumbprint: string): Promise<void> {
  let jwk: unknown
  try {
    jwk = jwkOf(csrPublicKeyDer) ?? publicKeyFromSpki(csrPublicKeyDer).export({ format: 'jwk' })
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
