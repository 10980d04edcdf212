// Version 1: the certificate inventory and the append-only audit log.
import type { Migration } from '../migrations.js'

export const inventory: Migration = {
  version: 1,
  name: 'inventory and audit',
  up: `
create table certificates (
  id bigint generated always as identity primary key,
  serial text not null unique,
  status text not null check (status in ('pending', 'reserved', 'valid', 'revoked', 'failed', 'rejected')),
  profile text not null,
  backend_id text not null,
  protocol text not null,
  requester text not null,
  subject text not null,
  sans jsonb not null default '[]',
  csr_der bytea,
  plan jsonb not null,
  not_before timestamptz,
  not_after timestamptz,
  der bytea,
  fingerprint_sha256 text unique,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  issued_at timestamptz,
  revoked_at timestamptz,
  revocation_reason smallint check (revocation_reason between 0 and 10 and revocation_reason <> 7),
  failure text,
  decided_by text
);
create index certificates_status_not_after on certificates (status, not_after);
create index certificates_profile on certificates (profile, id);
create index certificates_reserved on certificates (updated_at) where status = 'reserved';

create table audit_events (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  action text not null,
  actor text not null,
  protocol text,
  certificate_id bigint,
  serial text,
  request_id text,
  detail jsonb not null default '{}'
);
create index audit_events_serial on audit_events (serial);

create function audit_events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_events is append-only';
end
$$;
create trigger audit_events_no_change before update or delete on audit_events
  for each row execute function audit_events_append_only();
create trigger audit_events_no_truncate before truncate on audit_events
  for each statement execute function audit_events_append_only();
`,
}
