// RFC 8555 §7.4 finalize: the CSR must request exactly the order's identifiers; issued through src/issuance.
import { isIssuanceError } from '../../../src/errors.js'
import { parseCsr } from '../../../src/pki/csr.js'
import { decodeFinalize, toOrderResource } from '../codec/resources.js'
import type { AcmeContext, AcmeHandler } from '../context.js'
import { requireCsrMatchesOrder } from '../identifiers.js'
import { orderOf } from '../lookup.js'
import { requireCsrKeyIsNotAccountKey } from '../orders.js'
import { AcmeProblem, fromIssuanceError } from '../problems.js'

export const finalize = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const { account, payload } = c.get('jws')
  const order = await orderOf(ctx, account!, c.req.param('id')!)
  if (order.status !== 'ready') throw new AcmeProblem('orderNotReady', `order is ${order.status}, not ready`)
  const csr = await parseCsr(decodeFinalize(payload)).catch((e: unknown) => {
    throw isIssuanceError(e) ? new AcmeProblem('badCSR', e.detail) : e
  })
  requireCsrMatchesOrder(csr, order.identifiers)
  await requireCsrKeyIsNotAccountKey(csr.publicKeyDer, account!.thumbprint)
  const processing = await ctx.store.acme.orders.startProcessing(order.id)
  if (!processing) throw new AcmeProblem('orderNotReady', 'order is no longer ready')
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
    })
    const { id, serial } = outcome.certificate
    done = await ctx.store.acme.orders.recordCertificate(order.id, id, serial, outcome.status === 'issued')
  } catch (e) {
    if (!isIssuanceError(e)) throw e
    const problem = fromIssuanceError(e)
    await ctx.store.acme.orders.fail(order.id, problem.toDocument())
    throw problem
  }
  if (done.status === 'processing') c.header('Retry-After', String(ctx.config.acme.retryAfterSeconds))
  return c.json(toOrderResource(done, ctx.links), 200, { Location: ctx.links.order(order.id) })
}
