// The store the issuance figures run on: the real PostgreSQL in a fresh schema (dropped afterwards), or
// the embedded PGlite store when PostgreSQL does not answer.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { loadConfig } from '../src/config/load.js'
import type { Config } from '../src/config/schema.js'
import { createLogger } from '../src/logging.js'
import { openCore, type Core } from '../src/server.js'
import { postgresTarget } from '../src/store/database.js'

/**
 * The local PostgreSQL: through its unix socket when there is one (as a server on the same host would connect, and
 * reachable from a private network namespace), else over TCP.
 */
export const defaultDatabaseUrl = existsSync('/var/run/postgresql/.s.PGSQL.5432')
  ? 'postgres://postgres@localhost:5432/test?host=/var/run/postgresql'
  : 'postgres://postgres@127.0.0.1:5432/test'

/** A client of the PostgreSQL at `url`, reading libpq's `?host=/socket/dir` as the server does. */
export function postgresClient(url: string, options: postgres.Options<Record<string, never>> = {}) {
  const target = postgresTarget(url)
  return postgres(target.url, { max: 1, onnotice: () => {}, ...options, ...(target.host ? { host: target.host } : {}) })
}

export interface BenchTarget {
  store: 'postgres' | 'embedded'
  /** Why the embedded store is used, when it is. */
  fallbackReason: string | undefined
  poolSize: number
  /** PostgreSQL URL and schema of the store; undefined on the embedded store. */
  postgres: { url: string; schema: string } | undefined
  core: Core
  dataDir: string
  close(): Promise<void>
}

/** URL with any password hidden, for printing. */
export const redactUrl = (url: string) => url.replace(/:[^:@/]*@/, ':***@')

async function probe(url: string): Promise<string | undefined> {
  const sql = postgresClient(url, { connect_timeout: 3 })
  try {
    await sql`select 1`
    return undefined
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    return err.code ?? err.message
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
}

export async function openTarget(url: string, poolSize: number): Promise<BenchTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'enroll-bench-core-'))
  const unreachable = await probe(url)
  const schema = `bench_${randomBytes(6).toString('hex')}`
  const overrides: Record<string, unknown> = { dataDir, databasePoolSize: poolSize }
  if (!unreachable) Object.assign(overrides, { databaseUrl: url, databaseSchema: schema })
  const config: Config = loadConfig({ env: {}, overrides })
  let core: Core
  try {
    core = await openCore(config, createLogger('silent'), { createCa: true })
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true })
    throw e
  }
  return {
    store: unreachable ? 'embedded' : 'postgres',
    fallbackReason: unreachable
      ? `PostgreSQL at ${redactUrl(url)} is unreachable (${unreachable})`
      : undefined,
    poolSize: unreachable ? 1 : poolSize,
    postgres: unreachable ? undefined : { url, schema },
    core,
    dataDir,
    async close() {
      try {
        await core.store.close()
        if (!unreachable) {
          const sql = postgresClient(url)
          try {
            await sql`drop schema if exists ${sql(schema)} cascade`
          } finally {
            await sql.end({ timeout: 5 })
          }
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true })
      }
    },
  }
}
