// Starts the real server (built CLI, `enroll serve`) for a conformance run: temp data dir, free loopback
// ports, the real PostgreSQL in a fresh schema when it answers (embedded PGlite otherwise).
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { postgresAnswers, spawnEnroll } from '../../bench/enroll-process.js'

export { freePort } from '../../bench/net.js'
export { projectRoot } from '../../bench/enroll-process.js'
const databaseUrl = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface Enroll {
  dataDir: string
  httpsPort: number
  httpPort: number
  /** https://localhost:<port> */
  httpsUrl: string
  /** http://127.0.0.1:<port> */
  httpUrl: string
  caBundle: string
  adminKey: string
  store: 'postgres' | 'embedded'
  /** PostgreSQL schema holding the tables; undefined with the embedded store. */
  schema: string | undefined
  /**
   * The settings the server was started with (ENROLL_*, DATABASE_URL, ENROLL_DATABASE_SCHEMA), without the
   * inherited environment: run the CLI (`enroll certs …`) against the same store and CA with
   * `{ ...process.env, ...enroll.env }`.
   */
  env: Record<string, string>
  output(): string
  /**
   * Stops the server, then drops its schema and removes its data dir, unless `keep` (to start another server
   * on the same data dir and schema: `startEnroll({ dataDir, schema })`). Later calls do nothing.
   */
  stop(options?: { keep?: boolean }): Promise<void>
}

export interface StartOptions {
  /** Extra environment (ENROLL_* settings). */
  env?: Record<string, string>
  /** YAML/JSON config file text, written into the data dir. */
  configText?: string
  embedded?: boolean
  /** Reuse this data dir (a restart after `stop({ keep: true })`) instead of a fresh temp dir. */
  dataDir?: string
  /** Reuse this PostgreSQL schema (a restart after `stop({ keep: true })`) instead of a fresh one. */
  schema?: string
}

export async function startEnroll(options: StartOptions = {}): Promise<Enroll> {
  const usePg = !options.embedded && (await postgresAnswers(databaseUrl))
  const schema = options.schema ?? `conf_${randomBytes(5).toString('hex')}`
  const server = await spawnEnroll({
    label: 'conf',
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.configText !== undefined ? { configText: options.configText } : {}),
    database: usePg ? { url: databaseUrl, schema } : undefined,
    env: options.env ?? {},
    readyTimeoutMs: 30_000,
  })
  return {
    dataDir: server.dataDir,
    httpsPort: server.httpsPort,
    httpPort: server.httpPort,
    httpsUrl: server.httpsUrl,
    httpUrl: server.httpUrl,
    caBundle: join(server.dataDir, 'ca.pem'),
    adminKey: readFileSync(join(server.dataDir, 'admin-api-key'), 'utf8').trim(),
    store: usePg ? 'postgres' : 'embedded',
    schema: usePg ? schema : undefined,
    env: server.settings,
    output: server.output,
    stop: server.stop,
  }
}
