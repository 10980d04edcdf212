// The certificate inventory: one row per request, from write-ahead reservation to issued and revoked.
import type postgres from 'postgres'
import type { Identifier } from '../pki/csr.js'
import type { Der } from '../pki/pem.js'
import { auditValues, type AuditEntry } from './audit.js'
import { batcher } from './batch.js'
import type { Sql } from './database.js'

/**
 * pending: held for approval · reserved: serial taken, CA signing (write-ahead) · valid: issued ·
 * revoked · failed: the CA refused or signing was interrupted (voided) · rejected: approval denied.
 * "expired" is not stored: it is a valid certificate past notAfter.
 */
export type CertificateStatus = 'pending' | 'reserved' | 'valid' | 'revoked' | 'failed' | 'rejected'

export interface CertificateRecord {
  id: string
  serial: string
  status: CertificateStatus
  profile: string
  backendId: string
  protocol: string
  requester: string
  subject: string
  sans: Identifier[]
  csrDer: Der | null
  /** What the issuance service decided to sign; opaque to the store. */
  plan: Record<string, unknown>
  notBefore: Date | null
  notAfter: Date | null
  der: Der | null
  fingerprintSha256: string | null
  createdAt: Date
  updatedAt: Date
  issuedAt: Date | null
  revokedAt: Date | null
  revocationReason: number | null
  failure: string | null
  decidedBy: string | null
  invalidityDate: Date | null
  /** Id of the certificate that renewed this one (EST simplereenroll), or null. */
  supersededBy: string | null
}

export interface NewReservation {
  serial: string
  status: 'pending' | 'reserved'
  profile: string
  backendId: string
  protocol: string
  requester: string
  subject: string
  sans: Identifier[]
  csrDer: Der | null
  plan: Record<string, unknown>
  notBefore: Date
  notAfter: Date
  /** The protocol request this certificate answers (see IssueRequest.requestRef), or null. */
  requestRef?: string | null | undefined
}

export interface IssuedCertificate {
  der: Der
  notBefore: Date
  notAfter: Date
  fingerprintSha256: string
  /** The serial the CA used when it chose its own (Vault, AWS Private CA); replaces the reserved one. */
  serial?: string | undefined
}

export interface CertificateFilter {
  /** A stored status, or 'expired' (valid and past notAfter); 'valid' then means unexpired. */
  status?: CertificateStatus | 'expired' | undefined
  expiringBefore?: Date | undefined
  sanContains?: string | undefined
  profile?: string | undefined
  /** Only rows with id below this (keyset cursor, newest first). */
  beforeId?: string | undefined
  limit: number
}

interface CertificateRow {
  id: string
  serial: string
  status: CertificateStatus
  profile: string
  backend_id: string
  protocol: string
  requester: string
  subject: string
  sans: Identifier[]
  csr_der: Buffer | null
  plan: Record<string, unknown>
  not_before: Date | null
  not_after: Date | null
  der: Buffer | null
  fingerprint_sha256: string | null
  created_at: Date
  updated_at: Date
  issued_at: Date | null
  revoked_at: Date | null
  revocation_reason: number | null
  failure: string | null
  decided_by: string | null
  invalidity_date: Date | null
  superseded_by: string | null
}

const bytes = (b: Buffer | null): Der | null => (b ? new Uint8Array(b) : null)

const fromRow = (r: CertificateRow): CertificateRecord => ({
  id: r.id,
  serial: r.serial,
  status: r.status,
  profile: r.profile,
  backendId: r.backend_id,
  protocol: r.protocol,
  requester: r.requester,
  subject: r.subject,
  sans: r.sans,
  csrDer: bytes(r.csr_der),
  plan: r.plan,
  notBefore: r.not_before,
  notAfter: r.not_after,
  der: bytes(r.der),
  fingerprintSha256: r.fingerprint_sha256,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  issuedAt: r.issued_at,
  revokedAt: r.revoked_at,
  revocationReason: r.revocation_reason,
  failure: r.failure,
  decidedBy: r.decided_by,
  invalidityDate: r.invalidity_date,
  supersededBy: r.superseded_by,
})

const columns = (sql: Sql) => sql`
  c.id::text, c.serial, c.status, c.profile, c.backend_id, c.protocol, c.requester, c.subject, c.sans, c.csr_der,
  c.plan, c.not_before, c.not_after, c.der, c.fingerprint_sha256, c.created_at, c.updated_at, c.issued_at,
  c.revoked_at, c.revocation_reason, c.failure, c.decided_by, c.invalidity_date,
  c.superseded_by::text`

const json = (sql: Sql, v: unknown) => sql.json(v as postgres.JSONValue)
const buf = (b: Uint8Array | null) => (b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : null)

/** Inserts an audit event in the same statement as the row change it describes (one round trip, atomic). */
const withAudit = (sql: Sql, change: postgres.PendingQuery<postgres.Row[]>, audit: AuditEntry) => {
  const v = auditValues(audit)
  return sql<CertificateRow[]>`
    with c as (${change}),
    a as (
      insert into audit_events (action, actor, protocol, certificate_id, serial, request_id, detail)
      select ${v.action}, ${v.actor}, ${v.protocol}, c.id, c.serial, ${v.request_id}, ${json(sql, v.detail)} from c
    )
    select ${columns(sql)} from c`
}

/** `revokedChannel`: where `revoke` notifies the deployment's other instances (see channelName in index.ts). */
export function certificateStore(sql: Sql, revokedChannel: string) {
  const reservationColumns = [
    'serial', 'status', 'profile', 'backend_id', 'protocol', 'requester', 'subject', 'sans', 'csr_der', 'plan',
    'not_before', 'not_after', 'request_ref',
  ] as const
  const reservationRow = (r: NewReservation) => ({
    serial: r.serial,
    status: r.status,
    profile: r.profile,
    backend_id: r.backendId,
    protocol: r.protocol,
    requester: r.requester,
    subject: r.subject,
    sans: json(sql, r.sans),
    csr_der: buf(r.csrDer),
    plan: json(sql, r.plan),
    not_before: r.notBefore,
    not_after: r.notAfter,
    request_ref: r.requestRef ?? null,
  })

  async function reserveOne(r: NewReservation, audit?: AuditEntry): Promise<CertificateRecord> {
    const insert = sql`insert into certificates ${sql(reservationRow(r), ...reservationColumns)} returning *`
    const rows = audit
      ? await withAudit(sql, insert, audit)
      : await sql<CertificateRow[]>`with c as (${insert}) select ${columns(sql)} from c`
    return fromRow(rows[0]!)
  }

  /**
   * Several reservations in one INSERT; answered by serial (unique). The rows go in as parallel text arrays, so the
   * statement's text is the same whatever the batch size: prepared once per connection, not once per size.
   */
  async function reserveMany(items: NewReservation[]): Promise<(CertificateRecord | Error)[]> {
    const column = (f: (r: NewReservation) => string) => items.map(f)
    const rows = await sql<CertificateRow[]>`
      with c as (
        insert into certificates (serial, status, profile, backend_id, protocol, requester, subject, sans, csr_der,
                                  plan, not_before, not_after, request_ref)
        select u.serial, u.status, u.profile, u.backend_id, u.protocol, u.requester, u.subject, u.sans::jsonb,
               nullif(u.csr_der, '')::bytea, u.plan::jsonb, u.not_before::timestamptz, u.not_after::timestamptz,
               nullif(u.request_ref, '')::uuid
        from unnest(${column((r) => r.serial)}::text[], ${column((r) => r.status)}::text[],
                    ${column((r) => r.profile)}::text[], ${column((r) => r.backendId)}::text[],
                    ${column((r) => r.protocol)}::text[], ${column((r) => r.requester)}::text[],
                    ${column((r) => r.subject)}::text[], ${column((r) => JSON.stringify(r.sans))}::text[],
                    ${column((r) => (r.csrDer ? `\\x${Buffer.from(r.csrDer).toString('hex')}` : ''))}::text[],
                    ${column((r) => JSON.stringify(r.plan))}::text[], ${column((r) => r.notBefore.toISOString())}::text[],
                    ${column((r) => r.notAfter.toISOString())}::text[], ${column((r) => r.requestRef ?? '')}::text[])
          as u(serial, status, profile, backend_id, protocol, requester, subject, sans, csr_der, plan, not_before,
               not_after, request_ref)
        returning *
      )
      select ${columns(sql)} from c`
    const bySerial = new Map(rows.map((r) => [r.serial, r]))
    return items.map((r) => {
      const row = bySerial.get(r.serial)
      return row ? fromRow(row) : new Error(`reservation of ${r.serial} was not recorded`)
    })
  }

  interface Completion {
    id: string
    issued: IssuedCertificate
    audit: AuditEntry
  }

  async function completeOne({ id, issued, audit }: Completion): Promise<CertificateRecord> {
    const rows = await withAudit(
      sql,
      sql`
        update certificates set status = 'valid', der = ${buf(issued.der)}, not_before = ${issued.notBefore},
          serial = coalesce(${issued.serial ?? null}::text, serial),
          not_after = ${issued.notAfter}, fingerprint_sha256 = ${issued.fingerprintSha256}, issued_at = now(),
          updated_at = now(), failure = null
        where id = ${id} and der is null
        returning *`,
      audit,
    )
    if (!rows[0]) throw new Error(`certificate ${id} already holds a certificate`)
    return fromRow(rows[0])
  }

  /** Several completions, each with its audit event, in one statement (parallel text arrays, as reserveMany). */
  async function completeMany(items: Completion[]): Promise<(CertificateRecord | Error)[]> {
    // All text, cast back in SQL; '' stands for null.
    const audits = items.map(({ audit }) => auditValues(audit))
    const column = (f: (c: Completion, i: number) => string) => items.map(f)
    const rows = await sql<CertificateRow[]>`
      with v as (
        select * from unnest(${column((c) => c.id)}::text[], ${column((c) => `\\x${Buffer.from(c.issued.der).toString('hex')}`)}::text[],
                             ${column((c) => c.issued.notBefore.toISOString())}::text[],
                             ${column((c) => c.issued.notAfter.toISOString())}::text[],
                             ${column((c) => c.issued.fingerprintSha256)}::text[], ${column((c) => c.issued.serial ?? '')}::text[],
                             ${column((_, i) => audits[i]!.action)}::text[], ${column((_, i) => audits[i]!.actor)}::text[],
                             ${column((_, i) => audits[i]!.protocol ?? '')}::text[],
                             ${column((_, i) => audits[i]!.request_id ?? '')}::text[],
                             ${column((_, i) => JSON.stringify(audits[i]!.detail))}::text[])
          as v(id, der, not_before, not_after, fingerprint, new_serial, action, actor, protocol, request_id, detail)
      ),
      c as (
        update certificates t set status = 'valid', der = v.der::bytea, not_before = v.not_before::timestamptz,
          not_after = v.not_after::timestamptz, serial = coalesce(nullif(v.new_serial, ''), t.serial),
          fingerprint_sha256 = v.fingerprint, issued_at = now(), updated_at = now(), failure = null
        from v
        where t.id = v.id::bigint and t.der is null
        returning t.*, v.action, v.actor, v.protocol as audit_protocol, v.request_id, v.detail
      ),
      a as (
        insert into audit_events (action, actor, protocol, certificate_id, serial, request_id, detail)
        select c.action, c.actor, nullif(c.audit_protocol, ''), c.id, c.serial, nullif(c.request_id, ''),
               c.detail::jsonb
        from c
      )
      select ${columns(sql)} from c`
    const byId = new Map(rows.map((r) => [r.id, r]))
    return items.map(({ id }) => {
      const row = byId.get(id)
      return row ? fromRow(row) : new Error(`certificate ${id} already holds a certificate`)
    })
  }

  const reserveBatched = batcher(reserveMany, (r: NewReservation) => reserveOne(r))
  const completeBatched = batcher(completeMany, completeOne)

  return {
    /** Write-ahead: records serial and request before any CA is asked to sign. */
    reserve(r: NewReservation, audit?: AuditEntry): Promise<CertificateRecord> {
      return audit ? reserveOne(r, audit) : reserveBatched(r)
    },

    /**
     * Records the signed certificate. Applies to any row without a certificate yet — even one the reconciler
     * voided meanwhile — because a signed certificate must never be missing from the inventory.
     */
    complete(id: string, issued: IssuedCertificate, audit: AuditEntry): Promise<CertificateRecord> {
      return completeBatched({ id, issued, audit })
    },

    /** Marks a reservation failed (CA error, or voided by the reconciler). Only rows still awaiting a result. */
    async fail(id: string, failure: string, audit: AuditEntry): Promise<CertificateRecord | undefined> {
      const rows = await withAudit(
        sql,
        sql`
          update certificates set status = 'failed', failure = ${failure}, updated_at = now()
          where id = ${id} and status in ('reserved', 'pending') and der is null
          returning *`,
        audit,
      )
      return rows[0] ? fromRow(rows[0]) : undefined
    },

    /** pending → reserved (approved) or rejected; undefined when the row is not pending. */
    async decide(
      id: string,
      decision: 'reserved' | 'rejected',
      by: string,
      audit: AuditEntry,
      failure?: string,
    ): Promise<CertificateRecord | undefined> {
      const rows = await withAudit(
        sql,
        sql`
          update certificates set status = ${decision}, decided_by = ${by}, failure = ${failure ?? null},
            updated_at = now()
          where id = ${id} and status = 'pending'
          returning *`,
        audit,
      )
      return rows[0] ? fromRow(rows[0]) : undefined
    },

    /**
     * valid → revoked; undefined when the row is not valid (callers look it up to say why). The same statement
     * notifies every instance (LISTEN enroll_revoked) so cached OCSP responses and CRLs are refreshed at once.
     */
    async revoke(
      id: string,
      revocation: { reason: number; at: Date; invalidityDate?: Date | undefined },
      audit: AuditEntry,
    ): Promise<CertificateRecord | undefined> {
      const rows = await withAudit(
        sql,
        sql`
          update certificates set status = 'revoked', revoked_at = ${revocation.at},
            revocation_reason = ${revocation.reason}, invalidity_date = ${revocation.invalidityDate ?? null},
            updated_at = now()
          where id = ${id} and status = 'valid'
          returning *, pg_notify(${revokedChannel}, backend_id || ':' || serial)`,
        audit,
      )
      return rows[0] ? fromRow(rows[0]) : undefined
    },

    async getById(id: string): Promise<CertificateRecord | undefined> {
      if (!/^\d{1,18}$/.test(id)) return undefined
      const rows = await sql<CertificateRow[]>`select ${columns(sql)} from certificates c where c.id = ${id}`
      return rows[0] ? fromRow(rows[0]) : undefined
    },

    /**
     * Links a valid certificate to the one that renewed it. Undefined when it is not valid or already superseded
     * (a concurrent renewal won).
     */
    async supersede(id: string, by: string, audit: AuditEntry): Promise<CertificateRecord | undefined> {
      const rows = await withAudit(
        sql,
        sql`
          update certificates set superseded_by = ${by}, updated_at = now()
          where id = ${id} and status = 'valid' and superseded_by is null
          returning *`,
        audit,
      )
      return rows[0] ? fromRow(rows[0]) : undefined
    },

    /** The newest request for exactly this CSR under a profile by a requester (a client repeating a request). */
    async latestForCsr(csrDer: Uint8Array, profile: string, requester: string): Promise<CertificateRecord | undefined> {
      const rows = await sql<CertificateRow[]>`
        select ${columns(sql)} from certificates c
        where sha256(c.csr_der) = sha256(${buf(csrDer)}) and c.csr_der is not null and c.profile = ${profile}
          and c.requester = ${requester}
        order by c.id desc limit 1`
      return rows[0] ? fromRow(rows[0]) : undefined
    },

    async getBySerial(serial: string): Promise<CertificateRecord | undefined> {
      const rows = await sql<CertificateRow[]>`select ${columns(sql)} from certificates c where c.serial = ${serial}`
      return rows[0] ? fromRow(rows[0]) : undefined
    },

    async list(f: CertificateFilter): Promise<CertificateRecord[]> {
      const status =
        f.status === 'expired'
          ? sql`and c.status = 'valid' and c.not_after <= now()`
          : f.status === 'valid'
            ? sql`and c.status = 'valid' and c.not_after > now()`
            : f.status
              ? sql`and c.status = ${f.status}`
              : sql``
      const rows = await sql<CertificateRow[]>`
        select ${columns(sql)} from certificates c
        where true ${status}
          ${f.expiringBefore ? sql`and c.not_after < ${f.expiringBefore}` : sql``}
          ${f.profile ? sql`and c.profile = ${f.profile}` : sql``}
          ${
            f.sanContains
              ? sql`and exists (select 1 from jsonb_array_elements(c.sans) s
                                where strpos(lower(s->>'value'), lower(${f.sanContains})) > 0)`
              : sql``
          }
          ${f.beforeId ? sql`and c.id < ${f.beforeId}` : sql``}
        order by c.id desc
        limit ${f.limit}`
      return rows.map(fromRow)
    },

    /** Reservations left without a result for longer than `olderThanSeconds` (a crash while signing). */
    async staleReservations(olderThanSeconds: number): Promise<CertificateRecord[]> {
      const rows = await sql<CertificateRow[]>`
        select ${columns(sql)} from certificates c
        where c.status = 'reserved' and c.updated_at < now() - make_interval(secs => ${olderThanSeconds})
        order by c.id limit 1000`
      return rows.map(fromRow)
    },

    async countByStatus(): Promise<Record<string, number>> {
      const rows = await sql<{ status: string; n: number }[]>`
        select case when status = 'valid' and not_after <= now() then 'expired' else status end as status,
               count(*)::int as n
        from certificates group by 1`
      return Object.fromEntries(rows.map((r) => [r.status, r.n]))
    },
  }
}
export type CertificateStore = ReturnType<typeof certificateStore>
