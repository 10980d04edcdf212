// `npm run bench -- revocation`: the OCSP responder and CRL builder of `enroll serve` next to baselines measured in
// the same run (issue 4, "Benchmark"):
//   1. OCSP responses/s for a cached `good` answer (POST, no nonce) at concurrency 64 with wrk, next to a
//      static-bytes Hono handler on @hono/node-server in its own process (the HTTP ceiling), p50/p99 for both, and
//      a static-bytes bare node:http handler (the floor of any Node server's cost per request).
//   2. OCSP p99 with 1,000 vs 1,000,000 certificates in the inventory, every request a distinct CertID (a cache
//      miss: looked up and signed), at concurrency 16, the two servers measured in alternating rounds.
//   3. CRL build time and peak RSS of the server for 100,000 and 1,000,000 revoked entries, next to
//      `openssl ca -gencrl` on as many index.txt `R` lines.
//   4. `openssl ocsp -index … -port` (the reference responder, signing on demand) under the load of 1, with hey
//      (wrk's start-up probe connection leaves that responder spinning), restarted for each run: with a P-256 key
//      like ours (the goal's ratio), with -multi 2, and with an RSA-2048 key; ours and the ceiling under hey too.
// Synthetic inventory rows go straight into `certificates` of each server's fresh schema (SQL generate_series,
// no certificate DER), so the inventory sizes cost seconds, not hours of issuance.
//
// The servers run as their own processes (dist/src/cli/index.js serve); openssl's responder binds every interface,
// so it runs in a private network namespace (unshare -n) with its load generator. Tools: bash bench/setup.sh.
// Knobs: BENCH_DATABASE_URL (PostgreSQL; required here), BENCH_SCALE (multiplies inventory and CRL sizes and
// request counts, e.g. 0.1 for a quick look), BENCH_SECONDS (length of each load run, default 10).
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { Agent, request } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as pkijs from 'pkijs'
import postgres from 'postgres'
import { x509 } from '../src/pki/x509.js'
import { channelName } from '../src/store/index.js'
import { certIdFor, ocspRequest, type CertIdSpec } from '../test/helpers/ocsp.js'
import { processCpuMs, sampleCpu } from './cpu.js'
import { percentile } from './stats.js'
import { spawnEnroll } from './enroll-process.js'
import { defaultDatabaseUrl, postgresClient, redactUrl } from './target.js'
import { freePort } from './net.js'

const env = process.env
const databaseUrl = env['BENCH_DATABASE_URL'] || defaultDatabaseUrl
const scale = Number(env['BENCH_SCALE'] ?? 1)
if (!(scale > 0)) throw new Error('BENCH_SCALE must be a positive number')
const n = (count: number) => Math.max(1, Math.round(count * scale))
const seconds = Number(env['BENCH_SECONDS'] || Math.max(3, Math.round(10 * Math.min(1, scale))))
if (!(seconds > 0)) throw new Error('BENCH_SECONDS must be a positive number')

const LOAD_CONCURRENCY = 64
const MISS_CONCURRENCY = 16
const MISS_ROUNDS = 4
const goals = { vsCeiling: 0.5, vsOpenssl: 4, p99Growth: 1.2, bigCrlSeconds: 20, vsGencrl: 2 }

const small = Math.max(100, n(1000))
const counts = {
  /** Inventory of the small server (1,000): the first tenth revoked, the rest valid. */
  smallInventory: small,
  /** Inventory of the big server during the p99 run (1,000,000): the first crlSmall rows revoked. */
  bigInventory: Math.max(small, n(1_000_000)),
  crlSmall: n(100_000),
  crlBig: n(1_000_000),
  /** Distinct OCSP requests per inventory size in the cache-miss run (two CertID hashes per serial). */
  missRequests: Math.min(2 * small, Math.max(200, n(2000))),
  missWarmUp: 100,
}
counts.crlSmall = Math.min(counts.crlSmall, counts.bigInventory)
counts.crlBig = Math.max(counts.crlBig, counts.crlSmall)

// ── synthetic inventory ──────────────────────────────────────────────────────────────────────────────────────
// Row i: serial = one of 1..7, then 31 hex digits of md5("<seed>:<i>") — 16 octets, positive, no leading zero octet,
// computed identically in SQL and here. Revoked rows: revoked up to 30 days ago, reasons cycling through none,
// keyCompromise, affiliationChanged, superseded, cessationOfOperation (the same in the openssl index).
const seed = randomBytes(8).toString('hex')
const serialOf = (i: number) =>
  `${1 + (i % 7)}${createHash('md5').update(`${seed}:${i}`).digest('hex').slice(1)}`
const REASONS = [null, 1, 3, 4, 5] as const
const OPENSSL_REASON: Record<number, string> = {
  1: 'keyCompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
}
const t0 = new Date(Math.floor(Date.now() / 1000) * 1000)
const revokedAtOf = (i: number) => new Date(t0.getTime() - (i % 2_592_000) * 1000)
const notAfter = new Date(t0.getTime() + 60 * 86_400_000)

type Sql = postgres.Sql

async function insertRows(
  sql: Sql,
  schema: string,
  from: number,
  to: number,
  status: 'valid' | 'revoked',
) {
  const started = performance.now()
  for (let lo = from; lo < to; lo += 250_000) {
    const hi = Math.min(to, lo + 250_000)
    await sql`
      insert into ${sql(schema)}.certificates
        (serial, status, profile, backend_id, protocol, requester, subject, plan, not_before, not_after, issued_at,
         revoked_at, revocation_reason)
      select (1 + i % 7)::text || substr(md5(${seed} || ':' || i), 2), ${status}, 'default', 'local', 'bench',
             'bench:synthetic', 'CN=bench-' || i, '{}'::jsonb, ${t0}::timestamptz - interval '30 days', ${notAfter},
             ${t0}::timestamptz - interval '30 days',
             case when ${status} = 'revoked' then ${t0}::timestamptz - (i % 2592000) * interval '1 second' end,
             case when ${status} = 'revoked' then (array[null, 1, 3, 4, 5]::smallint[])[1 + i % 5] end
      from generate_series(${lo}::int, ${hi - 1}::int) as i`
  }
  await sql.unsafe(`vacuum analyze "${schema}".certificates`)
  return (performance.now() - started) / 1000
}

// ── processes ────────────────────────────────────────────────────────────────────────────────────────────────
const staticServerPath = fileURLToPath(new URL('./static-ocsp.js', import.meta.url))

interface Server {
  label: string
  schema: string
  pid: number
  httpPort: number
  /** DER of the issuing CA certificate (CertIDs are built from it). */
  caDer: Uint8Array
  stop(): Promise<void>
}

/** `enroll serve` on a fresh data dir and PostgreSQL schema (dropped by stop). */
async function startServer(label: string): Promise<Server> {
  const schema = `bench_rev_${randomBytes(5).toString('hex')}`
  const server = await spawnEnroll({ label: 'bench-revocation', database: { url: databaseUrl, schema } })
  try {
    const caDer = new Uint8Array(
      new x509.X509Certificate(readFileSync(join(server.dataDir, 'ca.pem'), 'utf8')).rawData,
    )
    return { label, schema, pid: server.pid, httpPort: server.httpPort, caDer, stop: () => server.stop() }
  } catch (e) {
    await server.stop()
    throw e
  }
}

/** The static-bytes ceiling (bench/static-ocsp.ts) in its own process. */
async function startStaticServer(
  dir: string,
  response: Uint8Array,
  headers: Record<string, string>,
  stack: 'hono' | 'node',
) {
  const port = await freePort()
  writeFileSync(join(dir, 'static-response.der'), response)
  writeFileSync(join(dir, 'static-headers.json'), JSON.stringify(headers))
  const child = spawn(
    process.execPath,
    [
      staticServerPath,
      join(dir, 'static-response.der'),
      join(dir, 'static-headers.json'),
      String(port),
      stack,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const exited = new Promise((done) => child.once('exit', done))
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM')
    await exited
  }
  await new Promise<void>((done, fail) => {
    child.stdout!.once('data', () => done())
    child.once('exit', (code) => fail(new Error(`static server exited ${code}`)))
  })
  return { port, pid: child.pid!, stop }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Runs a command to completion in its own process group; stdout and stderr as text. Past `timeoutMs` the whole
 * group is killed (a stuck reference responder must not outlive the bench).
 */
function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => (stdout += d))
    child.stderr!.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      stderr += `\nkilled after ${options.timeoutMs} ms`
      process.kill(-child.pid!, 'SIGKILL')
    }, options.timeoutMs ?? 600_000)
    child.once('error', (e) => {
      clearTimeout(timer)
      fail(e)
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      done({ code, stdout, stderr })
    })
  })
}

function openssl(args: string[], cwd: string): string {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** /proc/<pid>/status field in MiB (VmRSS, VmHWM). */
function procMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  )
  return m ? Number(m[1]) / 1024 : Number.NaN
}

// ── OCSP over HTTP ───────────────────────────────────────────────────────────────────────────────────────────
const OCSP_PATH = '/.well-known/pki/ocsp'

/** certStatus of the first SingleResponse: good, revoked or unknown; throws on an unsuccessful OCSPResponse. */
function certStatusOf(der: Uint8Array<ArrayBuffer>): 'good' | 'revoked' | 'unknown' {
  const resp = pkijs.OCSPResponse.fromBER(der)
  if (resp.responseStatus.valueBlock.valueDec !== 0 || !resp.responseBytes) {
    throw new Error(`OCSP responseStatus ${resp.responseStatus.valueBlock.valueDec}`)
  }
  const basic = pkijs.BasicOCSPResponse.fromBER(
    resp.responseBytes.response.valueBlock.valueHexView.slice(),
  )
  const tag = (basic.tbsResponseData.responses[0]?.certStatus as { idBlock: { tagNumber: number } })
    .idBlock.tagNumber
  return (['good', 'revoked', 'unknown'] as const)[tag] ?? 'unknown'
}

/** One POST with node:http; the response body, which must be a 200 successful OCSPResponse. */
function postOcsp(agent: Agent, port: number, body: Uint8Array): Promise<Buffer> {
  return new Promise((done, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: OCSP_PATH,
        agent,
        headers: { 'Content-Type': 'application/ocsp-request', 'Content-Length': body.byteLength },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const der = Buffer.concat(chunks)
          // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, … }: the status follows the outer header.
          const at = der[1]! < 0x80 ? 2 : 2 + (der[1]! & 0x7f)
          if (res.statusCode !== 200 || der[at] !== 0x0a || der[at + 2] !== 0) {
            fail(new Error(`OCSP answered HTTP ${res.statusCode}, responseStatus ${der[at + 2]}`))
          } else done(der)
        })
      },
    )
    req.on('error', fail)
    req.end(body)
  })
}

interface OcspRuns {
  ceilingWrk: LoadRun
  oursWrk: LoadRun
  floorWrk: LoadRun
  ceilingHey: LoadRun
  oursHey: LoadRun
  floorHey: LoadRun
  openssl?: LoadRun
  opensslMulti?: LoadRun
  opensslRsa?: LoadRun
}

interface LoadRun {
  label: string
  tool: 'wrk' | 'hey'
  seconds: number
  requests: number
  perSecond: number
  p50Ms: number
  p99Ms: number
  /** Socket errors, timeouts and non-200 answers. */
  errors: number
  serverCpuMs: number | undefined
  clientCpuMs: number | undefined
  /** Share of the host's CPU taken by processes other than server, client and PostgreSQL meanwhile. */
  othersShare: number | undefined
  load1: number
}

/** Accounts CPU around a load run: host, this process, PostgreSQL and the given server processes. */
function cpuMeter(serverPids: number[]) {
  const before = sampleCpu()
  const serverBefore = serverPids.map((p) => processCpuMs(p) ?? 0)
  return (clientCpuMs: number | undefined, serverCpuMs?: number) => {
    const after = sampleCpu()
    serverCpuMs ??= serverPids.reduce((s, p, i) => s + (processCpuMs(p) ?? 0) - serverBefore[i]!, 0)
    const hostMs =
      after.hostBusyUs === undefined || before.hostBusyUs === undefined
        ? undefined
        : (after.hostBusyUs - before.hostBusyUs) / 1000
    let pgMs = 0
    for (const [pid, end] of after.postgresUs ?? [])
      pgMs += Math.max(0, end - (before.postgresUs?.get(pid) ?? 0)) / 1000
    const selfMs = (after.processUs - before.processUs) / 1000
    const capacityMs = (after.at - before.at) * cpus().length
    return {
      serverCpuMs,
      othersShare:
        hostMs === undefined
          ? undefined
          : Math.max(0, hostMs - selfMs - pgMs - serverCpuMs - (clientCpuMs ?? 0)) / capacityMs,
    }
  }
}

/** "BENCH_CPU <user s> <sys s>" from /usr/bin/time, in ms. */
function timeCpuMs(text: string): number | undefined {
  const m = /BENCH_CPU ([\d.]+) ([\d.]+)/.exec(text)
  return m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined
}

const WRK_SCRIPT = `
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_RESULT {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
`

async function wrk(
  dir: string,
  label: string,
  url: string,
  bodyFile: string,
  secs: number,
  serverPids: number[],
) {
  const script = join(dir, 'post.lua')
  if (!existsSync(script)) writeFileSync(script, WRK_SCRIPT)
  const load1 = loadavg()[0]!
  const meter = cpuMeter(serverPids)
  const out = await run(
    '/usr/bin/time',
    [
      '-f',
      'BENCH_CPU %U %S',
      'wrk',
      '-t1',
      `-c${LOAD_CONCURRENCY}`,
      `-d${secs}s`,
      '--timeout',
      '10s',
      '-s',
      script,
      url,
    ],
    { env: { ...env, BENCH_BODY: bodyFile }, timeoutMs: (secs + 60) * 1000 },
  )
  const m = /BENCH_RESULT (\{.*\})/.exec(out.stdout)
  if (out.code !== 0 || !m) throw new Error(`wrk failed (${out.code}): ${out.stdout}${out.stderr}`)
  const r = JSON.parse(m[1]!) as {
    requests: number
    durationUs: number
    p50Us: number
    p99Us: number
    errors: number
  }
  const clientCpuMs = timeCpuMs(out.stderr)
  const run_: LoadRun = {
    label,
    tool: 'wrk',
    seconds: r.durationUs / 1e6,
    requests: r.requests,
    perSecond: r.requests / (r.durationUs / 1e6),
    p50Ms: r.p50Us / 1000,
    p99Ms: r.p99Us / 1000,
    errors: r.errors,
    clientCpuMs,
    ...meter(clientCpuMs),
    load1,
  }
  return run_
}

function parseHey(
  label: string,
  text: string,
  load1: number,
): Omit<LoadRun, 'serverCpuMs' | 'clientCpuMs' | 'othersShare'> {
  const num = (re: RegExp) => {
    const m = re.exec(text)
    if (!m) throw new Error(`hey output without ${re}: ${text}`)
    return Number(m[1])
  }
  let ok = 0
  let errors = 0
  for (const m of text.matchAll(/^\s+\[(\d+)\]\s+(\d+) responses/gm)) {
    if (m[1] === '200') ok += Number(m[2])
    else errors += Number(m[2])
  }
  const errorSection = text.split('Error distribution:')[1]
  for (const m of errorSection?.matchAll(/^\s+\[(\d+)\]/gm) ?? []) errors += Number(m[1])
  const total = num(/Total:\s+([\d.]+) secs/)
  return {
    label,
    tool: 'hey',
    seconds: total,
    requests: ok,
    perSecond: ok / total,
    p50Ms: num(/50%+ in ([\d.]+) secs/) * 1000,
    p99Ms: num(/99%+ in ([\d.]+) secs/) * 1000,
    errors,
    load1,
  }
}

const heyArgs = (url: string, bodyFile: string, secs: number) => [
  '-z',
  `${secs}s`,
  '-c',
  String(LOAD_CONCURRENCY),
  '-m',
  'POST',
  '-T',
  'application/ocsp-request',
  '-D',
  bodyFile,
  url,
]

async function hey(
  label: string,
  url: string,
  bodyFile: string,
  secs: number,
  serverPids: number[],
): Promise<LoadRun> {
  const load1 = loadavg()[0]!
  const meter = cpuMeter(serverPids)
  const out = await run(
    '/usr/bin/time',
    ['-f', 'BENCH_CPU %U %S', 'hey', ...heyArgs(url, bodyFile, secs)],
    {
      timeoutMs: (secs + 60) * 1000,
    },
  )
  if (out.code !== 0) throw new Error(`hey failed (${out.code}): ${out.stdout}${out.stderr}`)
  const clientCpuMs = timeCpuMs(out.stderr)
  return { ...parseHey(label, out.stdout, load1), clientCpuMs, ...meter(clientCpuMs) }
}

// The reference responder in a private network namespace (it binds every interface), with hey beside it: wait until
// it answers a real request (a bare connect would leave it spinning), load it, report its CPU, stop it.
const OPENSSL_RESPONDER_SCRIPT = `
set -eu
ip link set lo up
openssl ocsp -index "$IDX" -CA "$CA" -rsigner "$RCERT" -rkey "$RKEY" -resp_key_id -ndays 1 -port "$PORT" $MULTI \\
  >/dev/null 2>"$LOG" &
pid=$!
# With -multi, the parent waits on its workers and only notices SIGTERM once one exits: signal them all together.
stop() { kill $pid $(cat /proc/$pid/task/*/children 2>/dev/null) 2>/dev/null || true; wait $pid 2>/dev/null || true; }
trap stop EXIT
tries=0
until openssl ocsp -reqin "$REQ" -url "http://127.0.0.1:$PORT/" -noverify -resp_text 2>/dev/null | grep -q 'Cert Status: good'; do
  tries=$((tries + 1))
  [ $tries -gt 100 ] && { echo "openssl ocsp did not answer" >&2; exit 1; }
  sleep 0.1
done
/usr/bin/time -f 'BENCH_CPU %U %S' hey $HEY_ARGS
ticks=0
for p in $pid $(cat /proc/$pid/task/*/children 2>/dev/null); do
  set -- $(cut -d' ' -f14,15 /proc/$p/stat)
  ticks=$((ticks + $1 + $2))
done
echo "BENCH_SERVER_TICKS $ticks"
`

async function opensslResponder(
  label: string,
  ca: OpensslCa,
  secs: number,
  multi: number | undefined,
): Promise<LoadRun> {
  const reqFile = ca.goodRequest
  const port = 18_000 + Math.floor(Math.random() * 2000) // its own namespace: nothing else listens there
  const load1 = loadavg()[0]!
  const meter = cpuMeter([])
  const url = `http://127.0.0.1:${port}/`
  const out = await run('unshare', ['-n', 'sh', '-c', OPENSSL_RESPONDER_SCRIPT], {
    cwd: ca.dir,
    timeoutMs: (secs + 60) * 1000,
    env: {
      ...env,
      IDX: ca.ocspIndex,
      CA: ca.certFile,
      RCERT: ca.responderCert,
      RKEY: ca.responderKey,
      PORT: String(port),
      MULTI: multi ? `-multi ${multi}` : '',
      LOG: join(ca.dir, 'responder.log'),
      REQ: reqFile,
      HEY_ARGS: heyArgs(url, reqFile, secs).join(' '),
    },
  })
  if (out.code !== 0)
    throw new Error(`openssl responder run failed (${out.code}): ${out.stdout}${out.stderr}`)
  const ticks = /BENCH_SERVER_TICKS (\d+)/.exec(out.stdout)
  const clientCpuMs = timeCpuMs(out.stderr)
  const serverCpuMs = ticks ? Number(ticks[1]) * 10 : undefined
  return {
    ...parseHey(label, out.stdout, load1),
    clientCpuMs,
    ...meter(clientCpuMs, serverCpuMs ?? 0),
    serverCpuMs,
  }
}

// ── openssl CA (responder and gencrl baselines) ──────────────────────────────────────────────────────────────
interface OpensslCa {
  dir: string
  certFile: string
  certDer: Uint8Array
  responderCert: string
  responderKey: string
  ocspIndex: string
  /** A nonce-less request for a valid serial of the index, as for our server. */
  goodRequest: string
}

/** YYMMDDHHMMSSZ, as in an openssl CA database. */
const utcTime = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'

function indexLine(i: number, status: 'V' | 'R'): string {
  const serial = serialOf(i).toUpperCase()
  if (status === 'V') return `V\t${utcTime(notAfter)}\t\t${serial}\tunknown\t/CN=bench-${i}\n`
  const reason = REASONS[i % 5]
  const revoked = `${utcTime(revokedAtOf(i))}${reason === null ? '' : `,${OPENSSL_REASON[reason]}`}`
  return `R\t${utcTime(notAfter)}\t${revoked}\t${serial}\tunknown\t/CN=bench-${i}\n`
}

/** An index.txt of `count` lines, built in slices; `statusOf(i)` says V or R. */
function writeIndex(path: string, count: number, statusOf: (i: number) => 'V' | 'R') {
  writeFileSync(path, '')
  for (let lo = 0; lo < count; lo += 100_000) {
    const lines: string[] = []
    for (let i = lo; i < Math.min(count, lo + 100_000); i++) lines.push(indexLine(i, statusOf(i)))
    appendFileSync(path, lines.join(''))
  }
}

/**
 * A CA and a delegated OCSP responder certificate made with openssl, with the OCSP index of the 1k inventory: keys
 * ECDSA P-256 like the local CA's default and our responder, or RSA-2048 (what the PEERS.md baseline suggests).
 */
function makeOpensslCa(dir: string, key: 'P-256' | 'RSA-2048', revokedBelow: number): OpensslCa {
  mkdirSync(dir)
  const ec =
    key === 'P-256'
      ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']
      : ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
  openssl(['genpkey', ...ec, '-out', 'ca.key'], dir)
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/CN=openssl bench CA',
      '-days',
      '30',
      '-out',
      'ca.pem',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  )
  openssl(['genpkey', ...ec, '-out', 'ocsp.key'], dir)
  openssl(
    [
      'req',
      '-new',
      '-key',
      'ocsp.key',
      '-subj',
      '/CN=openssl bench OCSP responder',
      '-out',
      'ocsp.csr',
    ],
    dir,
  )
  writeFileSync(
    join(dir, 'ocsp.ext'),
    'extendedKeyUsage=critical,OCSPSigning\nnoCheck=ignored\nkeyUsage=critical,digitalSignature\n',
  )
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'ocsp.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'ocsp.ext',
      '-out',
      'ocsp.pem',
    ],
    dir,
  )
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = bench',
      '[bench]',
      'database = gencrl-index.txt',
      'crlnumber = crlnumber',
      'certificate = ca.pem',
      'private_key = ca.key',
      'default_md = sha256',
      'default_crl_days = 1',
      'unique_subject = no',
      'crl_extensions = crl_ext',
      '[crl_ext]',
      'authorityKeyIdentifier = keyid:always',
      '',
    ].join('\n'),
  )
  const ocspIndex = join(dir, 'ocsp-index.txt')
  writeIndex(ocspIndex, counts.smallInventory, (i) => (i < revokedBelow ? 'R' : 'V'))
  writeFileSync(`${ocspIndex}.attr`, 'unique_subject = no\n')
  const certFile = join(dir, 'ca.pem')
  const certDer = new Uint8Array(new x509.X509Certificate(readFileSync(certFile, 'utf8')).rawData)
  const goodRequest = join(dir, 'good-request.der')
  writeFileSync(goodRequest, ocspRequest([certIdFor(certDer, serialOf(revokedBelow))]))
  return {
    dir,
    certFile,
    certDer,
    responderCert: join(dir, 'ocsp.pem'),
    responderKey: join(dir, 'ocsp.key'),
    ocspIndex,
    goodRequest,
  }
}

interface CrlRun {
  entries: number
  builder: string
  seconds: number
  peakRssMiB: number
  /** RSS of the process when the build started (the server's baseline; 0 for openssl, which starts fresh). */
  startRssMiB: number
  bytes: number
  load1: number
}

/** `openssl ca -gencrl` over an index of `count` R lines: wall time and peak RSS (GNU time). */
async function opensslGencrl(ca: OpensslCa, count: number): Promise<CrlRun> {
  writeIndex(join(ca.dir, 'gencrl-index.txt'), count, () => 'R')
  writeFileSync(join(ca.dir, 'gencrl-index.txt.attr'), 'unique_subject = no\n')
  writeFileSync(join(ca.dir, 'crlnumber'), '1000\n')
  const load1 = loadavg()[0]!
  const started = performance.now()
  const out = await run(
    '/usr/bin/time',
    [
      '-f',
      'BENCH_TIME %M',
      'openssl',
      'ca',
      '-gencrl',
      '-batch',
      '-config',
      'ca.cnf',
      '-out',
      'crl.pem',
    ],
    { cwd: ca.dir },
  )
  const secs = (performance.now() - started) / 1000
  const m = /BENCH_TIME (\d+)/.exec(out.stderr)
  if (out.code !== 0 || !m) throw new Error(`openssl ca -gencrl failed: ${out.stderr}`)
  const bytes = statSync(join(ca.dir, 'crl.pem')).size
  rmSync(join(ca.dir, 'gencrl-index.txt'))
  rmSync(join(ca.dir, 'crl.pem'))
  return {
    entries: count,
    builder: 'openssl ca -gencrl (PEM out)',
    seconds: secs,
    peakRssMiB: Number(m[1]) / 1024,
    startRssMiB: 0,
    bytes,
    load1,
  }
}

/**
 * A complete CRL built by the server: the stored CRL is dropped and the other instances (here, the server)
 * told so, then GET /.well-known/pki/crl/local streams the revoked rows, encodes, signs, stores and serves it.
 * Peak RSS is the server's VmHWM, reset just before (clear_refs 5).
 */
async function serverCrl(server: Server, sql: Sql, expected: number): Promise<CrlRun> {
  await sql`delete from ${sql(server.schema)}.crls where backend_id = 'local'`
  await sql`select pg_notify(${channelName('enroll_crl', server.schema)}, 'local:-1:full')`
  await sleep(500) // the notification reaches the server's LISTEN connection
  const startRssMiB = procMiB(server.pid, 'VmRSS')
  writeFileSync(`/proc/${server.pid}/clear_refs`, '5')
  const load1 = loadavg()[0]!
  const started = performance.now()
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/.well-known/pki/crl/local`)
  const der = new Uint8Array(await res.arrayBuffer())
  const secs = (performance.now() - started) / 1000
  const peakRssMiB = procMiB(server.pid, 'VmHWM')
  if (res.status !== 200) throw new Error(`GET /crl/local answered ${res.status}`)
  const [row] = await sql<{ entries: number }[]>`
    select entries from ${sql(server.schema)}.crls where backend_id = 'local' and shard = -1 and kind = 'full'`
  if (row?.entries !== expected)
    throw new Error(`CRL lists ${row?.entries} entries, expected ${expected}`)
  return {
    entries: expected,
    builder: 'enroll serve: GET /crl/local (build, sign, store, serve)',
    seconds: secs,
    peakRssMiB,
    startRssMiB,
    bytes: der.byteLength,
    load1,
  }
}

// ── cache misses against two inventory sizes ─────────────────────────────────────────────────────────────────
function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}

/** `count` distinct integers in [0, range), in random order. */
function sample(range: number, count: number): number[] {
  if (count * 2 >= range) return shuffle(Array.from({ length: range }, (_, i) => i)).slice(0, count)
  const picked = new Set<number>()
  while (picked.size < count) picked.add(Math.floor(Math.random() * range))
  return [...picked]
}

/** Distinct nonce-less requests: each sampled serial once with a SHA-1 and once with a SHA-256 CertID. */
function missRequests(caDer: Uint8Array, range: number, count: number): Uint8Array[] {
  const specs: CertIdSpec[] = []
  for (const i of sample(range, Math.ceil(count / 2))) {
    specs.push(certIdFor(caDer, serialOf(i), 'sha1'), certIdFor(caDer, serialOf(i), 'sha256'))
  }
  return shuffle(specs.slice(0, count)).map((s) => ocspRequest([s]))
}

/** POSTs `bodies` over `concurrency` keep-alive connections; per-request latencies in ms. */
async function timedPosts(agent: Agent, port: number, bodies: Uint8Array[], concurrency: number) {
  const latencies: number[] = []
  let next = 0
  const worker = async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const started = performance.now()
      await postOcsp(agent, port, bodies[i]!)
      latencies.push(performance.now() - started)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { latencies, seconds: (performance.now() - started) / 1000 }
}

interface MissRun {
  inventory: number
  requests: number
  perSecond: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  serverCpuMsPerRequest: number
}

/**
 * Cache-miss latency of two servers in alternating rounds (ABBA…), so load from elsewhere on the host falls on
 * both alike. Before that, a warm-up of nonce requests (never cached) on each.
 */
async function missLatency(servers: { server: Server; inventory: number }[]): Promise<MissRun[]> {
  const state = servers.map(({ server, inventory }) => ({
    server,
    inventory,
    agent: new Agent({ keepAlive: true, maxSockets: MISS_CONCURRENCY }),
    bodies: missRequests(server.caDer, inventory, counts.missRequests),
    latencies: [] as number[],
    seconds: 0,
    cpuMs: 0,
  }))
  try {
    for (const s of state) {
      const warm = sample(s.inventory, counts.missWarmUp).map((i) =>
        ocspRequest([certIdFor(s.server.caDer, serialOf(i))], randomBytes(16)),
      )
      await timedPosts(s.agent, s.server.httpPort, warm, MISS_CONCURRENCY)
    }
    const per = Math.ceil(counts.missRequests / MISS_ROUNDS)
    for (let round = 0; round < MISS_ROUNDS; round++) {
      const order = round % 2 ? [...state].reverse() : state
      for (const s of order) {
        const cpuBefore = processCpuMs(s.server.pid) ?? 0
        const r = await timedPosts(
          s.agent,
          s.server.httpPort,
          s.bodies.slice(round * per, (round + 1) * per),
          MISS_CONCURRENCY,
        )
        s.cpuMs += (processCpuMs(s.server.pid) ?? 0) - cpuBefore
        s.latencies.push(...r.latencies)
        s.seconds += r.seconds
      }
    }
  } finally {
    for (const s of state) s.agent.destroy()
  }
  return state.map((s) => {
    const sorted = Float64Array.from(s.latencies).sort()
    return {
      inventory: s.inventory,
      requests: sorted.length,
      perSecond: sorted.length / s.seconds,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      serverCpuMsPerRequest: s.cpuMs / sorted.length,
    }
  })
}

// ── the run ──────────────────────────────────────────────────────────────────────────────────────────────────
function preflight() {
  const missing = ['wrk', 'hey', 'openssl', 'unshare', 'ip'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
  )
  if (!existsSync('/usr/bin/time')) missing.push('/usr/bin/time')
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run bash bench/setup.sh`)
}

const progress = (s: string) => process.stderr.write(`${s}\n`)
const fmtLoad = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' / ')

export async function runRevocationBench(): Promise<void> {
  preflight()
  const started = new Date()
  const loadAtStart = fmtLoad()
  const dir = mkdtempSync(join(tmpdir(), 'enroll-bench-revocation-'))
  const sql = postgresClient(databaseUrl, { max: 2 })
  const servers: Server[] = []
  const stops: (() => Promise<void>)[] = []
  const inserts: { what: string; rows: number; seconds: number }[] = []
  try {
    progress(`load average ${loadAtStart}; starting two enroll serve processes …`)
    const [s1, s2] = await Promise.all([startServer('1k'), startServer('big')])
    servers.push(s1, s2)
    const revokedSmall = Math.floor(counts.smallInventory / 10)
    progress('synthetic inventories …')
    inserts.push(
      {
        what: `${revokedSmall} revoked (1k server)`,
        rows: revokedSmall,
        seconds: await insertRows(sql, s1.schema, 0, revokedSmall, 'revoked'),
      },
      {
        what: `${counts.smallInventory - revokedSmall} valid (1k server)`,
        rows: counts.smallInventory - revokedSmall,
        seconds: await insertRows(sql, s1.schema, revokedSmall, counts.smallInventory, 'valid'),
      },
      {
        what: `${counts.crlSmall} revoked (big server)`,
        rows: counts.crlSmall,
        seconds: await insertRows(sql, s2.schema, 0, counts.crlSmall, 'revoked'),
      },
    )

    // 1. cached good: our answer, its exact bytes and headers behind a static handler, both under wrk.
    const goodRequest = ocspRequest([certIdFor(s1.caDer, serialOf(revokedSmall))])
    const goodFile = join(dir, 'good-request.der')
    writeFileSync(goodFile, goodRequest)
    const ocspUrl = `http://127.0.0.1:${s1.httpPort}${OCSP_PATH}`
    const first = await fetch(ocspUrl, {
      method: 'POST',
      body: goodRequest,
      headers: { 'Content-Type': 'application/ocsp-request' },
    })
    const response = new Uint8Array(await first.arrayBuffer())
    if (certStatusOf(response) !== 'good')
      throw new Error('the cached request is not answered good')
    const headers: Record<string, string> = {}
    first.headers.forEach((v, k) => {
      if (!['date', 'content-length', 'connection', 'keep-alive', 'transfer-encoding'].includes(k))
        headers[k] = v
    })
    const staticServer = await startStaticServer(dir, response, headers, 'hono')
    stops.push(staticServer.stop)
    const nodeServer = await startStaticServer(dir, response, headers, 'node')
    stops.push(nodeServer.stop)
    const staticUrl = `http://127.0.0.1:${staticServer.port}${OCSP_PATH}`
    const nodeUrl = `http://127.0.0.1:${nodeServer.port}${OCSP_PATH}`
    progress(`OCSP cached good vs static ceiling, wrk c${LOAD_CONCURRENCY}, ${seconds} s each …`)
    await wrk(dir, 'warm-up', staticUrl, goodFile, 2, [])
    await wrk(dir, 'warm-up', nodeUrl, goodFile, 2, [])
    await wrk(dir, 'warm-up', ocspUrl, goodFile, 2, [])
    const ceiling = 'static-bytes Hono handler (ceiling)'
    const floor = 'static-bytes bare node:http handler'
    const ours = 'enroll serve OCSP, cached good'
    const ocsp: OcspRuns = {
      ceilingWrk: await wrk(dir, ceiling, staticUrl, goodFile, seconds, [staticServer.pid]),
      oursWrk: await wrk(dir, ours, ocspUrl, goodFile, seconds, [s1.pid]),
      floorWrk: await wrk(dir, floor, nodeUrl, goodFile, seconds, [nodeServer.pid]),
      // 4. the same three under hey, then the reference responder (same inventory, same request shape) under hey.
      ceilingHey: await hey(ceiling, staticUrl, goodFile, seconds, [staticServer.pid]),
      oursHey: await hey(ours, ocspUrl, goodFile, seconds, [s1.pid]),
      floorHey: await hey(floor, nodeUrl, goodFile, seconds, [nodeServer.pid]),
    }
    await staticServer.stop()
    await nodeServer.stop()
    progress(`openssl ocsp responders, hey c${LOAD_CONCURRENCY} …`)
    const ca = makeOpensslCa(join(dir, 'openssl-p256'), 'P-256', revokedSmall)
    const rsaCa = makeOpensslCa(join(dir, 'openssl-rsa'), 'RSA-2048', revokedSmall)
    ocsp.openssl = await opensslResponder(
      'openssl ocsp -index, P-256 responder key',
      ca,
      seconds,
      undefined,
    )
    ocsp.opensslMulti = await opensslResponder(
      'openssl ocsp -index -multi 2, P-256',
      ca,
      seconds,
      2,
    )
    ocsp.opensslRsa = await opensslResponder(
      'openssl ocsp -index, RSA-2048 responder key',
      rsaCa,
      seconds,
      undefined,
    )
    for (const r of Object.values(ocsp))
      progress(
        `  ${r.label} (${r.tool}): ${r.perSecond.toFixed(0)}/s, p99 ${r.p99Ms.toFixed(1)} ms`,
      )

    // 3a. CRL of crlSmall entries.
    progress(`CRL build, ${counts.crlSmall} entries …`)
    const crlRuns: CrlRun[] = []
    crlRuns.push(await serverCrl(s2, sql, counts.crlSmall))
    crlRuns.push(await opensslGencrl(ca, counts.crlSmall))

    // 2. the big inventory: the rest valid, then cache misses against both servers in alternating rounds.
    progress(`inventory of ${counts.bigInventory} …`)
    inserts.push({
      what: `${counts.bigInventory - counts.crlSmall} valid (big server)`,
      rows: counts.bigInventory - counts.crlSmall,
      seconds: await insertRows(sql, s2.schema, counts.crlSmall, counts.bigInventory, 'valid'),
    })
    progress(`OCSP cache misses, ${counts.missRequests} per inventory, c${MISS_CONCURRENCY} …`)
    const loadBeforeMiss = loadavg()[0]!
    const missMeter = cpuMeter([s1.pid, s2.pid])
    const missRuns = await missLatency([
      { server: s1, inventory: counts.smallInventory },
      { server: s2, inventory: counts.bigInventory },
    ])
    const missOthersShare = missMeter(0).othersShare

    // 3b. CRL of crlBig entries: more revoked rows beside the valid ones.
    progress(`CRL build, ${counts.crlBig} entries …`)
    const extra = counts.crlBig - counts.crlSmall
    inserts.push({
      what: `${extra} revoked (big server)`,
      rows: extra,
      seconds: await insertRows(
        sql,
        s2.schema,
        counts.bigInventory,
        counts.bigInventory + extra,
        'revoked',
      ),
    })
    crlRuns.push(await serverCrl(s2, sql, counts.crlBig))
    crlRuns.push(await opensslGencrl(ca, counts.crlBig))

    report({
      started,
      loadAtStart,
      ocsp: ocsp as Required<OcspRuns>,
      missRuns,
      loadBeforeMiss,
      missOthersShare,
      crlRuns,
      inserts,
      responseBytes: response.byteLength,
    })
  } finally {
    for (const stop of stops) await stop().catch(() => {})
    for (const s of servers)
      await s.stop().catch((e: unknown) => progress(`stopping ${s.label}: ${String(e)}`))
    await sql.end({ timeout: 5 })
    rmSync(dir, { recursive: true, force: true })
  }
}

// ── report ───────────────────────────────────────────────────────────────────────────────────────────────────
function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (r: string[]) =>
    `| ${r.map((s, c) => (c ? s.padStart(widths[c]!) : s.padEnd(widths[c]!))).join(' | ')} |`
  const rule = `|${widths.map((w, c) => (c ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`
  return [line(headers), rule, ...rows.map(line)].join('\n')
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))
const perReq = (v: number | undefined, r: LoadRun) =>
  v === undefined ? '-' : (v / r.requests).toFixed(3)
const pct = (v: number | undefined) => (v === undefined ? '-' : `${Math.round(v * 100)}%`)
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL')
const thousands = (v: number) => v.toLocaleString('en-US')

function report(r: {
  started: Date
  loadAtStart: string
  ocsp: Required<OcspRuns>
  missRuns: MissRun[]
  loadBeforeMiss: number
  missOthersShare: number | undefined
  crlRuns: CrlRun[]
  inserts: { what: string; rows: number; seconds: number }[]
  responseBytes: number
}) {
  const {
    ceilingWrk,
    oursWrk,
    ceilingHey,
    oursHey,
    floorWrk,
    floorHey,
    openssl: opensslRun,
    opensslMulti,
    opensslRsa,
  } = r.ocsp
  const [miss1k, missBig] = r.missRuns as [MissRun, MissRun]
  const [crlServerSmall, crlOpensslSmall, crlServerBig, crlOpensslBig] = r.crlRuns as [
    CrlRun,
    CrlRun,
    CrlRun,
    CrlRun,
  ]
  const ratios = {
    vsCeiling: oursWrk.perSecond / ceilingWrk.perSecond,
    vsCeilingHey: oursHey.perSecond / ceilingHey.perSecond,
    vsOpenssl: oursHey.perSecond / opensslRun.perSecond,
    vsOpensslMulti: oursHey.perSecond / opensslMulti.perSecond,
    vsOpensslRsa: oursHey.perSecond / opensslRsa.perSecond,
    ceilingVsOpenssl: ceilingHey.perSecond / opensslRun.perSecond,
    floorVsOpenssl: floorHey.perSecond / opensslRun.perSecond,
    vsFloor: oursWrk.perSecond / floorWrk.perSecond,
    vsFloorHey: oursHey.perSecond / floorHey.perSecond,
    p99Growth: missBig.p99Ms / miss1k.p99Ms,
    crlVsGencrl: crlServerBig.seconds / crlOpensslBig.seconds,
    crlSmallVsGencrl: crlServerSmall.seconds / crlOpensslSmall.seconds,
  }
  const pass = {
    vsCeiling: ratios.vsCeiling >= goals.vsCeiling,
    vsOpenssl: ratios.vsOpenssl >= goals.vsOpenssl,
    p99Growth: ratios.p99Growth <= goals.p99Growth,
    bigCrlSeconds: crlServerBig.seconds < goals.bigCrlSeconds,
    vsGencrl: ratios.crlVsGencrl <= goals.vsGencrl,
  }
  const loadEnd = fmtLoad()
  const busiest = Math.max(
    r.missOthersShare ?? 0,
    ...Object.values(r.ocsp).map((x) => x.othersShare ?? 0),
  )
  const out = [
    '',
    `enroll bench revocation · ${r.started.toISOString()} · node ${process.version} · ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}`,
    `load average (1/5/15 min): ${r.loadAtStart} at start, ${loadEnd} at end · store PostgreSQL ${redactUrl(databaseUrl)}`,
    `scale ${scale}: inventories ${thousands(counts.smallInventory)} and ${thousands(counts.bigInventory)} (10% revoked), CRLs of ${thousands(counts.crlSmall)} and ${thousands(counts.crlBig)} entries; synthetic rows without certificate DER`,
    '',
    `1 + 4. OCSP, one cached \`good\` answer (POST, no nonce, SHA-1 CertID, ${r.responseBytes}-byte response), concurrency ${LOAD_CONCURRENCY}, ${seconds} s per run`,
    table(
      [
        'measurement',
        'tool',
        'requests',
        'resp/s',
        'p50 ms',
        'p99 ms',
        'errors',
        'server CPU ms/req',
        'client CPU ms/req',
        'others',
        'load1',
      ],
      Object.values(r.ocsp).map((x) => [
        x.label,
        x.tool,
        String(x.requests),
        x.perSecond.toFixed(0),
        ms(x.p50Ms),
        ms(x.p99Ms),
        String(x.errors),
        perReq(x.serverCpuMs, x),
        perReq(x.clientCpuMs, x),
        pct(x.othersShare),
        x.load1.toFixed(2),
      ]),
    ),
    '  ceiling: a Hono POST handler on @hono/node-server (own process) that reads the body and answers the same bytes',
    '  and headers; bare node:http: the same on node:http alone, no framework (what any Node server costs at least).',
    '  openssl: CA and delegated responder made with openssl, index of the same 1k inventory, -ndays 1,',
    '  responderID by key; it signs every request and closes each connection; own network namespace, restarted per',
    '  run. wrk -t1 and hey share the 2 cores with the server. others = CPU share of the host used by unrelated',
    '  processes meanwhile (server, load generator and PostgreSQL excluded).',
    '',
    `2. OCSP cache misses (each request a distinct CertID: looked up and signed), concurrency ${MISS_CONCURRENCY}, node:http keep-alive client,`,
    `   ${MISS_ROUNDS} alternating rounds per inventory after ${counts.missWarmUp} nonce warm-up requests; load1 ${r.loadBeforeMiss.toFixed(2)} at start, others ${pct(r.missOthersShare)}`,
    table(
      ['inventory', 'requests', 'resp/s', 'p50 ms', 'p99 ms', 'max ms', 'server CPU ms/req'],
      r.missRuns.map((x) => [
        thousands(x.inventory),
        String(x.requests),
        x.perSecond.toFixed(0),
        ms(x.p50Ms),
        ms(x.p99Ms),
        ms(x.maxMs),
        x.serverCpuMsPerRequest.toFixed(2),
      ]),
    ),
    '',
    '3. CRL build (complete CRL of the local CA, ECDSA P-256)',
    table(
      ['entries', 'builder', 'seconds', 'peak RSS MiB', 'RSS before MiB', 'CRL MiB', 'load1'],
      r.crlRuns.map((x) => [
        thousands(x.entries),
        x.builder,
        x.seconds.toFixed(2),
        x.peakRssMiB.toFixed(0),
        x.builder.startsWith('openssl') ? '-' : x.startRssMiB.toFixed(0),
        (x.bytes / 1048576).toFixed(1),
        x.load1.toFixed(2),
      ]),
    ),
    `  enroll serve peak RSS is the server process's VmHWM over the request (reset before); openssl's is its max RSS.`,
    '',
    'inventory inserts (SQL generate_series + vacuum analyze): ' +
      r.inserts.map((i) => `${i.what} ${i.seconds.toFixed(1)} s`).join(' · '),
    '',
    ...(busiest > 0.1
      ? [
          `WARNING: unrelated processes took up to ${pct(busiest)} of the host during a run; figures are skewed.`,
          '',
        ]
      : []),
    'Ratios and goals',
    `  OCSP cached good = ${ratios.vsCeiling.toFixed(2)} × the static ceiling (wrk) · goal ≥ ${goals.vsCeiling}: ${verdict(pass.vsCeiling)}` +
      `  (${ratios.vsCeilingHey.toFixed(2)} × under hey)`,
    `  OCSP cached good = ${ratios.vsOpenssl.toFixed(2)} × openssl ocsp, P-256 (hey) · goal ≥ ${goals.vsOpenssl}: ${verdict(pass.vsOpenssl)}` +
      `  (${ratios.vsOpensslMulti.toFixed(2)} × its -multi 2; ${ratios.vsOpensslRsa.toFixed(2)} × with an RSA-2048 key;` +
      ` the static ceiling under hey is ${ratios.ceilingVsOpenssl.toFixed(2)} × openssl P-256, bare node:http ${ratios.floorVsOpenssl.toFixed(2)} ×)`,
    `  OCSP cached good = ${ratios.vsFloor.toFixed(2)} × the bare node:http handler (wrk), ${ratios.vsFloorHey.toFixed(2)} × under hey`,
    `  OCSP miss p99 at ${thousands(counts.bigInventory)} = ${ratios.p99Growth.toFixed(2)} × p99 at ${thousands(counts.smallInventory)} · goal ≤ ${goals.p99Growth}: ${verdict(pass.p99Growth)}`,
    `  CRL of ${thousands(counts.crlBig)} entries in ${crlServerBig.seconds.toFixed(1)} s · goal < ${goals.bigCrlSeconds} s: ${verdict(pass.bigCrlSeconds)}`,
    `  CRL of ${thousands(counts.crlBig)} entries = ${ratios.crlVsGencrl.toFixed(2)} × openssl ca -gencrl · goal ≤ ${goals.vsGencrl}: ${verdict(pass.vsGencrl)}` +
      `  (${ratios.crlSmallVsGencrl.toFixed(2)} × at ${thousands(counts.crlSmall)})`,
    '',
  ]
  process.stdout.write(out.join('\n'))
  const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url))
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(
    `${resultsDir}revocation.json`,
    `${JSON.stringify(
      {
        date: r.started.toISOString(),
        node: process.version,
        cores: cpus().length,
        loadAverage: { start: r.loadAtStart, end: loadEnd },
        scale,
        seconds,
        counts,
        goals,
        ocsp: r.ocsp,
        misses: { runs: r.missRuns, othersShare: r.missOthersShare },
        crl: r.crlRuns,
        inserts: r.inserts,
        ratios,
        pass,
      },
      null,
      2,
    )}\n`,
  )
  process.stdout.write('wrote bench/results/revocation.json\n')
}
