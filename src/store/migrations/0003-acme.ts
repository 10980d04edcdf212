// Version 3: ACME state (RFC 8555): accounts, orders, authorizations, challenges, nonces, EAB keys, RFC 9773
// replacements and early-renewal flags, rate-limit counters.
import type { Migration } from '../migrations.js'

export const acme: Migration = {
  version: 3,
  name: 'acme',
  up: `
create table acme_accounts (
  id text primary key,
  key_thumbprint text not null unique,
  jwk jsonb not null,
  status text not null check (status in ('valid', 'deactivated', 'revoked')),
  contact jsonb not null default '[]',
  tos_agreed boolean not null default false,
  eab_key_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table acme_eab_keys (
  id text primary key,
  hmac_key bytea not null,
  description text not null default '',
  domains jsonb not null default '[]',
  account_id text unique references acme_accounts (id),
  created_at timestamptz not null default now(),
  bound_at timestamptz
);

create table acme_authorizations (
  id text primary key,
  account_id text not null references acme_accounts (id),
  identifier_type text not null,
  identifier_value text not null,
  wildcard boolean not null default false,
  status text not null check (status in ('pending', 'valid', 'invalid', 'deactivated', 'revoked')),
  expires timestamptz not null,
  validated_at timestamptz,
  created_at timestamptz not null default now()
);
create index acme_authorizations_reuse on acme_authorizations
  (account_id, identifier_type, identifier_value, wildcard, validated_at) where status = 'valid';

create table acme_challenges (
  id text primary key,
  authz_id text not null references acme_authorizations (id) on delete cascade,
  position smallint not null,
  type text not null,
  token text not null,
  status text not null check (status in ('pending', 'processing', 'valid', 'invalid')),
  validated timestamptz,
  error jsonb,
  started_at timestamptz
);
create index acme_challenges_authz on acme_challenges (authz_id);

create table acme_orders (
  seq bigint generated always as identity unique,
  id text primary key,
  account_id text not null references acme_accounts (id),
  status text not null check (status in ('pending', 'ready', 'processing', 'valid', 'invalid')),
  identifiers jsonb not null,
  expires timestamptz not null,
  not_before timestamptz,
  not_after timestamptz,
  profile text,
  replaces text,
  replaces_serial text,
  error jsonb,
  certificate_id bigint,
  certificate_serial text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index acme_orders_account on acme_orders (account_id, seq);

create table acme_order_authorizations (
  order_id text not null references acme_orders (id) on delete cascade,
  authz_id text not null references acme_authorizations (id),
  position smallint not null,
  primary key (order_id, authz_id)
);
create index acme_order_authorizations_authz on acme_order_authorizations (authz_id);

create table acme_nonces (
  value text primary key,
  expires_at timestamptz not null
);
create index acme_nonces_expires on acme_nonces (expires_at);

-- RFC 9773 §5: a certificate may be replaced by one order only.
create table acme_replacements (
  serial text primary key,
  order_id text not null references acme_orders (id) on delete cascade,
  created_at timestamptz not null default now()
);

-- RFC 9773: CA backends or profiles whose certificates should be renewed early (set with the admin API).
create table acme_renewal_flags (
  scope text not null check (scope in ('backend', 'profile')),
  name text not null,
  explanation_url text,
  created_at timestamptz not null default now(),
  primary key (scope, name)
);

create table acme_rate_limits (
  key text not null,
  window_start timestamptz not null,
  count integer not null,
  primary key (key, window_start)
);
`,
}
