// The store: the sole owner of SQL. Everything else sees these interfaces.
import { acmeStore, type AcmeStore } from './acme.js'
import { auditStore, type AuditStore } from './audit.js'
import { certificateStore, type CertificateStore } from './certificates.js'
import { openDatabase, type Database, type DatabaseOptions } from './database.js'
import { migrate } from './migrations.js'
import { revocationStore, type RevocationStore } from './revocation.js'

export type * from './acme.js'
export { AcmeStoreConflict } from './acme.js'
export type { AuditEntry, AuditEvent, AuditQuery, AuditStore } from './audit.js'
export type { CertificateFilter, CertificateRecord, CertificateStatus, CertificateStore } from './certificates.js'
export { StoreUnavailableError } from './database.js'
export type { CrlKind, RevocationStore, RevokedEntry, StoredCrl } from './revocation.js'
export { shardOf } from './revocation.js'

export interface Store {
  readonly kind: Database['kind']
  readonly certificates: CertificateStore
  readonly audit: AuditStore
  readonly acme: AcmeStore
  readonly revocation: RevocationStore
  /**
   * Subscribes to a notification channel of other instances (PostgreSQL LISTEN). `onReconnect` runs when the
   * listening connection was re-established, since notifications may have been missed meanwhile. The embedded
   * store is single-process: nothing to hear, so this resolves to a no-op.
   */
  listen(channel: string, onNotify: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>
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
    acme: acmeStore(db.sql),
    revocation: revocationStore(db.sql),
    async listen(channel, onNotify, onReconnect) {
      if (db.kind === 'embedded') return async () => {}
      let first = true
      const { unlisten } = await db.sql.listen(channel, onNotify, () => {
        if (!first) onReconnect?.()
        first = false
      })
      return unlisten
    },
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
