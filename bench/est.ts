// `npm run bench -- est`: EST simpleenroll over TLS (keep-alive, concurrency 16) against `enroll serve`, next to the
// in-process ceiling of the same work — parseCsr + issuance.issue at concurrency 16 on the same store — measured
// in the same run. Goal: EST ≥ 60% of that ceiling (the protocol layer is thin).
//
// The server runs as its own process (dist/src/cli/index.js serve, log level warn) so the load generator here does
// not share its event loop; on a small host both still share the cores (and PostgreSQL), which the figures include.
// Knobs: BENCH_DATABASE_URL, BENCH_POOL, BENCH_SCALE (as run.ts); BENCH_EST_PROF=<dir> writes a V8 CPU profile of
// the server process there (node --cpu-prof).
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:https'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpuSince, processCpuMs, sampleCpu, type CpuUsage } from './cpu.js'
import { makeCsrs } from './csr.js'
import { issueFromDer } from './issuance.js'
import { runPool, type RunResult } from './stats.js'
import { spawnEnroll } from './enroll-process.js'
import { defaultDatabaseUrl, openTarget, redactUrl } from './target.js'

const CONCURRENCY = 16
const GOAL_RATIO = 0.6
const env = process.env
const databaseUrl = env['BENCH_DATABASE_URL'] || defaultDatabaseUrl
const poolSize = Number(env['BENCH_POOL'] || 16)
const scale = Number(env['BENCH_SCALE'] ?? 1)
if (!(scale > 0)) throw new Error('BENCH_SCALE must be a positive number')
const n = (count: number) => Math.max(1, Math.round(count * scale))
const counts = { warmUp: n(200), ceiling: n(2000), est: n(2000) }

interface EstServer {
  pid: number
  httpsPort: number
  caPem: string
  stop(): Promise<void>
}

/** `enroll serve` on a fresh data dir (and schema), with one Basic user on the default label. */
async function startEstServer(usePostgres: boolean): Promise<EstServer> {
  const server = await spawnEnroll({
    label: 'bench-est',
    database: usePostgres ? { url: databaseUrl, schema: `bench_est_${randomBytes(5).toString('hex')}` } : undefined,
    env: { ENROLL_EST_BASIC: 'bench:bench-password' },
    nodeArgs: env['BENCH_EST_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', env['BENCH_EST_PROF']] : [],
  })
  return {
    pid: server.pid,
    httpsPort: server.httpsPort,
    caPem: readFileSync(join(server.dataDir, 'ca.pem'), 'utf8'),
    stop: () => server.stop(),
  }
}

/** POSTs each CSR to /simpleenroll over `CONCURRENCY` keep-alive connections; every answer must be 200. */
function enrollOverTls(server: EstServer, ders: Uint8Array[]): Promise<RunResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: server.caPem })
  const auth = `Basic ${Buffer.from('bench:bench-password').toString('base64')}`
  const post = (der: Uint8Array) =>
    new Promise<void>((done, fail) => {
      const body = Buffer.from(der).toString('base64')
      const req = request(
        {
          host: '127.0.0.1',
          servername: 'localhost',
          port: server.httpsPort,
          method: 'POST',
          path: '/.well-known/est/simpleenroll',
          agent,
          headers: {
            'Content-Type': 'application/pkcs10',
            'Content-Length': body.length,
            Authorization: auth,
          },
        },
        (res) => {
          res.resume()
          res.on('end', () =>
            res.statusCode === 200
              ? done()
              : fail(new Error(`simpleenroll answered ${res.statusCode}`)),
          )
        },
      )
      req.on('error', fail)
      req.end(body)
    })
  return runPool(ders.length, CONCURRENCY, (i) => post(ders[i]!)).finally(() => agent.destroy())
}

interface Row extends RunResult {
  label: string
  /** processMs: this process (the issuance work in process; the load generator for EST). */
  cpu: CpuUsage
  /** CPU of the `enroll serve` process over the run, in ms (EST only). */
  serverCpuMs?: number | undefined
}

async function measure(
  label: string,
  fn: () => Promise<RunResult>,
  serverPid?: number,
): Promise<Row> {
  const before = sampleCpu()
  const serverBefore = serverPid === undefined ? undefined : processCpuMs(serverPid)
  const run = await fn()
  const serverAfter = serverPid === undefined ? undefined : processCpuMs(serverPid)
  const serverCpuMs =
    serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore
  const row = { label, ...run, cpu: cpuSince(before), serverCpuMs }
  process.stderr.write(`  ${label}: ${row.perSecond.toFixed(0)}/s\n`)
  return row
}

export async function runEstBench(): Promise<void> {
  const started = new Date()
  process.stderr.write('building CSRs …\n')
  const ders = await makeCsrs(2 * counts.warmUp + counts.ceiling + counts.est)
  let offset = 0
  const take = (k: number) => ders.slice(offset, (offset += k))
  const target = await openTarget(databaseUrl, poolSize)
  const usePostgres = target.store === 'postgres'
  const storeLabel = usePostgres ? `PostgreSQL ${redactUrl(databaseUrl)}` : 'embedded PGlite'
  process.stderr.write(`in-process ceiling on ${storeLabel} …\n`)
  let ceiling: Row
  try {
    await issueFromDer(target.core, take(counts.warmUp), CONCURRENCY)
    ceiling = await measure('parseCsr + issuance.issue, in process', () =>
      issueFromDer(target.core, take(counts.ceiling), CONCURRENCY),
    )
  } finally {
    await target.close()
  }

  process.stderr.write('EST over TLS against enroll serve …\n')
  const server = await startEstServer(usePostgres)
  let est: Row
  try {
    await enrollOverTls(server, take(counts.warmUp))
    est = await measure(
      'EST simpleenroll over TLS (keep-alive, Basic)',
      () => enrollOverTls(server, take(counts.est)),
      server.pid,
    )
  } finally {
    await server.stop()
  }

  const ratio = est.perSecond / ceiling.perSecond
  const pass = ratio >= GOAL_RATIO
  const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1))
  const perOp = (v: number | undefined, r: Row) =>
    v === undefined ? '-' : (v / r.count).toFixed(2)
  const share = (r: Row) =>
    r.cpu.othersShare === undefined ? '-' : `${Math.round(r.cpu.othersShare * 100)}%`
  const line = (r: Row) =>
    `| ${r.label.padEnd(46)} | ${String(r.count).padStart(5)} | ${String(r.concurrency).padStart(4)} | ${r.perSecond.toFixed(0).padStart(6)} | ${ms(r.p50Ms).padStart(6)} | ${ms(r.p99Ms).padStart(6)} | ${perOp(r.serverCpuMs ?? r.cpu.processMs, r).padStart(10)} | ${perOp(r.serverCpuMs === undefined ? undefined : r.cpu.processMs, r).padStart(10)} | ${perOp(r.cpu.postgresMs, r).padStart(8)} | ${share(r).padStart(6)} |`
  const cpuRatio =
    est.serverCpuMs === undefined
      ? undefined
      : est.serverCpuMs / est.count / (ceiling.cpu.processMs / ceiling.count)
  process.stdout.write(
    [
      '',
      `enroll bench est · ${started.toISOString()} · node ${process.version} · ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}`,
      `store: ${storeLabel} · profile "default" · ECDSA P-256 CSRs, one per request`,
      '',
      `| ${'measurement'.padEnd(46)} |     n | conc |  ops/s | p50 ms | p99 ms | server CPU | client CPU |  pg CPU | others |`,
      `|:${'-'.repeat(47)}|------:|-----:|-------:|-------:|-------:|-----------:|-----------:|--------:|-------:|`,
      line(ceiling),
      line(est),
      '',
      '  CPU columns in ms per enrollment: server = the process doing the issuance work (this one in process,',
      '  `enroll serve` for EST); client = the load generator; others = share of the host used by unrelated processes.',
      '',
      `EST = ${ratio.toFixed(2)} × the in-process ceiling (throughput) · goal ≥ ${GOAL_RATIO}: ${pass ? 'PASS' : 'FAIL'}`,
      ...(cpuRatio === undefined
        ? []
        : [`server CPU per EST enrollment = ${cpuRatio.toFixed(2)} × CPU per in-process issuance`]),
      '  The EST figure includes TLS, HTTP, Basic auth (memoised per connection), base64 and certs-only',
      '  encoding in the server process, and the load generator in this one, sharing the same cores.',
      '',
    ].join('\n'),
  )
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  const results = {
    date: started.toISOString(),
    node: process.version,
    cores: cpus().length,
    store: storeLabel,
    counts,
    concurrency: CONCURRENCY,
    runs: { ceiling, est },
    ratio,
    serverCpuRatio: cpuRatio,
    goal: GOAL_RATIO,
    pass,
  }
  writeFileSync(`${dir}est.json`, `${JSON.stringify(results, null, 2)}\n`)
  process.stdout.write('wrote bench/results/est.json\n')
}
