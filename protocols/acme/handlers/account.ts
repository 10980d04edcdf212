// RFC 8555 §7.3 accounts: newAccount (§7.3, §7.3.1 onlyReturnExisting, §7.3.4 EAB), account read/update (§7.3.2)
// and deactivation (§7.3.6).
import { AcmeStoreConflict } from '../../../src/store/index.js'
import { requireValidContacts, verifyExternalAccountBinding } from '../accounts.js'
import { decodeAccountUpdate, decodeNewAccount, toAccountResource } from '../codec/resources.js'
import type { AcmeContext, AcmeHandler } from '../context.js'
import { requireSameAccount } from '../lookup.js'
import { clientAddress, requireWithinRateLimit } from '../middleware.js'
import { AcmeProblem } from '../problems.js'

/** 201 + Location when created, 200 + Location when the key already has an account (uacme, certbot rely on it). */
export const newAccount = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const { payload, jwk, thumbprint, keyAccount: existing } = c.get('jws')
  const req = decodeNewAccount(payload)
  const store = ctx.store.acme.accounts
  if (existing) {
    if (existing.status !== 'valid') throw new AcmeProblem('unauthorized', `account is ${existing.status}`)
    return c.json(toAccountResource(existing, ctx.links), 200, { Location: ctx.links.account(existing.id) })
  }
  if (req.onlyReturnExisting) throw new AcmeProblem('accountDoesNotExist', 'no account exists for this key')
  const acme = ctx.config.acme
  if (acme.termsOfService && req.termsOfServiceAgreed !== true) {
    throw new AcmeProblem('malformed', `the terms of service (${acme.termsOfService}) must be agreed to`)
  }
  const contact = requireValidContacts(req.contact)
  if (acme.externalAccountRequired && req.externalAccountBinding === undefined) {
    throw new AcmeProblem('externalAccountRequired', 'this server requires an external account binding')
  }
  const eab = req.externalAccountBinding !== undefined ? await verifyExternalAccountBinding(ctx, req.externalAccountBinding, jwk!) : undefined
  const ip = clientAddress(c)
  if (ip) await requireWithinRateLimit(ctx, `newAccount:${ip}`, acme.rateLimits.newAccountsPerIpPerHour)
  try {
    const account = await store.create({ jwk: jwk!, thumbprint, contact, tosAgreed: req.termsOfServiceAgreed === true, eabKeyId: eab?.id })
    ctx.accounts.remember(account)
    return c.json(toAccountResource(account, ctx.links), 201, { Location: ctx.links.account(account.id) })
  } catch (e) {
    if (e instanceof AcmeStoreConflict && e.what === 'eabKeyBound') {
      throw new AcmeProblem('unauthorized', 'the external account key is already bound to an account')
    }
    if (e instanceof AcmeStoreConflict && e.what === 'accountKey' && e.existingId) {
      const account = (await store.byId(e.existingId))!
      return c.json(toAccountResource(account, ctx.links), 200, { Location: ctx.links.account(account.id) })
    }
    throw e
  }
}

/** POST-as-GET reads the account; a payload updates contact or deactivates it. */
export const account = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const { account, payload } = c.get('jws')
  const current = requireSameAccount(account, c.req.param('id')!)
  if (payload === undefined) return c.json(toAccountResource(current, ctx.links))
  const req = decodeAccountUpdate(payload)
  const updated = await ctx.store.acme.accounts.update(current.id, {
    contact: req.contact !== undefined ? requireValidContacts(req.contact) : undefined,
    status: req.status,
  })
  if (!updated) throw new AcmeProblem('unauthorized', 'account is not valid')
  ctx.accounts.remember(updated)
  return c.json(toAccountResource(updated, ctx.links))
}
