// `node dist/bench/profile.js` (after `npm run build`): where the time of one issuance goes.
//   1. wall time per phase at concurrency 1 (no queueing): policy → reserve → sign → parse → complete
//   2. CPU per certificate at concurrency 64, by phase: V8 samples of the main thread attributed to the
//      innermost enroll function, plus the libuv pool (WebCrypto) and the PostgreSQL server processes
//   3. ceilings on this host: the store alone (reserve + complete, no CA), LocalCa.sign alone, parseCsr
// Same knobs as run.ts: BENCH_DATABASE_URL, BENCH_POOL, BENCH_SCALE.
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import type { SignRequest } from '../src/ca/backend.js'
import type { CertificateStore } from '../src/store/index.js'
import type { Core } from '../src/server.js'
import { parseCsr, type ParsedCsr } from '../src/pki/csr.js'
import { newSerial } from '../src/pki/serial.js'
import { localCaSign, signRequestsFor } from './baseline.js'
import { cpuSince, mainThreadCpuMs, sampleCpu } from './cpu.js'
import { profileRun } from './cpu-profile.js'
import { makeCsrs } from './csr.js'
import { issueParsed } from './issuance.js'
import { median, percentile, runPool, type RunResult } from './stats.js'
import { defaultDatabaseUrl, openTarget, redactUrl } from './target.js'

const env = process.env
const databaseUrl = env['BENCH_DATABASE_URL'] || defaultDatabaseUrl
const poolSize = Number(env['BENCH_POOL'] || 16)
if (!Number.isInteger(poolSize) || poolSize <= 0)
  throw new Error('BENCH_POOL must be a positive integer')
const scale = Number(env['BENCH_SCALE'] ?? 1)
const n = (count: number) => Math.max(1, Math.round(count * scale))
const counts = {
  warmUp: n(300),
  phasesC1: n(300),
  profiledC64: n(3000),
  storeOnlyC64: n(3000),
  signOnlyC64: n(2000),
}

const phaseNames = [
  'policy + plan',
  'reserve INSERT (+ round trip)',
  'LocalCa.sign',
  'after signing: validity + fingerprint',
  'complete UPDATE + audit (+ round trip)',
] as const

/** Wraps reserve, sign and complete to timestamp the phase boundaries of sequential (c1) issues. */
function instrument(core: Core) {
  const certs = core.store.certificates
  const backend = core.backends.get('local')!
  const original = {
    reserve: certs.reserve,
    complete: certs.complete,
    sign: backend.sign.bind(backend),
  }
  const marks: number[] = []
  certs.reserve = async (...a: Parameters<CertificateStore['reserve']>) => {
    marks.push(performance.now())
    const r = await original.reserve(...a)
    marks.push(performance.now())
    return r
  }
  backend.sign = async (req: SignRequest) => {
    marks.push(performance.now())
    const r = await original.sign(req)
    marks.push(performance.now())
    return r
  }
  certs.complete = async (...a: Parameters<CertificateStore['complete']>) => {
    marks.push(performance.now())
    const r = await original.complete(...a)
    marks.push(performance.now())
    return r
  }
  return {
    marks,
    restore() {
      Object.assign(certs, { reserve: original.reserve, complete: original.complete })
      backend.sign = original.sign
    },
  }
}

async function phasesAtC1(core: Core, csrs: ParsedCsr[]) {
  const probe = instrument(core)
  const samples: number[][] = phaseNames.map(() => [])
  try {
    for (const csr of csrs) {
      probe.marks.length = 0
      const t0 = performance.now()
      await core.issuance.issue({ csr, protocol: 'admin', requester: 'bench', profile: 'default' })
      const [r0, r1, s0, s1, c0, c1] = probe.marks as [
        number,
        number,
        number,
        number,
        number,
        number,
      ]
      ;[r0 - t0, r1 - r0, s1 - s0, c0 - s1, c1 - c0].forEach((v, i) => samples[i]!.push(v))
    }
  } finally {
    probe.restore()
  }
  return phaseNames.map((name, i) => {
    const sorted = samples[i]!.sort((a, b) => a - b)
    return { name, medianMs: median(sorted), p99Ms: percentile(sorted, 0.99) }
  })
}

/** Phase of a stack frame (see attribute() in cpu-profile.ts); '' passes to the next frame out. */
const bucketFor = (frame: string): string => {
  const [mod, fn] = frame.split('#') as [string, string]
  if (mod === 'pkg:postgres') return 'postgres.js client: encode, socket, decode'
  if (mod === 'pki/key-identifier')
    return 'LocalCa.sign: subject key identifier (asn1 parse + SHA-1)'
  if (mod.startsWith('ca/local/') || mod === 'pki/der') return 'LocalCa.sign: write TBS (DER), sign'
  // An object-model certificate generator resumes after its WebCrypto sign with no enroll frame on the stack.
  if (mod === 'pkg:@peculiar/x509' && fn === 'create')
    return 'LocalCa.sign: @peculiar/x509 generator'
  if (mod === 'pki/csr') return 'parseCsr'
  if (mod.startsWith('policy/')) return 'policy: evaluate'
  if (mod === 'pki/serial') return 'newSerial'
  if (mod.startsWith('store/')) return `store: ${fn} (row mapping, query templates)`
  if (mod === 'issuance/service') {
    if (fn === 'signReserved' || fn === 'fingerprint')
      return 'service: after signing (fingerprint, validity)'
    if (fn === 'signRequestFromRecord' || fn === 'unb64') return 'service: plan → SignRequest'
    return 'service: issue (plan JSON, profile, metrics)'
  }
  return ''
}

/** reserve + complete with a fixed certificate and no CA: the store's ceiling on this host. */
async function storeOnly(core: Core, csrs: ParsedCsr[], concurrency: number) {
  const der = new Uint8Array(randomBytes(600))
  const notBefore = new Date()
  const notAfter = new Date(Date.now() + 90 * 86_400_000)
  return runPool(csrs.length, concurrency, async (i) => {
    const csr = csrs[i]!
    const name = csr.commonName ?? ''
    const record = await core.store.certificates.reserve({
      serial: newSerial(),
      status: 'reserved',
      profile: 'default',
      backendId: 'local',
      protocol: 'admin',
      requester: 'bench',
      subject: `CN=${name}`,
      sans: csr.requestedSans,
      csrDer: csr.der,
      plan: {
        subjectDer: '',
        publicKeyDer: Buffer.from(csr.publicKeyDer).toString('base64'),
        sans: csr.requestedSans,
      },
      notBefore,
      notAfter,
    })
    await core.store.certificates.complete(
      record.id,
      { der, notBefore, notAfter, fingerprintSha256: randomBytes(32).toString('hex') },
      {
        action: 'certificate.issued',
        actor: 'bench',
        protocol: 'admin',
        detail: { profile: 'default' },
      },
    )
  })
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '-')
const pct = (share: number | undefined) =>
  share === undefined ? '-' : `${(100 * share).toFixed(0)}%`
const row = (label: string, value: string, rest = '') =>
  `   ${label.padEnd(58)} ${value.padStart(8)}${rest}`

async function main() {
  const total = counts.warmUp + counts.phasesC1 + counts.profiledC64 + counts.storeOnlyC64
  process.stderr.write(`building ${total} CSRs …\n`)
  const ders = await makeCsrs(total)
  const parsed = await Promise.all(ders.map((d) => parseCsr(d)))
  let offset = 0
  const take = (k: number) => parsed.slice(offset, (offset += k))
  const target = await openTarget(databaseUrl, poolSize)
  const out: string[] = []
  const say = (...lines: string[]) => out.push(...lines)
  const cores = cpus().length
  try {
    const { core } = target
    say(
      target.store === 'postgres'
        ? `store: PostgreSQL ${redactUrl(databaseUrl)}, pool ${target.poolSize}`
        : `store: embedded PGlite (${target.fallbackReason})`,
    )
    await issueParsed(core, take(counts.warmUp), 64)

    const phases = await phasesAtC1(core, take(counts.phasesC1))
    say('', `1. Wall time per phase, concurrency 1 (${counts.phasesC1} issues)     median      p99`)
    for (const p of phases)
      say(row(p.name, `${f2(p.medianMs)} ms`, `  ${f2(p.p99Ms).padStart(6)} ms`))
    say(row('sum of medians', `${f2(phases.reduce((sum, p) => sum + p.medianMs, 0))} ms`))

    const before = sampleCpu()
    const mainBefore = mainThreadCpuMs()
    const { result: run, cpu } = await profileRun(
      () => issueParsed(core, take(counts.profiledC64), 64),
      bucketFor,
    )
    const mainAfter = mainThreadCpuMs()
    const used = cpuSince(before)
    // Samples measure wall time on the JS thread; scaled to its CPU time they stay right when other
    // processes preempt it. Off Linux the sampled time stands in.
    const mainMs =
      mainBefore === undefined || mainAfter === undefined ? cpu.busyMs : mainAfter - mainBefore
    const scaleToCpu = mainMs / cpu.busyMs
    const per = (ms: number) => `${f2(ms / run.count)} ms`
    const otherThreads = Math.max(0, used.processMs - mainMs)
    // The profiler's own work on the JS thread is not the server's: left out of the totals.
    const profilerMs =
      (cpu.buckets.find(([name]) => name === '(the profiler itself)')?.[1] ?? 0) * scaleToCpu
    const mainWithoutProfiler = mainMs - profilerMs
    const totalMs = used.processMs - profilerMs + (used.postgresMs ?? 0)
    say(
      '',
      `2. CPU per certificate, concurrency 64 (${run.count} issues, ${run.perSecond.toFixed(0)}/s ` +
        `while profiled; others took ${pct(used.othersShare)} of the host)`,
    )
    for (const [name, ms] of cpu.buckets.filter(([, ms]) => ms / run.count >= 0.005)) {
      say(row(name, per(ms * scaleToCpu), `  ${((100 * ms) / cpu.busyMs).toFixed(1).padStart(5)}%`))
    }
    say(row('= Node main thread, without the profiler', per(mainWithoutProfiler)))
    say(row('+ Node other threads (GC helpers, libuv pool, profiler)', per(otherThreads)))
    if (used.postgresMs !== undefined)
      say(row('+ PostgreSQL server processes', per(used.postgresMs)))
    say(
      row(
        '= CPU per certificate',
        per(totalMs),
        ` → CPU-bound ceiling on ${cores} cores ≈ ${((cores * 1000 * run.count) / totalMs).toFixed(0)}/s`,
      ),
    )

    say('', '3. Ceilings, concurrency 64                                       ops/s')
    const ceiling = async (label: string, fn: () => Promise<RunResult>) => {
      const c0 = sampleCpu()
      const r = await fn()
      const c = cpuSince(c0)
      const pg = c.postgresMs === undefined ? '' : ` + PostgreSQL ${f2(c.postgresMs / r.count)}`
      say(
        row(label, r.perSecond.toFixed(0), `   CPU/op: Node ${f2(c.processMs / r.count)}${pg} ms`) +
          ` · others ${pct(c.othersShare)}`,
      )
    }
    await ceiling('store only: reserve + complete, no CA', () =>
      storeOnly(core, take(counts.storeOnlyC64), 64),
    )
    const signReqs = signRequestsFor(core.config, parsed.slice(0, counts.signOnlyC64))
    await ceiling('LocalCa.sign only, no store', () => localCaSign(core, signReqs, 64))
    await ceiling('parseCsr only', () => runPool(counts.signOnlyC64, 64, (i) => parseCsr(ders[i]!)))
  } finally {
    await target.close()
  }
  process.stdout.write(`${out.join('\n')}\n`)
}

main().catch((e: unknown) => {
  process.stderr.write(
    `profile failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  )
  process.exitCode = 1
})
