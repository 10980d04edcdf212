// RFC 8555 §7.4 finalize: the CSR must request exactly the order's identifiers; issued through src/issuance.
import { isIssuanceError } from '../../../src/errors.js'
import { toOrderResource } from '../codec/resources.js'
import type { AcmeContext, AcmeHandler } from '../context.js'
import { orderOf } from '../lookup.js'
import { requireAcceptableCsr } from '../orders.js'
import { AcmeProblem, fromIssuanceError } from '../problems.js'

export const finalize = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const { account, payload } = c.get('jws')
  const id = c.req.param('id')!
  // The usual case in one statement: a ready order of this account starts processing; anything else is read below.
  const order = await ctx.store.acme.orders.startProcessing(id, account!.id)
  if (!order) {
    const found = await orderOf(ctx, account!, id)
    throw new AcmeProblem('orderNotReady', found.status === 'ready' ? 'order is no longer ready' : `order is ${found.status}, not ready`)
  }
  // A refused CSR leaves the order ready for another try.
  const csr = await requireAcceptableCsr(payload, order, account!).catch(async (e: unknown) => {
    await ctx.store.acme.orders.resumeReady(order.id)
    throw e
  })
  let done
  try {
    const outcome = await ctx.issuance.issue({
      csr,
      profile: order.profile ?? undefined,
      protocol: 'acme',
      requester: ctx.links.account(account!.id),
      identifiers: order.identifiers,
      notBefore: order.notBefore ?? undefined,
      notAfter: order.notAfter ?? undefined,
      requestId: c.get('requestId'),
      // The order finds its certificate by this reference (set as it started processing): nothing more is written
      // to the order, and it reads as valid once the certificate is.
      requestRef: order.requestRef ?? undefined,
    })
    const { id: certificateId, serial } = outcome.certificate
    done = { ...order, status: outcome.status === 'issued' ? ('valid' as const) : order.status, certificateId, certificateSerial: serial }
    if (outcome.status === 'issued') ctx.recentCertificates.remember(serial, { der: outcome.certificateDer, backendId: outcome.certificate.backendId })
  } catch (e) {
    if (!isIssuanceError(e)) throw e
    const problem = fromIssuanceError(e)
    await ctx.store.acme.orders.fail(order.id, problem.toDocument())
    throw problem
  }
  if (done.status === 'processing') c.header('Retry-After', String(ctx.config.acme.retryAfterSeconds))
  return c.json(toOrderResource(done, ctx.links), 200, { Location: ctx.links.order(order.id) })
}
