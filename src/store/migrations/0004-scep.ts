// Version 4: SCEP state (RFC 8894). Transactions by transactionID and requester key, so a client polling
// (CertPoll) or repeating its request finds the certificate it asked for; and one-time dynamic challenges, kept
// as SHA-256 of the secret only.
import type { Migration } from '../migrations.js'

export const scep: Migration = {
  version: 4,
  name: 'scep',
  up: `
create table scep_transactions (
  transaction_id text not null,
  -- SHA-256 (hex) of the SubjectPublicKeyInfo that signed the request: only that key can poll or repeat it.
  signer_key_sha256 text not null,
  label text not null,
  message_type smallint not null,
  -- SHA-256 (hex) of the requested SubjectPublicKeyInfo: a repeated request for the same key is the same enrollment.
  request_key_sha256 text not null,
  certificate_id bigint references certificates (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (transaction_id, signer_key_sha256)
);
create index scep_transactions_certificate on scep_transactions (certificate_id);

create table scep_challenges (
  id bigint generated always as identity primary key,
  label text not null,
  secret_sha256 text not null unique,
  common_name text,
  expires_at timestamptz not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  used_at timestamptz,
  used_by text
);
create index scep_challenges_active on scep_challenges (label, expires_at) where used_at is null;
`,
}
