// audit_events: append-only. No code path here (or anywhere) updates or deletes; a trigger enforces it.
import type postgres from 'postgres'
import type { Sql } from './database.js'

export interface AuditEntry {
  action: string
  actor: string
  protocol?: string | undefined
  certificateId?: string | undefined
  serial?: string | undefined
  requestId?: string | undefined
  detail?: Record<string, unknown> | undefined
}

export interface AuditEvent extends AuditEntry {
  id: string
  at: Date
  detail: Record<string, unknown>
}

export interface AuditQuery {
  /** Only events with id greater than this (for tailing). */
  afterId?: string | undefined
  /** Only events with id less than this (cursor for paging newest first). */
  beforeId?: string | undefined
  serial?: string | undefined
  action?: string | undefined
  limit: number
  /** 'desc' (newest first, default) or 'asc' (oldest first; with afterId, for tailing). */
  order?: 'asc' | 'desc'
}

interface AuditRow {
  id: string
  at: Date
  action: string
  actor: string
  protocol: string | null
  certificate_id: string | null
  serial: string | null
  request_id: string | null
  detail: Record<string, unknown>
}

const fromRow = (r: AuditRow): AuditEvent => ({
  id: r.id,
  at: r.at,
  action: r.action,
  actor: r.actor,
  protocol: r.protocol ?? undefined,
  certificateId: r.certificate_id ?? undefined,
  serial: r.serial ?? undefined,
  requestId: r.request_id ?? undefined,
  detail: r.detail,
})

export const auditValues = (e: AuditEntry) => ({
  action: e.action,
  actor: e.actor,
  protocol: e.protocol ?? null,
  certificate_id: e.certificateId ?? null,
  serial: e.serial ?? null,
  request_id: e.requestId ?? null,
  detail: e.detail ?? {},
})

export function auditStore(sql: Sql) {
  return {
    async append(entry: AuditEntry): Promise<void> {
      const v = auditValues(entry)
      await sql`
        insert into audit_events (action, actor, protocol, certificate_id, serial, request_id, detail)
        values (${v.action}, ${v.actor}, ${v.protocol}, ${v.certificate_id}, ${v.serial}, ${v.request_id},
                ${sql.json(v.detail as postgres.JSONValue)})`
    },

    async list(q: AuditQuery): Promise<AuditEvent[]> {
      const asc = q.order === 'asc'
      const rows = await sql<AuditRow[]>`
        select e.id::text, e.at, e.action, e.actor, e.protocol, e.certificate_id::text, e.serial, e.request_id, e.detail
        from audit_events e
        where true
          ${q.afterId ? sql`and e.id > ${q.afterId}` : sql``}
          ${q.beforeId ? sql`and e.id < ${q.beforeId}` : sql``}
          ${q.serial ? sql`and e.serial = ${q.serial}` : sql``}
          ${q.action ? sql`and e.action = ${q.action}` : sql``}
        -- Qualified: a bare "id" here would sort by the text output column ('10' < '9').
        order by e.id ${asc ? sql`asc` : sql`desc`}
        limit ${q.limit}`
      return rows.map(fromRow)
    },
  }
}
export type AuditStore = ReturnType<typeof auditStore>
