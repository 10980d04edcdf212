// Version 2: revocation — invalidity dates, the revoked-certificates index CRLs stream from, CRL numbers and
// the latest CRLs per scope (shared by every instance).
import type { Migration } from '../migrations.js'

export const revocation: Migration = {
  version: 2,
  name: 'revocation: CRL numbers and CRLs',
  up: `
alter table certificates add column invalidity_date timestamptz;
create index certificates_revoked on certificates (backend_id, revoked_at) where status = 'revoked';

-- RFC 5280 §5.2.3: one strictly increasing CRL number sequence per scope, shared by full and delta CRLs.
create table crl_numbers (
  backend_id text not null,
  shard integer not null,
  last_number bigint not null,
  primary key (backend_id, shard)
);

-- The newest CRL per scope and kind; shard -1 is the whole CA.
create table crls (
  backend_id text not null,
  shard integer not null,
  kind text not null check (kind in ('full', 'delta')),
  number bigint not null,
  base_number bigint,
  this_update timestamptz not null,
  next_update timestamptz not null,
  entries integer not null,
  der bytea not null,
  primary key (backend_id, shard, kind)
);
`,
}
