// Version 8: ACME nonces live in an unlogged table. A nonce is worth something only until it is used or expires
// (minutes), and only while every instance can still tell it was used. Unlogged, its insert and delete write no
// WAL, and a statement touching nothing else commits without waiting for a WAL flush. What PostgreSQL does to an
// unlogged table after a crash (empties it) or on a promoted standby (starts it empty) only ever turns
// outstanding nonces into unknown ones: clients get badNonce with a fresh nonce and retry (RFC 8555 §6.5); no
// used nonce can come back as fresh.
import type { Migration } from '../migrations.js'

export const acmeNoncesUnlogged: Migration = {
  version: 8,
  name: 'acme nonces unlogged',
  up: `
alter table acme_nonces set unlogged;
`,
}
