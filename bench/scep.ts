// `npm run bench -- scep`: SCEP PKCSReq enrollments per second at concurrency 8 through the full CMS path
// (RSA-2048 requester, SHA-256 signature, AES-128-CBC envelope, static challenge, POST) against `enroll serve`, and
// the same load against micromdm's `scepserver` (Debian `scep`) in the same run, both servers up side by side and
// measured in alternating rounds (the ratio is the median of the rounds'). Goal: ≥ 1.5× micromdm.
//
// The messages (CSR, envelope to the server's RA/CA certificate, signature) are built before the clock starts, so
// the figures are the servers' work: unwrap the key, decrypt, verify, issue, store, sign and encrypt the CertRep.
// scepserver listens on all interfaces, so the whole run re-executes itself in a private network namespace
// (`unshare -n`, loopback only). PostgreSQL's TCP port is not reachable from there, but its unix socket is: enroll
// runs on PostgreSQL through that socket (DATABASE_URL …?host=<socket dir>, as on a host with its own PostgreSQL),
// in a fresh schema (the embedded store when there is no local socket). Knobs: BENCH_SCALE (as run.ts),
// BENCH_PG_SOCKET (the PostgreSQL unix socket, default /var/run/postgresql/.s.PGSQL.5432), BENCH_SCEP_PROF=<dir> (a V8 CPU profile of
// the enroll process, node --cpu-prof), BENCH_SCEP_ENROLL_CLI=<path to dist/src/cli/index.js> (serve another build
// of enroll, e.g. an older commit's, against this run's client: A/B comparisons of the server alone).
// Each row also says where the CPU went per enrollment (server process, this load client, PostgreSQL, and the share
// of the host other processes took meanwhile): on a 2-core host the client and PostgreSQL share the CPU with the
// server, so the ratio is only meaningful with "others" near 0.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { x509 } from '../src/pki/x509.js'
import { decodePkiMessage } from '../protocols/scep/codec/pki-message.js'
import { decodeSignedData } from '../protocols/scep/codec/signed-data.js'
import { decodeBer } from '../src/pki/ber.js'
import { cpuSince, hostLoad, processCpuMs, sampleCpu, threadCpuMs, type CpuUsage } from './cpu.js'
import { runPool, type RunResult } from './stats.js'
import { buildPkiMessage, makeRequester, type Requester } from '../test/helpers/scep.js'
import { spawnEnroll } from './enroll-process.js'
import { freePort } from './net.js'

const CONCURRENCY = 8
const ROUNDS = 5
const GOAL_RATIO = 1.5
const CHALLENGE = 'bench-secret'
const scale = Number(process.env['BENCH_SCALE'] ?? 1)
const n = (count: number) => Math.max(1, Math.round(count * scale))
const counts = { warmUp: n(200), run: n(600) }
const cliPath = process.env['BENCH_SCEP_ENROLL_CLI'] || fileURLToPath(new URL('../src/cli/index.js', import.meta.url))
const rsa = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
}

async function waitFor(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`server exited with ${child.exitCode}: ${output()}`)
    try {
      if ((await fetch(url)).status === 200) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not answer ${url}: ${output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

interface Target {
  name: string
  url: string
  pid: number
  stop(): Promise<void>
}

function spawnLogged(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => (out = (out + d).slice(-4000)))
  child.stderr!.on('data', (d) => (out = (out + d).slice(-4000)))
  return { child, output: () => out }
}

const pgSocket = process.env['BENCH_PG_SOCKET'] || '/var/run/postgresql/.s.PGSQL.5432'
const pgSocketMatch = /^(.*)\/\.s\.PGSQL\.(\d+)$/.exec(pgSocket)
if (!pgSocketMatch) throw new Error('BENCH_PG_SOCKET must name a PostgreSQL socket: <dir>/.s.PGSQL.<port>')
const pgUrl = `postgres://postgres@localhost:${pgSocketMatch[2]}/test?host=${pgSocketMatch[1]}`

async function startEnroll(usePostgres: boolean): Promise<Target> {
  const prof = process.env['BENCH_SCEP_PROF']
  const server = await spawnEnroll({
    label: 'bench-scep',
    cliPath,
    nodeArgs: prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : [],
    database: usePostgres ? { url: pgUrl, schema: `bench_scep_${randomBytes(5).toString('hex')}` } : undefined,
    // Embedded: no database from the inherited environment either.
    env: { ENROLL_SCEP_CHALLENGE: CHALLENGE, ...(usePostgres ? {} : { DATABASE_URL: '', ENROLL_DATABASE_URL: '' }) },
  })
  return {
    name: usePostgres ? 'enroll (PostgreSQL)' : 'enroll (embedded store)',
    url: `${server.httpUrl}/scep`,
    pid: server.pid,
    stop: () => server.stop(),
  }
}

async function startMicromdm(): Promise<Target> {
  const depot = join(mkdtempSync(join(tmpdir(), 'enroll-bench-scepserver-')), 'depot')
  const init = spawnSync('scepserver', ['ca', '-init', '-depot', depot, '-keySize', '2048'], {
    encoding: 'utf8',
  })
  if (init.status !== 0) throw new Error(`scepserver ca -init failed: ${init.stderr}`)
  const port = await freePort()
  const { child, output } = spawnLogged(
    'scepserver',
    ['-depot', depot, '-port', String(port), '-challenge', CHALLENGE],
    process.env,
  )
  const url = `http://127.0.0.1:${port}/scep`
  await waitFor(`${url}?operation=GetCACaps`, child, output)
  return {
    name: 'micromdm scepserver',
    url,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM')
      if (child.exitCode === null) await new Promise((done) => child.once('exit', done))
      rmSync(join(depot, '..'), { recursive: true, force: true })
    },
  }
}

/** The certificate to encrypt to: the first of GetCACert (our RA; micromdm's CA). */
async function recipientOf(url: string): Promise<Uint8Array> {
  const r = await fetch(`${url}?operation=GetCACert`)
  const body = new Uint8Array(await r.arrayBuffer())
  if (!(r.headers.get('content-type') ?? '').includes('ra-cert')) return body
  return decodeSignedData(decodeBer(body)).certificates[0]!.slice()
}

/** Requesters, each an RSA-2048 key with a self-signed certificate (TEST ONLY keys, made per run). */
const requesters = (count: number): Promise<Requester[]> =>
  Promise.all(Array.from({ length: count }, (_, i) => makeRequester(`CN=bench requester ${i}`)))

/** A PKCSReq pkiMessage (RFC 8894 §3.2) as a real client builds it: AES-128, SHA-256, challengePassword. */
async function pkcsReq(who: Requester, recipient: Uint8Array, cn: string): Promise<Uint8Array> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys: who.keys,
    signingAlgorithm: rsa,
    attributes: [new x509.ChallengePasswordAttribute(CHALLENGE)],
  })
  return buildPkiMessage({ messageType: 19, data: new Uint8Array(csr.rawData), recipientDer: recipient, signer: who })
}

async function enrollAll(
  target: Target,
  messages: Uint8Array[],
): Promise<RunResult & { refused: number }> {
  let refused = 0
  // undici's Pool rather than fetch: the same keep-alive POSTs for a fraction of the client CPU, which shares the
  // host's cores with the servers measured.
  const url = new URL(`${target.url}?operation=PKIOperation`)
  const pool = new Pool(url.origin, { connections: CONCURRENCY })
  try {
    const result = await runPool(messages.length, CONCURRENCY, async (i) => {
      const r = await pool.request({
        path: url.pathname + url.search,
        method: 'POST',
        body: messages[i]!,
        headers: { 'content-type': 'application/x-pki-message' },
      })
      const body = new Uint8Array(await r.body.arrayBuffer())
      if (r.statusCode !== 200) throw new Error(`${target.name}: HTTP ${r.statusCode}`)
      const reply = decodePkiMessage(body)
      if (reply.pkiStatus !== '0') refused++
    })
    // Only issued certificates count (micromdm's scepserver refuses a few requests under concurrency).
    return { ...result, refused, perSecond: (result.count - refused) / result.seconds }
  } finally {
    await pool.close()
  }
}

interface Measured extends RunResult {
  refused: number
  cpu: CpuUsage
  /** CPU time of the server process during the run, in ms (every thread). */
  serverMs: number | undefined
  /** Share of the run the server's main thread was on a CPU (a single-threaded event loop tops out at 100%). */
  serverMainBusy: number | undefined
  load1: number
}

/** A server under test and the builder of its pkiMessages (enveloped to its RA, or CA). */
interface Prepared {
  target: Target
  build(count: number, tag: string): Promise<Uint8Array[]>
}

async function prepare(target: Target, pool: Requester[]): Promise<Prepared> {
  const recipient = await recipientOf(target.url)
  const build = (count: number, tag: string) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        pkcsReq(pool[i % pool.length]!, recipient, `${tag}-${i}.bench.example.test`),
      ),
    )
  await enrollAll(target, await build(counts.warmUp, 'warm'))
  return { target, build }
}

async function measure({ target, build }: Prepared, count: number, round: number): Promise<Measured> {
  const messages = await build(count, `run${round}`)
  const load1 = hostLoad().load1
  const before = sampleCpu()
  const pid = target.pid
  const serverBefore = processCpuMs(pid)
  const mainBefore = threadCpuMs(pid, pid)
  const r = await enrollAll(target, messages)
  const serverAfter = processCpuMs(pid)
  const mainAfter = threadCpuMs(pid, pid)
  const cpu = cpuSince(before)
  const serverMs = serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore
  // The server is an "other" process to cpu.ts; it is accounted for here.
  const othersShare =
    cpu.othersShare === undefined || serverMs === undefined
      ? undefined
      : Math.max(0, cpu.othersShare - serverMs / (r.seconds * 1000 * hostLoad().cores))
  const serverMainBusy =
    mainBefore === undefined || mainAfter === undefined ? undefined : (mainAfter - mainBefore) / (r.seconds * 1000)
  return { ...r, cpu: { ...cpu, othersShare }, serverMs, serverMainBusy, load1 }
}

const sum = (xs: (number | undefined)[]) => (xs.some((x) => x === undefined) ? undefined : xs.reduce((a: number, x) => a + x!, 0))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!

/** The rounds of one server as one run: totals, rates over the summed time, median p50/p99, worst others share. */
function combine(rounds: Measured[]): Measured {
  const seconds = rounds.reduce((a, r) => a + r.seconds, 0)
  const count = rounds.reduce((a, r) => a + r.count, 0)
  const refused = rounds.reduce((a, r) => a + r.refused, 0)
  const busy = rounds.map((r) => (r.serverMainBusy === undefined ? undefined : r.serverMainBusy * r.seconds))
  const others = rounds.map((r) => r.cpu.othersShare)
  return {
    count,
    concurrency: CONCURRENCY,
    seconds,
    perSecond: (count - refused) / seconds,
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    maxMs: Math.max(...rounds.map((r) => r.maxMs)),
    refused,
    cpu: {
      processMs: rounds.reduce((a, r) => a + r.cpu.processMs, 0),
      postgresMs: sum(rounds.map((r) => r.cpu.postgresMs)),
      othersShare: others.some((o) => o === undefined) ? undefined : Math.max(...(others as number[])),
    },
    serverMs: sum(rounds.map((r) => r.serverMs)),
    serverMainBusy: busy.some((b) => b === undefined) ? undefined : sum(busy)! / seconds,
    load1: rounds[0]!.load1,
  }
}

async function inNamespace(): Promise<void> {
  process.stderr.write('building requesters …\n')
  const pool = await requesters(16)
  const targets: Target[] = []
  try {
    // Both servers run side by side and are measured in alternating rounds: this host's speed drifts by tens of
    // percent within a minute, and one long run of each would measure the drift as much as the servers.
    targets.push(await startEnroll(existsSync(pgSocket)))
    targets.push(await startMicromdm())
    const prepared: Prepared[] = []
    for (const t of targets) prepared.push(await prepare(t, pool))
    const perRound = Math.max(1, Math.round(counts.run / ROUNDS))
    const rounds: Measured[][] = targets.map(() => [])
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write(`round ${round + 1}/${ROUNDS}: ${perRound} PKCSReq at concurrency ${CONCURRENCY} against each …\n`)
      for (const [i, p] of prepared.entries()) rounds[i]!.push(await measure(p, perRound, round))
    }
    report(targets.map((t, i) => ({ name: t.name, r: combine(rounds[i]!), rounds: rounds[i]! })), perRound)
  } finally {
    for (const t of targets) await t.stop()
  }
}

function report(rows: { name: string; r: Measured; rounds: Measured[] }[], perRound: number): void {
  const f = (v: number) => v.toFixed(v >= 100 ? 0 : 1)
  process.stdout.write(
    `SCEP PKCSReq (RSA-2048 requester, AES-128, SHA-256, POST), concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds of ${perRound} enrollments against each\n`,
  )
  process.stdout.write(
    '| server | enrollments/s | answered/s | p50 ms | p99 ms | refused | CPU ms/enrollment: server · client · PostgreSQL | server main thread busy | others | load1 |\n' +
      '|:--|--:|--:|--:|--:|--:|:--|--:|--:|--:|\n',
  )
  const per = (ms: number | undefined, r: Measured) => (ms === undefined ? '-' : (ms / r.count).toFixed(2))
  for (const { name, r } of rows)
    process.stdout.write(
      `| ${name} | ${f(r.perSecond)} | ${f(r.count / r.seconds)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${r.refused} | ` +
        `${per(r.serverMs, r)} · ${per(r.cpu.processMs, r)} · ${per(r.cpu.postgresMs, r)} | ` +
        `${r.serverMainBusy === undefined ? '-' : `${(r.serverMainBusy * 100).toFixed(0)}%`} | ` +
        `${r.cpu.othersShare === undefined ? '-' : `${(r.cpu.othersShare * 100).toFixed(0)}%`} | ${r.load1.toFixed(2)} |\n`,
    )
  process.stdout.write(
    '  enrollments/s counts certificates issued; answered/s counts refusals too (micromdm\'s file depot races on its\n' +
      '  serial file under concurrency and answers FAILURE). p50/p99: median of the rounds; others: the largest share in any round.\n',
  )
  const [ours, theirs] = rows
  if (ours && theirs) {
    const perRoundRatios = ours.rounds.map((r, i) => r.perSecond / theirs.rounds[i]!.perSecond)
    const ratio = median(perRoundRatios)
    process.stdout.write(
      `ratio enroll / micromdm: ${ratio.toFixed(2)} (median of the rounds: ${perRoundRatios.map((x) => x.toFixed(2)).join(', ')}; ` +
        `whole run ${(ours.r.perSecond / theirs.r.perSecond).toFixed(2)}; against micromdm's answers, refusals included, ` +
        `${(ours.r.perSecond / (theirs.r.count / theirs.r.seconds)).toFixed(2)}) · goal ≥ ${GOAL_RATIO}: ${ratio >= GOAL_RATIO ? 'PASS' : 'FAIL'}\n`,
    )
  }
}

/** Re-runs this benchmark inside a private network namespace (loopback only), where scepserver may listen. */
export async function runScepBench(): Promise<void> {
  if (process.env['ENROLL_BENCH_NETNS'] === '1') return inNamespace()
  const script = `ip link set lo up && exec "${process.execPath}" "${fileURLToPath(new URL('./run.js', import.meta.url))}" scep`
  const r = spawnSync('unshare', ['-n', 'sh', '-c', script], {
    stdio: 'inherit',
    env: { ...process.env, ENROLL_BENCH_NETNS: '1' },
  })
  if (r.error || r.status !== 0)
    throw new Error(
      `the benchmark in a private network namespace failed (unshare -n needs root): ${r.error?.message ?? `exit ${r.status}`}`,
    )
}
