// Version 7: an ACME order in finalize carries the reference its certificate is reserved with (IssueRequest.
// requestRef, version 6). The order finds its certificate by it from the reservation on — read with the order —
// so a successful finalize writes nothing more to the order, and an instance that stops between issuing and
// answering leaves an order that still reads as valid (or, once the reconciler voids the reservation, can fail).
import type { Migration } from '../migrations.js'

export const acmeOrderRef: Migration = {
  version: 7,
  name: 'acme order request reference',
  up: `
alter table acme_orders add column request_ref uuid;
`,
}
