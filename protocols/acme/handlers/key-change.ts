// RFC 8555 §7.3.5 account key rollover: an outer JWS (kid, old key) whose payload is an inner JWS signed by the
// new key (jwk, no nonce, same url) over {account, oldKey}.
import { AcmeStoreConflict } from '../../../src/store/index.js'
import {
  decodeNestedJws,
  decodePayload,
  importAccountKey,
  requireSupportedAlgorithm,
  sameKey,
  thumbprint,
  toPublicJwk,
  verifySignature,
} from '../codec/jws.js'
import { decodeKeyChangeInner, toAccountResource } from '../codec/resources.js'
import type { AcmeContext, AcmeHandler } from '../context.js'
import { AcmeProblem } from '../problems.js'

/**
 * MUSTs checked (§7.3.5): inner JWS has a jwk and no kid, no nonce; its url equals the outer url; it verifies
 * with its own jwk; `account` is the outer kid; `oldKey` is the account's current key; the new key is not
 * another account's (409 + Location of that account).
 */
export const keyChange = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const { account, payload, url, header: outer } = c.get('jws')
  const inner = decodeNestedJws(payload, 'keyChange payload')
  const alg = requireSupportedAlgorithm(inner.header.alg)
  if (inner.header.jwk === undefined || inner.header.kid !== undefined) {
    throw new AcmeProblem('malformed', 'the inner JWS must carry a jwk and no kid')
  }
  if (inner.header.nonce !== undefined) throw new AcmeProblem('malformed', 'the inner JWS must not carry a nonce')
  if (inner.header.url !== url) throw new AcmeProblem('malformed', 'the inner JWS url differs from the outer url')
  const newJwk = toPublicJwk(inner.header.jwk)
  const innerPayload = decodePayload(await verifySignature(inner.jws, await importAccountKey(newJwk, alg), alg))
  const req = decodeKeyChangeInner(innerPayload)
  if (req.account !== outer.kid) throw new AcmeProblem('malformed', 'keyChange account is not the signing account')
  if (!(await sameKey(req.oldKey, account!.jwk))) throw new AcmeProblem('malformed', 'keyChange oldKey is not the current account key')
  try {
    const updated = await ctx.store.acme.accounts.changeKey(account!.id, account!.thumbprint, newJwk, await thumbprint(newJwk))
    if (!updated) throw new AcmeProblem('unauthorized', 'the account key changed meanwhile')
    ctx.accounts.remember(updated)
    return c.json(toAccountResource(updated, ctx.links))
  } catch (e) {
    if (e instanceof AcmeStoreConflict && e.what === 'accountKey') {
      throw new AcmeProblem('malformed', 'the new key already belongs to an account', {
        status: 409,
        headers: e.existingId ? { Location: ctx.links.account(e.existingId) } : {},
      })
    }
    throw e
  }
}
