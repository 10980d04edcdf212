// The store: the sole owner of SQL. Everything else sees these interfaces.
import { createHash } from 'node:crypto'
import { acmeStore, type AcmeStore } from './acme.js'
import { auditStore, type AuditStore } from './audit.js'
import { certificateStore, type CertificateStore } from './certificates.js'
import { openDatabase, type Database, type DatabaseOptions } from './database.js'
import { migrate } from './migrations.js'
import { revocationStore, type RevocationStore } from './revocation.js'
import { scepStore, type ScepStore } from './scep.js'

export type * from './acme.js'
export { AcmeStoreConflict } from './acme.js'
export type { AuditEntry, AuditEvent, AuditQuery, AuditStore } from './audit.js'
export type { CertificateFilter, CertificateRecord, CertificateStatus, CertificateStore } from './certificates.js'
export { StoreUnavailableError } from './database.js'
export type { CrlKind, RevocationStore, RevokedEntry, StoredCrl } from './revocation.js'
export { shardOf } from './revocation.js'
export type { NewScepTransaction, ScepChallenge, ScepStore, ScepTransaction } from './scep.js'

/** Notifications between instances of one deployment (LISTEN/NOTIFY). */
export type NotifyChannel = 'enroll_revoked' | 'enroll_crl'

/**
 * The PostgreSQL channel of a deployment. Channels are database-wide while a deployment is one schema, so the
 * name carries a digest of the schema: deployments (and test runs) sharing a database must not rebuild CRLs or
 * drop OCSP answers on each other's revocations. A digest keeps the name within the 63-octet identifier limit.
 */
export const channelName = (channel: NotifyChannel, schema: string) =>
  `${channel}_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`

export interface Store {
  readonly kind: Database['kind']
  readonly certificates: CertificateStore
  readonly audit: AuditStore
  readonly acme: AcmeStore
  readonly revocation: RevocationStore
  readonly scep: ScepStore
  /**
   * Subscribes to a notification channel of other instances (PostgreSQL LISTEN). `onReconnect` runs when the
   * listening connection was re-established, since notifications may have been missed meanwhile. The embedded
   * store is single-process: nothing to hear, so this resolves to a no-op.
   */
  listen(channel: NotifyChannel, onNotify: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>
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
    certificates: certificateStore(db.sql, channelName('enroll_revoked', options.schema)),
    audit: auditStore(db.sql),
    acme: acmeStore(db.sql),
    revocation: revocationStore(db.sql, channelName('enroll_crl', options.schema)),
    scep: scepStore(db.sql),
    async listen(channel, onNotify, onReconnect) {
      if (db.kind === 'embedded') return async () => {}
      let first = true
      const { unlisten } = await db.sql.listen(channelName(channel, options.schema), onNotify, () => {
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
