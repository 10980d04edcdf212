// Opens the one SQL connection pool: PostgreSQL via `postgres`, or the embedded PGlite served over a
// private unix socket so the very same `postgres` client and SQL run against it.
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'

export type Sql = postgres.Sql

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError'
}

export interface Database {
  readonly sql: Sql
  readonly kind: 'postgres' | 'embedded'
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** postgres:// URL; undefined selects the embedded store in `<dataDir>/db`. */
  url?: string | undefined
  dataDir: string
  schema: string
  poolSize: number
}

// Generic plans: every statement is prepared once per connection and then only bound and executed. With the
// default (auto), PostgreSQL re-planned our multi-CTE statements at every bind, a third of their server time (the
// ACME bench: 1.9 → 1.6 ms of PostgreSQL CPU per issuance). Every statement here looks rows up by key; the partial
// indexes are named by literals in the SQL (status = 'revoked', 'reserved', 'valid'; used_at is null) or implied by a
// strict comparison (request_ref = $1, sha256(csr_der) = $1), so a generic plan still uses them.
const clientOptions = (schema: string) =>
  ({
    onnotice: () => {},
    connect_timeout: 5,
    connection: { search_path: schema, application_name: 'enroll', plan_cache_mode: 'force_generic_plan' },
  }) as const

function describeConnectError(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number }
  if (err.code && err.address) return `${err.code} at ${err.address}${err.port ? `:${err.port}` : ''}`
  return err.message ?? String(e)
}

/**
 * The URL and client options of a PostgreSQL URL. A `host` query parameter naming a directory selects the unix
 * socket in it, as libpq reads `postgresql:///db?host=/var/run/postgresql` (the `postgres` client itself would
 * send it to the server as a setting).
 */
export function postgresTarget(url: string): { url: string; host?: string } {
  const parsed = new URL(url)
  const host = parsed.searchParams.get('host')
  if (!host?.startsWith('/')) return { url }
  parsed.searchParams.delete('host')
  return { url: parsed.toString(), host }
}

async function openPostgres(options: DatabaseOptions & { url: string }): Promise<Database> {
  const target = postgresTarget(options.url)
  const sql = postgres(target.url, {
    ...clientOptions(options.schema),
    ...(target.host ? { host: target.host } : {}),
    max: options.poolSize,
  })
  try {
    await sql`select 1`
  } catch (e) {
    await sql.end({ timeout: 0 }).catch(() => {})
    throw new StoreUnavailableError(`database: cannot connect (${describeConnectError(e)})`, { cause: e })
  }
  return { sql, kind: 'postgres', close: () => sql.end({ timeout: 5 }) }
}

/** One process owns an embedded store at a time: PGlite is single-process. */
function takeLock(path: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(path, { force: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const pid = Number(readFileSync(path, 'utf8'))
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new StoreUnavailableError(
          `database: the embedded store is in use by process ${pid}; stop it, or use the admin API or DATABASE_URL`,
        )
      }
      rmSync(path, { force: true })
    }
  }
  throw new StoreUnavailableError('database: cannot lock the embedded store')
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function openEmbedded(options: DatabaseOptions): Promise<Database> {
  const dir = join(options.dataDir, 'db')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const unlock = takeLock(join(options.dataDir, 'db.lock'))
  try {
    const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite-socket'),
    ])
    const db = await PGlite.create(dir)
    const path = join(tmpdir(), `enroll-pglite-${process.pid}-${randomBytes(4).toString('hex')}.sock`)
    // One connection: PGlite runs one session, and multiplexed sessions would share a transaction.
    const server = new PGLiteSocketServer({ db, path, maxConnections: 1 })
    await server.start()
    const sql = postgres({ ...clientOptions(options.schema), path, max: 1 })
    await sql`select 1`
    return {
      sql,
      kind: 'embedded',
      async close() {
        await sql.end({ timeout: 5 })
        await server.stop()
        await db.close()
        rmSync(path, { force: true })
        unlock()
      },
    }
  } catch (e) {
    unlock()
    if (e instanceof StoreUnavailableError) throw e
    throw new StoreUnavailableError(`database: cannot open the embedded store in ${dir}: ${(e as Error).message}`, {
      cause: e,
    })
  }
}

export function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres({ ...options, url: options.url }) : openEmbedded(options)
}
