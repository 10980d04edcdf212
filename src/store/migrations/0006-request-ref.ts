// Version 6: a protocol request's reference on the certificate issued for it. A protocol that tracks its own
// request (a SCEP transaction) hands the issuance service an opaque reference, recorded with the reservation, and
// finds the certificate by it — instead of linking the certificate to its request in a statement of its own after
// issuance. SCEP transactions get that reference; `certificate_id` stays for rows linked the earlier way.
import type { Migration } from '../migrations.js'

export const requestRef: Migration = {
  version: 6,
  name: 'request references',
  up: `
alter table certificates add column request_ref uuid;
create index certificates_request_ref on certificates (request_ref) where request_ref is not null;
alter table scep_transactions add column ref uuid not null default gen_random_uuid();
`,
}
