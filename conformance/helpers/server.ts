// Starts the real server (built CLI, `enroll serve`) for a conformance run: temp data dir, free loopback
// ports, the real PostgreSQL in a fresh schema when it answers (embedded PGlite otherwise).
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import postgres from 'postgres'

export const projectRoot = resolve(import.meta.dirname, '..', '..')
const databaseUrl = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer()
    s.once('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => done(port))
    })
  })
}

async function postgresAnswers(): Promise<boolean> {
  const sql = postgres(databaseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try {
    await sql`select 1`
    return true
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
}

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
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'enroll-conf-'))
  const [httpsPort, httpPort] = [await freePort(), await freePort()]
  const usePg = !options.embedded && (await postgresAnswers())
  const schema = options.schema ?? `conf_${randomBytes(5).toString('hex')}`
  const settings: Record<string, string> = {
    ENROLL_DATA_DIR: dataDir,
    ENROLL_HTTPS_PORT: String(httpsPort),
    ENROLL_HTTP_PORT: String(httpPort),
    ENROLL_LISTEN_HOST: '127.0.0.1',
    ENROLL_PUBLIC_URL: `https://localhost:${httpsPort}`,
    ENROLL_PUBLIC_HTTP_URL: `http://127.0.0.1:${httpPort}`,
    ENROLL_LOG_LEVEL: 'warn',
    ...(usePg ? { DATABASE_URL: databaseUrl, ENROLL_DATABASE_SCHEMA: schema } : {}),
    ...options.env,
  }
  if (options.configText) {
    const file = join(dataDir, 'enroll.yaml')
    await import('node:fs').then((fs) => fs.writeFileSync(file, options.configText!))
    settings['ENROLL_CONFIG'] = file
  }
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...settings }
  const child: ChildProcess = spawn(process.execPath, [join(projectRoot, 'dist/src/cli/index.js'), 'serve'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`enroll exited with ${child.exitCode}:\n${out}`)
    try {
      const r = await fetch(`http://127.0.0.1:${httpPort}/ready`)
      if (r.status === 200) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`enroll did not become ready:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  let stopped = false
  return {
    dataDir,
    httpsPort,
    httpPort,
    httpsUrl: `https://localhost:${httpsPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    caBundle: join(dataDir, 'ca.pem'),
    adminKey: readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim(),
    store: usePg ? 'postgres' : 'embedded',
    schema: usePg ? schema : undefined,
    env: settings,
    output: () => out,
    async stop({ keep = false } = {}) {
      // Once only: a later call (a teardown after a restart) must not remove what the next server now uses.
      if (stopped) return
      stopped = true
      child.kill('SIGTERM')
      await exited
      if (keep) return
      if (usePg) {
        const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
        await sql`drop schema if exists ${sql(schema)} cascade`
        await sql.end()
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
