// `enroll serve` (the built CLI, dist/) as its own process, for the benchmarks and the conformance runs: a data dir,
// two free loopback ports and the public URLs built from them, the embedded store or a PostgreSQL schema; resolves
// once /ready answers 200, and stop() ends it with SIGTERM and removes what it made (unless kept, for a restart).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './net.js'
import { postgresClient } from './target.js'

/** The project root, from this file in bench/ (run by tap from source) or in dist/bench/ (built). */
const here = dirname(fileURLToPath(import.meta.url))
export const projectRoot = resolve(here, here.endsWith(join('dist', 'bench')) ? '../..' : '..')
export const cliPath = join(projectRoot, 'dist', 'src', 'cli', 'index.js')

/** Whether PostgreSQL answers at `url` (within 3 s). */
export async function postgresAnswers(url: string): Promise<boolean> {
  const sql = postgresClient(url, { connect_timeout: 3 })
  try {
    await sql`select 1`
    return true
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
}

export interface EnrollProcessOptions {
  /** ENROLL_* settings over the defaults (ports, URLs, data dir, log level warn). */
  env?: Record<string, string | undefined>
  /** PostgreSQL database and schema; the embedded store when unset. stop() drops the schema unless kept. */
  database?: { url: string; schema: string } | undefined
  /** Reuse this data dir (a restart after `stop({ keep: true })`) instead of a fresh temp dir. */
  dataDir?: string
  /** Prefix of the temp data dir's name. */
  label?: string
  /** YAML or JSON config text, written to <dataDir>/enroll.yaml and named by ENROLL_CONFIG. */
  configText?: string
  /** Another build's CLI (A/B runs); this checkout's dist/ by default. */
  cliPath?: string
  /** Node flags for the server (e.g. --cpu-prof). */
  nodeArgs?: string[]
  /** How long /ready may take. */
  readyTimeoutMs?: number
}

export interface EnrollProcess {
  pid: number
  dataDir: string
  httpsPort: number
  httpPort: number
  /** https://localhost:<port> */
  httpsUrl: string
  /** http://127.0.0.1:<port> */
  httpUrl: string
  /** The settings it was started with, without the inherited environment. */
  settings: Record<string, string>
  /** stdout and stderr so far. */
  output(): string
  /** Stops the server, then drops its schema and removes its data dir unless `keep`. Later calls do nothing. */
  stop(options?: { keep?: boolean }): Promise<void>
}

export async function spawnEnroll(o: EnrollProcessOptions = {}): Promise<EnrollProcess> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), `enroll-${o.label ?? 'run'}-`))
  const [httpsPort, httpPort] = [await freePort(), await freePort()]
  const settings: Record<string, string> = {
    ENROLL_DATA_DIR: dataDir,
    ENROLL_HTTPS_PORT: String(httpsPort),
    ENROLL_HTTP_PORT: String(httpPort),
    ENROLL_LISTEN_HOST: '127.0.0.1',
    ENROLL_PUBLIC_URL: `https://localhost:${httpsPort}`,
    ENROLL_PUBLIC_HTTP_URL: `http://127.0.0.1:${httpPort}`,
    ENROLL_LOG_LEVEL: 'warn',
    ...(o.database ? { DATABASE_URL: o.database.url, ENROLL_DATABASE_SCHEMA: o.database.schema } : {}),
  }
  if (o.configText !== undefined) {
    settings['ENROLL_CONFIG'] = join(dataDir, 'enroll.yaml')
    writeFileSync(settings['ENROLL_CONFIG'], o.configText)
  }
  for (const [k, v] of Object.entries(o.env ?? {})) if (v !== undefined) settings[k] = v
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), o.cliPath ?? cliPath, 'serve'], {
    env: { ...process.env, ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  let stopped = false
  const stop = async ({ keep = false } = {}) => {
    // Once only: a later call (a teardown after a restart) must not remove what the next server now uses.
    if (stopped) return
    stopped = true
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    if (keep) return
    if (o.database) {
      const sql = postgresClient(o.database.url)
      await sql`drop schema if exists ${sql(o.database.schema)} cascade`.finally(() => sql.end({ timeout: 5 }))
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000)
  for (;;) {
    if (child.exitCode !== null) {
      await stop({ keep: o.dataDir !== undefined })
      throw new Error(`enroll serve exited with ${child.exitCode}:\n${out}`)
    }
    const ready = await fetch(`http://127.0.0.1:${httpPort}/ready`).then(
      (r) => r.status === 200,
      () => false,
    )
    if (ready) break
    if (Date.now() > deadline) {
      await stop({ keep: o.dataDir !== undefined })
      throw new Error(`enroll serve did not become ready:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    pid: child.pid!,
    dataDir,
    httpsPort,
    httpPort,
    httpsUrl: `https://localhost:${httpsPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    settings,
    output: () => out,
    stop,
  }
}
