// Versioned schema migrations, applied in order at start under an advisory lock (safe with N instances).
import type { Sql } from './database.js'

interface Migration {
  version: number
  name: string
  up: string
}

export const migrations: Migration[] = [
  {
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
  },
]

/** Applies pending migrations; returns the versions applied. */
export async function migrate(sql: Sql, schema: string): Promise<number[]> {
  await sql`create schema if not exists ${sql(schema)}`
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext(${`enroll-migrate:${schema}`}))`
    await tx`
      create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`
    const done = new Set((await tx<{ version: number }[]>`select version from schema_migrations`).map((r) => r.version))
    const applied: number[] = []
    for (const m of migrations) {
      if (done.has(m.version)) continue
      await tx.unsafe(m.up)
      await tx`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`
      applied.push(m.version)
    }
    return applied
  })
}
