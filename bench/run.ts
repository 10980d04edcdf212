// `npm run bench`: start-to-ready of `enroll serve`, issuance throughput through the issuance service on
// PostgreSQL, and the raw signing rate of the same CA key as a baseline. Prints a table and writes
// bench/results/latest.json.
//
// Knobs (environment):
//   BENCH_DATABASE_URL  PostgreSQL for the issuance figures (default postgres://postgres@127.0.0.1:5432/test);
//                       a fresh schema is created and dropped. Unreachable: the embedded PGlite store is used.
//   BENCH_POOL          connection pool size (config databasePoolSize), default 16
//   BENCH_SCALE         multiplies every operation count (e.g. 0.2 for a quick look), default 1
//
// Where the time goes: `node dist/bench/profile.js`; evidence for optimisations: `node dist/bench/what-if.js`.
// Other processes on the host skew every figure; the "others" column says how much.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseCsr } from '../src/pki/csr.js'
import { localCaSign, signRequestsFor, webCryptoSign } from './baseline.js'
import { cpuSince, hostLoad, sampleCpu, type CpuUsage } from './cpu.js'
import { makeCsrs } from './csr.js'
import { issueFromDer, issueParsed } from './issuance.js'
import { runEstBench } from './est.js'
import { runAcmeBench } from './acme.js'
import { runRevocationBench } from './revocation.js'
import { runScepBench } from './scep.js'
import { measureStartup, type StartupResult } from './startup.js'
import type { RunResult } from './stats.js'
import { defaultDatabaseUrl, openTarget, redactUrl } from './target.js'

const goals = { startToReadyMs: 1500, issuanceC64PerSecond: 2000 }

const env = process.env
const databaseUrl = env['BENCH_DATABASE_URL'] || defaultDatabaseUrl
const poolSize = positiveInt('BENCH_POOL', 16)
const scale = Number(env['BENCH_SCALE'] ?? 1)
if (!(scale > 0)) throw new Error('BENCH_SCALE must be a positive number')
const n = (count: number) => Math.max(1, Math.round(count * scale))

const counts = {
  warmUp: n(200),
  issueC1: n(500),
  issueC64: n(5000),
  parseIssueC1: n(300),
  parseIssueC64: n(2000),
  localSignC1: n(1000),
  localSignC64: n(5000),
  webCryptoC1: n(2000),
  webCryptoC64: n(20000),
}

function positiveInt(name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const v = Number(raw)
  if (!Number.isInteger(v) || v <= 0)
    throw new Error(`${name} must be a positive integer, got "${raw}"`)
  return v
}

interface Row extends RunResult {
  id: string
  label: string
  cpu: CpuUsage
}

async function measure(id: string, label: string, fn: () => Promise<RunResult>): Promise<Row> {
  const before = sampleCpu()
  const run = await fn()
  const row = { id, label, ...run, cpu: cpuSince(before) }
  process.stderr.write(`  ${label}: ${row.perSecond.toFixed(0)}/s\n`)
  return row
}

// ── formatting ────────────────────────────────────────────────────────────────────────────────────
const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '-')
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '-')
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))

function table(headers: string[], rows: string[][], rightFrom = 1): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const cell = (s: string, c: number) =>
    c >= rightFrom ? s.padStart(widths[c]!) : s.padEnd(widths[c]!)
  const line = (r: string[]) => `| ${r.map(cell).join(' | ')} |`
  const rule = `|${widths.map((w, c) => (c >= rightFrom ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`
  return [line(headers), rule, ...rows.map(line)].join('\n')
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL')

function startupSection(s: StartupResult): string {
  return [
    `Start-to-ready: \`enroll serve\` on an existing data dir, embedded store, spawn → GET /ready 200`,
    `  median ${f0(s.medianMs)} ms · max ${f0(s.maxMs)} ms · goal < ${goals.startToReadyMs} ms: ` +
      verdict(s.maxMs < goals.startToReadyMs),
    `  runs: ${s.runsMs.map(f0).join(', ')} ms · first start (creates CA, TLS cert): ${f0(s.firstStartMs)} ms · ` +
      `bare \`node -e ''\`: ${f0(s.nodeFloorMs)} ms`,
    `  server CPU until ready: ${s.serverCpuMs.map(f0).join(', ')} ms` +
      (s.othersShareMax === undefined
        ? ''
        : ` · others took up to ${(100 * s.othersShareMax).toFixed(0)}% of the host meanwhile`),
  ].join('\n')
}

function runsSection(rows: Row[]): string {
  const headers = [
    'measurement',
    'n',
    'conc',
    'ops/s',
    'p50 ms',
    'p99 ms',
    'node CPU ms/op',
    'postgres CPU ms/op',
    'others',
  ]
  return table(
    headers,
    rows.map((r) => [
      r.label,
      String(r.count),
      String(r.concurrency),
      f0(r.perSecond),
      ms(r.p50Ms),
      ms(r.p99Ms),
      f2(r.cpu.processMs / r.count),
      r.cpu.postgresMs === undefined ? '-' : f2(r.cpu.postgresMs / r.count),
      r.cpu.othersShare === undefined ? '-' : `${(100 * r.cpu.othersShare).toFixed(0)}%`,
    ]),
  )
}

async function main(): Promise<void> {
  const started = new Date()
  const loadAtStart = hostLoad()
  if (loadAtStart.load1 > 0.5) {
    process.stderr.write(
      `note: 1-minute load average is ${loadAtStart.load1.toFixed(2)}; other work on the host skews the figures\n`,
    )
  }
  process.stderr.write('start-to-ready …\n')
  const startup = await measureStartup(5)

  process.stderr.write('building CSRs …\n')
  const total =
    counts.warmUp + counts.issueC1 + counts.issueC64 + counts.parseIssueC1 + counts.parseIssueC64
  const ders = await makeCsrs(total)
  const parsed = await Promise.all(ders.map((d) => parseCsr(d)))
  let offset = 0
  const take = <T>(from: T[], k: number) => from.slice(offset, (offset += k))

  const target = await openTarget(databaseUrl, poolSize)
  const storeLabel =
    target.store === 'postgres'
      ? `PostgreSQL ${redactUrl(databaseUrl)}, pool ${target.poolSize}`
      : 'embedded PGlite'
  if (target.fallbackReason) {
    process.stdout.write(
      `${target.fallbackReason}: issuance figures below run on the embedded PGlite store.\n`,
    )
  }
  const rows: Row[] = []
  try {
    const { core, dataDir } = target
    const signReqs = signRequestsFor(
      core.config,
      parsed.slice(0, Math.max(counts.localSignC1, counts.localSignC64)),
    )
    process.stderr.write('baselines …\n')
    rows.push(
      await measure('webCryptoC1', 'raw WebCrypto ECDSA P-256 sign, 300 B', () =>
        webCryptoSign(dataDir, counts.webCryptoC1, 1),
      ),
      await measure('webCryptoC64', 'raw WebCrypto ECDSA P-256 sign, 300 B', () =>
        webCryptoSign(dataDir, counts.webCryptoC64, 64),
      ),
      await measure('localSignC1', 'raw LocalCa.sign (no store)', () =>
        localCaSign(core, signReqs.slice(0, counts.localSignC1), 1),
      ),
      await measure('localSignC64', 'raw LocalCa.sign (no store)', () =>
        localCaSign(core, signReqs.slice(0, counts.localSignC64), 64),
      ),
    )
    process.stderr.write(`issuance on ${target.store} …\n`)
    const label = `issuance.issue (${target.store === 'postgres' ? 'PostgreSQL' : 'embedded PGlite'})`
    await issueParsed(core, take(parsed, counts.warmUp), 64)
    rows.push(
      await measure('issueC1', label, () => issueParsed(core, take(parsed, counts.issueC1), 1)),
      await measure('issueC64', label, () => issueParsed(core, take(parsed, counts.issueC64), 64)),
      await measure('parseIssueC1', `parseCsr + ${label}`, () =>
        issueFromDer(core, take(ders, counts.parseIssueC1), 1),
      ),
      await measure('parseIssueC64', `parseCsr + ${label}`, () =>
        issueFromDer(core, take(ders, counts.parseIssueC64), 64),
      ),
    )
    const inventory = await core.store.certificates.countByStatus()
    if (inventory['valid'] !== total)
      throw new Error(`bench: expected ${total} valid rows, found ${JSON.stringify(inventory)}`)
  } finally {
    await target.close()
  }

  const by = Object.fromEntries(rows.map((r) => [r.id, r])) as Record<string, Row>
  const ratio = (a: string, b: string) => by[a]!.perSecond / by[b]!.perSecond
  const ratios = [
    {
      id: 'issueC1/localSignC1',
      text: 'issuance c1  = {r} × raw LocalCa.sign c1',
      value: ratio('issueC1', 'localSignC1'),
    },
    {
      id: 'issueC64/localSignC64',
      text: 'issuance c64 = {r} × raw LocalCa.sign c64',
      value: ratio('issueC64', 'localSignC64'),
    },
    {
      id: 'issueC64/webCryptoC64',
      text: 'issuance c64 = {r} × raw WebCrypto sign c64',
      value: ratio('issueC64', 'webCryptoC64'),
    },
    {
      id: 'localSignC64/webCryptoC64',
      text: 'LocalCa.sign c64 = {r} × raw WebCrypto sign c64',
      value: ratio('localSignC64', 'webCryptoC64'),
    },
    {
      id: 'parseIssueC64/issueC64',
      text: 'parseCsr + issuance c64 = {r} × issuance c64',
      value: ratio('parseIssueC64', 'issueC64'),
    },
  ]
  const c64 = by['issueC64']!.perSecond
  const busiest = Math.max(startup.othersShareMax ?? 0, ...rows.map((r) => r.cpu.othersShare ?? 0))
  const cpuModel = cpus()[0]?.model.trim() ?? 'unknown CPU'

  const out = [
    '',
    `enroll bench · ${started.toISOString()} · node ${process.version} · ${cpus().length} × ${cpuModel} · ` +
      `load average at start ${loadAtStart.load1.toFixed(2)}`,
    `issuance store: ${storeLabel} · CA key ecdsa-p256 (LocalCa) · profile "default" · warm-up ${counts.warmUp} issues`,
    '',
    startupSection(startup),
    '',
    runsSection(rows),
    '  conc = requests in flight (workers pulling from one queue); latency includes queueing.',
    '  CPU ms/op: this Node process (all threads), and the local PostgreSQL server processes.',
    "  others: share of the host's CPU taken by every other process meanwhile (should be ~0%).",
    ...(busiest > 0.1
      ? [
          `  WARNING: other processes took up to ${(100 * busiest).toFixed(0)}% of the host during a run; figures are skewed.`,
        ]
      : []),
    '',
    'Ratios',
    ...ratios.map((r) => `  ${r.text.replace('{r}', r.value.toFixed(2))}`),
    '',
    'Goals',
    `  start-to-ready max < ${goals.startToReadyMs} ms: ${f0(startup.maxMs)} ms ${verdict(startup.maxMs < goals.startToReadyMs)}`,
    `  issuance c64 ≥ ${goals.issuanceC64PerSecond}/s: ${f0(c64)}/s ${verdict(c64 >= goals.issuanceC64PerSecond)}` +
      (target.store === 'embedded' ? ' (on the embedded store, not PostgreSQL)' : ''),
    '',
  ]
  process.stdout.write(out.join('\n'))

  const results = {
    date: started.toISOString(),
    node: process.version,
    cores: cpus().length,
    cpuModel,
    loadAverageAtStart: loadAtStart.load1,
    issuanceStore: {
      kind: target.store,
      url: target.store === 'postgres' ? redactUrl(databaseUrl) : undefined,
      poolSize: target.poolSize,
      fallbackReason: target.fallbackReason,
    },
    counts,
    goals,
    startup,
    runs: rows,
    ratios: Object.fromEntries(ratios.map((r) => [r.id, r.value])),
    pass: {
      startToReady: startup.maxMs < goals.startToReadyMs,
      issuanceC64: c64 >= goals.issuanceC64PerSecond,
    },
  }
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  writeFileSync(`${dir}latest.json`, `${JSON.stringify(results, null, 2)}\n`)
  process.stdout.write(`wrote bench/results/latest.json\n`)
}

// `npm run bench -- est`: the EST benchmark (bench/est.ts) instead.
;(process.argv[2] === 'est'
  ? runEstBench()
  : process.argv[2] === 'acme'
    ? runAcmeBench()
    : process.argv[2] === 'scep'
      ? runScepBench()
      : process.argv[2] === 'revocation'
        ? runRevocationBench()
        : main()
).catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  process.exitCode = 1
})
