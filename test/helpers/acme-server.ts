// An in-process ACME server for integration tests: openCore (real store: PostgreSQL in a fresh schema, or
// PGlite) + acmeApp mounted at /acme, requests through Hono's app.request().
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { pino } from 'pino'
import postgres from 'postgres'
import { acmeApp } from '../../protocols/acme/index.js'
import type { AcmeContext } from '../../protocols/acme/context.js'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import { openCore, type Core } from '../../src/server.js'
import type { Fetcher } from './acme-client.js'

export const PUBLIC_URL = 'https://acme.test'
export const DIRECTORY = `${PUBLIC_URL}/acme/directory`

export interface AcmeTestServer {
  core: Core
  /** PostgreSQL schema (fresh per server) or 'public' on PGlite. */
  schema: string
  config: Config
  acme: AcmeContext
  fetch: Fetcher
  /** Waits for background validations. */
  settle(): Promise<void>
  close(): Promise<void>
}

export async function startAcmeTestServer(options: {
  postgresUrl: string | undefined
  acme?: Record<string, unknown>
  profiles?: Record<string, unknown>
  /** CA backends (default: the embedded CA). */
  backends?: Record<string, unknown>
}): Promise<AcmeTestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'enroll-acme-'))
  const schema = options.postgresUrl ? `t_${randomBytes(6).toString('hex')}` : 'public'
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      databaseUrl: options.postgresUrl || undefined,
      databaseSchema: schema,
      publicUrl: PUBLIC_URL,
      publicHttpUrl: 'http://acme.test',
      acme: { validation: { attempts: 1, retryDelaySeconds: 0, timeoutSeconds: 3 }, ...options.acme },
      ...(options.profiles ? { profiles: options.profiles } : {}),
      ...(options.backends ? { backends: options.backends } : {}),
    },
  })
  const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' })
  const core = await openCore(config, logger, { createCa: true })
  const acme = acmeApp({ config, store: core.store, issuance: core.issuance, logger })
  const app = new Hono()
  app.use('*', requestId())
  app.route('/acme', acme)
  const settle = async () => {
    while (acme.acme.inflight.size) await Promise.all([...acme.acme.inflight])
  }
  return {
    core,
    schema,
    config,
    acme: acme.acme,
    fetch: (url, init) => app.request(url, init),
    settle,
    async close() {
      await settle()
      await core.store.close()
      if (options.postgresUrl) {
        const sql = postgres(options.postgresUrl, { max: 1, onnotice: () => {} })
        await sql`drop schema if exists ${sql(schema)} cascade`
        await sql.end()
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
