// RFC 7030 §4.3: /fullcmc is optional and not offered (see docs/conformance.md).
import type { EstHandler } from '../context.js'

export const fullcmc: EstHandler = (c) =>
  c.text('fullcmc (RFC 7030 §4.3) is not supported by this server; use simpleenroll or simplereenroll\n', 501)
