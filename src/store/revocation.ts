// Revocation state: revoked entries streamed for CRLs, CRL numbers, and the newest CRL per scope.
import type { Sql } from './database.js'

export interface RevokedEntry {
  serial: string
  revokedAt: Date
  reason: number | null
  invalidityDate: Date | null
}

export interface RevokedQuery {
  backendId: string
  /** Only certificates whose notAfter is after this (expired ones stay for one CRL period, RFC 5280 §3.3). */
  notAfterAfter: Date
  /** Delta CRLs: only revocations at or after this time. */
  revokedSince?: Date | undefined
  /** Partitioned CRLs: shard = (last 32 bits of the serial) mod count. */
  shard?: { index: number; count: number } | undefined
}

export type CrlKind = 'full' | 'delta'

export interface StoredCrl {
  backendId: string
  /** -1: the whole CA; otherwise the shard index. */
  shard: number
  kind: CrlKind
  number: bigint
  baseNumber: bigint | null
  thisUpdate: Date
  nextUpdate: Date
  entries: number
  der: Uint8Array
}

interface CrlRow {
  backend_id: string
  shard: number
  kind: CrlKind
  number: string
  base_number: string | null
  this_update: Date
  next_update: Date
  entries: number
  der: Buffer
}

const fromRow = (r: CrlRow): StoredCrl => ({
  backendId: r.backend_id,
  shard: r.shard,
  kind: r.kind,
  number: BigInt(r.number),
  baseNumber: r.base_number === null ? null : BigInt(r.base_number),
  thisUpdate: r.this_update,
  nextUpdate: r.next_update,
  entries: r.entries,
  der: new Uint8Array(r.der.buffer, r.der.byteOffset, r.der.byteLength),
})

/** The shard of a serial, computed identically here and in SQL below. */
export const shardOf = (serial: string, count: number) => Number.parseInt(serial.slice(-8), 16) % count

/** `crlChannel`: where `saveCrl` notifies the deployment's other instances (see channelName in index.ts). */
export function revocationStore(sql: Sql, crlChannel: string) {
  return {
    /** Streams revoked entries in batches (a server-side cursor; memory stays at one batch). */
    async *streamRevoked(q: RevokedQuery, batch = 10_000): AsyncGenerator<RevokedEntry[]> {
      const cursor = sql<{ serial: string; revoked_at: Date; revocation_reason: number | null; invalidity_date: Date | null }[]>`
        select serial, revoked_at, revocation_reason, invalidity_date
        from certificates
        where backend_id = ${q.backendId} and status = 'revoked' and not_after > ${q.notAfterAfter}
          ${q.revokedSince ? sql`and revoked_at >= ${q.revokedSince}` : sql``}
          ${
            q.shard
              ? sql`and (('x' || lpad(right(serial, 8), 8, '0'))::bit(32)::bigint % ${q.shard.count}) = ${q.shard.index}`
              : sql``
          }
      `.cursor(batch)
      for await (const rows of cursor) {
        yield rows.map((r) => ({
          serial: r.serial,
          revokedAt: r.revoked_at,
          reason: r.revocation_reason,
          invalidityDate: r.invalidity_date,
        }))
      }
    },

    /** Allocates the next CRL number of a scope (atomic; strictly increasing across instances). */
    async nextCrlNumber(backendId: string, shard: number): Promise<bigint> {
      const [row] = await sql<{ last_number: string }[]>`
        insert into crl_numbers (backend_id, shard, last_number) values (${backendId}, ${shard}, 1)
        on conflict (backend_id, shard) do update set last_number = crl_numbers.last_number + 1
        returning last_number::text`
      return BigInt(row!.last_number)
    },

    /** Stores a CRL unless a newer one (higher number) is already stored; notifies other instances. */
    async saveCrl(crl: StoredCrl): Promise<boolean> {
      const rows = await sql`
        with saved as (
          insert into crls (backend_id, shard, kind, number, base_number, this_update, next_update, entries, der)
          values (${crl.backendId}, ${crl.shard}, ${crl.kind}, ${crl.number.toString()},
                  ${crl.baseNumber === null ? null : crl.baseNumber.toString()}, ${crl.thisUpdate}, ${crl.nextUpdate},
                  ${crl.entries}, ${Buffer.from(crl.der.buffer, crl.der.byteOffset, crl.der.byteLength)})
          on conflict (backend_id, shard, kind) do update set
            number = excluded.number, base_number = excluded.base_number, this_update = excluded.this_update,
            next_update = excluded.next_update, entries = excluded.entries, der = excluded.der
          where crls.number < excluded.number
          returning backend_id
        )
        select pg_notify(${crlChannel}, ${`${crl.backendId}:${crl.shard}:${crl.kind}`}) from saved`
      return rows.length > 0
    },

    async loadCrl(backendId: string, shard: number, kind: CrlKind): Promise<StoredCrl | undefined> {
      const [row] = await sql<CrlRow[]>`
        select backend_id, shard, kind, number::text, base_number::text, this_update, next_update, entries, der
        from crls where backend_id = ${backendId} and shard = ${shard} and kind = ${kind}`
      return row ? fromRow(row) : undefined
    },
  }
}
export type RevocationStore = ReturnType<typeof revocationStore>
