// Loading a resource for the account that asked: unknown → 404 malformed; another account's → unauthorized.
import type { AcmeAccount, AcmeAuthorization, AcmeOrder } from '../../src/store/index.js'
import type { AcmeContext } from './context.js'
import { AcmeProblem } from './problems.js'

const notFound = (what: string) => new AcmeProblem('malformed', `${what} does not exist`, { status: 404 })

export async function orderOf(ctx: AcmeContext, account: AcmeAccount, id: string): Promise<AcmeOrder> {
  const order = await ctx.store.acme.orders.byId(id)
  if (!order) throw notFound('order')
  if (order.accountId !== account.id) throw new AcmeProblem('unauthorized', 'the order belongs to another account')
  return order
}

/** `prefetched`: the authorization read with the request's nonce (VerifiedJws.authz), used when it is this one. */
export async function authzOf(ctx: AcmeContext, account: AcmeAccount, id: string, prefetched?: AcmeAuthorization): Promise<AcmeAuthorization> {
  const authz = prefetched?.id === id ? prefetched : await ctx.store.acme.authorizations.byId(id)
  if (!authz) throw notFound('authorization')
  if (authz.accountId !== account.id) throw new AcmeProblem('unauthorized', 'the authorization belongs to another account')
  return authz
}

/** The signing account, and it must be the one the URL names (RFC 8555 §7.3.2). */
export function requireSameAccount(account: AcmeAccount | undefined, id: string): AcmeAccount {
  if (!account || account.id !== id) throw new AcmeProblem('unauthorized', 'the kid does not match the account URL')
  return account
}
