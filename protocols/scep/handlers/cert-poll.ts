// RFC 8894 §3.3.3 CertPoll (GetCertInitial): the transaction is found by transactionID and the key that signed
// the original request; the IssuerAndSubject content is not relied on (certmonger fills it with the CA's issuer).
import { signerKeyDigest, type PkiMessage } from '../codec/pki-message.js'
import type { Outcome } from '../context.js'
import { ScepFailure } from '../fail-info.js'
import type { RequestContext } from './pkcs-req.js'
import { transactionOutcome } from './transaction.js'

export async function certPoll(ctx: RequestContext, msg: PkiMessage): Promise<Outcome> {
  const t = await ctx.deps.store.scep.getTransaction(msg.transactionId, signerKeyDigest(msg))
  if (!t) throw new ScepFailure('badCertId', `no transaction ${msg.transactionId} of this requester`)
  return transactionOutcome(ctx.deps, t)
}
