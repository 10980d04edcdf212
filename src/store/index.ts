// The store: the sole owner of SQL. Everything else sees these interfaces.
import { auditStore, type AuditStore } from './audit.js'
import { certificateStore, type CertificateStore } from './certificates.js'
import { openDatabase, type Database, type DatabaseOptions } from './database.js'
import { migrate } from './migrations.js'

export type { AuditEntry, AuditEvent, AuditQuery, AuditStore } from './audit.js'
export type { CertificateFilter, CertificateRecord, CertificateStatus, CertificateStore } from './certificates.js'
export { StoreUnavailableError } from './database.js'

export interface Store {
  readonly kind: Database['kind']
  readonly certificates: CertificateStore
  readonly audit: AuditStore
  /** True when a trivial query answers (readiness). */
  ping(): Promise<boolean>
  close(): Promise<void>
}

export async function openStore(options: DatabaseOptions): Promise<Store> {
  const db = await openDatabase(options)
  try {
    await migrate(db.sql, options.schema)
  } catch (e) {
    await db.close().catch(() => {})
    throw e
  }
  return {
    kind: db.kind,
    certificates: certificateStore(db.sql),
    audit: auditStore(db.sql),
    async ping() {
      try {
        await db.sql`select 1`
        return true
      } catch {
        return false
      }
    },
    close: () => db.close(),
  }
}
