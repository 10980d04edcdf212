// RFC 8555 §7.1.2.1 orders list: {"orders": [url…]}, paged with Link rel="next".
import type { AcmeContext, AcmeHandler } from '../context.js'
import { linkValue } from '../links.js'
import { requireSameAccount } from '../lookup.js'

const PAGE = 100

export const ordersList = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const account = requireSameAccount(c.get('jws').account, c.req.param('id')!)
  const cursor = c.req.query('cursor')
  const after = cursor && /^\d{1,18}$/.test(cursor) ? cursor : undefined
  const rows = await ctx.store.acme.orders.forAccount(account.id, after, PAGE + 1)
  const page = rows.slice(0, PAGE)
  if (rows.length > PAGE) {
    c.header('Link', linkValue(`${ctx.links.orders(account.id)}?cursor=${page.at(-1)!.seq}`, 'next'), { append: true })
  }
  return c.json({ orders: page.map((o) => ctx.links.order(o.id)) })
}
