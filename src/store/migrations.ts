// Versioned schema migrations, applied in order at start under an advisory lock (safe with N instances).
import type { Sql } from './database.js'
import { inventory } from './migrations/0001-inventory.js'
import { revocation } from './migrations/0002-revocation.js'
import { acme } from './migrations/0003-acme.js'
import { scep } from './migrations/0004-scep.js'
import { est } from './migrations/0005-est.js'
import { requestRef } from './migrations/0006-request-ref.js'
import { acmeOrderRef } from './migrations/0007-acme-order-ref.js'
import { acmeNoncesUnlogged } from './migrations/0008-acme-nonces-unlogged.js'

export interface Migration {
  version: number
  name: string
  up: string
}

/** In version order. Each issue adds its own file under migrations/ and one line here. */
export const migrations: Migration[] = [
  inventory,
  revocation,
  acme,
  scep,
  est,
  requestRef,
  acmeOrderRef,
  acmeNoncesUnlogged,
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
