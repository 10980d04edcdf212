// Version 5: renewal chains and held-request lookup. `superseded_by` links a certificate to the one that renewed
// it (EST simplereenroll; any protocol's renewal); the CSR digest index finds a request a client repeats while it
// awaits approval (RFC 7030 §4.2.3).
import type { Migration } from '../migrations.js'

export const est: Migration = {
  version: 5,
  name: 'supersession and csr lookup',
  up: `
alter table certificates add column superseded_by bigint references certificates (id);
create index certificates_csr_sha256 on certificates (sha256(csr_der), profile) where csr_der is not null;
`,
}
