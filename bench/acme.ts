// `npm run bench -- acme`: complete ACME issuances over real HTTPS (newAccount → newOrder → http-01 validated
// against a local responder → finalize → certificate download) at concurrency 1, 8 and 64, on PostgreSQL (PGlite
// when it does not answer), printing issuances/s, p50/p99 and CPU per issuance (server, client, PostgreSQL); then
// the wall time of one certbot issuance when certbot and pebble-challtestsrv are installed. The server runs as its
// own process (`enroll serve`); the load client (jose + HTTPS keep-alive) and the http-01 responder run here, all
// on the host's cores with PostgreSQL. The client polls the authorization every BENCH_POLL_MS (default 50 ms)
// instead of honouring Retry-After (1 s), to measure the server rather than the client's patience; the polls per
// issuance are printed, since each costs a signed request.
// Knobs: BENCH_DATABASE_URL, BENCH_POOL, BENCH_SCALE (as run.ts), BENCH_POLL_MS, BENCH_SERVER_NODE_ARGS.
import { execFile, spawn } from 'node:child_process'
import { randomBytes, webcrypto } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { Agent, request } from 'node:https'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { calculateJwkThumbprint, exportJWK, FlattenedSign, generateKeyPair, type JWK } from 'jose'
import postgres from 'postgres'
import { x509 } from '../src/pki/x509.js'
import { cpuSince, hostLoad, processCpuMs, sampleCpu } from './cpu.js'
import { runPool, type RunResult } from './stats.js'
import { defaultDatabaseUrl, redactUrl } from './target.js'

const env = process.env
const databaseUrl = env['BENCH_DATABASE_URL'] || defaultDatabaseUrl
const scale = Number(env['BENCH_SCALE'] ?? 1)
const n = (count: number) => Math.max(1, Math.round(count * scale))
/** Authorization polling interval (BENCH_POLL_MS); real clients honour Retry-After (1 s) or poll every 2–5 s. */
const POLL_MS = Number(env['BENCH_POLL_MS'] || 50)
const polls = { count: 0 }
const cliPath = fileURLToPath(new URL('../src/cli/index.js', import.meta.url))
const runs = [
  { concurrency: 1, count: n(30) },
  { concurrency: 8, count: n(200) },
  { concurrency: 64, count: n(640) },
]

const freePort = () =>
  new Promise<number>((done, fail) => {
    const s = createServer()
    s.once('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo
      s.close(() => done(port))
    })
  })

async function reachable(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try {
    await sql`select 1`
    return true
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
}

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A minimal ACME client: one account per issuance, ES256, keep-alive HTTPS. */
function client(base: string, ca: string, agent: Agent, tokens: Map<string, string>) {
  const call = (method: string, url: string, body?: string) =>
    new Promise<Reply>((resolve, reject) => {
      const req = request(
        url,
        { method, agent, ca, headers: body ? { 'Content-Type': 'application/jose+json' } : {} },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => (text += d))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
          )
        },
      )
      req.on('error', reject)
      req.end(body)
    })

  return async function issueOnce(csrDer: Uint8Array): Promise<void> {
    const keys = await generateKeyPair('ES256')
    const jwk: JWK = await exportJWK(keys.publicKey)
    const thumb = await calculateJwkThumbprint(jwk)
    let nonce = (await call('HEAD', `${base}/acme/new-nonce`)).headers['replay-nonce'] as string
    let kid: string | undefined
    const post = async (url: string, payload: unknown): Promise<Reply> => {
      const header = { alg: 'ES256', nonce, url, ...(kid ? { kid } : { jwk }) }
      const bytes =
        payload === '' ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(payload))
      const jws = await new FlattenedSign(bytes).setProtectedHeader(header).sign(keys.privateKey)
      const r = await call('POST', url, JSON.stringify(jws))
      nonce = r.headers['replay-nonce'] as string
      if (r.status >= 400) throw new Error(`${url}: ${r.status} ${r.body}`)
      return r
    }
    const acct = await post(`${base}/acme/new-account`, { termsOfServiceAgreed: true })
    kid = acct.headers['location'] as string
    const order = await post(`${base}/acme/new-order`, {
      identifiers: [{ type: 'ip', value: '127.0.0.1' }],
    })
    const o = JSON.parse(order.body)
    const authz = JSON.parse((await post(o.authorizations[0], '')).body)
    const ch = authz.challenges.find((c: { type: string }) => c.type === 'http-01')
    tokens.set(ch.token, `${ch.token}.${thumb}`)
    await post(ch.url, {})
    for (let status = 'pending'; status === 'pending' || status === 'processing';) {
      await new Promise((r) => setTimeout(r, POLL_MS))
      polls.count++
      status = JSON.parse((await post(o.authorizations[0], '')).body).status
      if (status === 'invalid') throw new Error('validation failed')
    }
    tokens.delete(ch.token)
    const fin = JSON.parse(
      (await post(o.finalize, { csr: Buffer.from(csrDer).toString('base64url') })).body,
    )
    if (fin.status !== 'valid') throw new Error(`order is ${fin.status}`)
    const pem = await post(fin.certificate, '')
    if (!pem.body.includes('BEGIN CERTIFICATE')) throw new Error('no certificate')
  }
}

async function ipCsrs(count: number): Promise<Uint8Array[]> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const out: Uint8Array[] = []
  await runPool(count, 16, async () => {
    const keys = (await webcrypto.subtle.generateKey(alg, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: '',
      keys,
      signingAlgorithm: alg,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
    })
    out.push(new Uint8Array(csr.rawData))
  })
  return out
}

const has = async (cmd: string) =>
  promisify(execFile)('sh', ['-c', `command -v ${cmd}`]).then(
    () => true,
    () => false,
  )

/** Wall time of one `certbot certonly --standalone` against the server, DNS from pebble-challtestsrv. */
async function certbotOnce(server: AcmeServer, http01Port: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-certbot-'))
  try {
    const started = performance.now()
    await promisify(execFile)(
      'certbot',
      [
        'certonly',
        '--standalone',
        '--http-01-port',
        String(http01Port),
        '--http-01-address',
        '127.0.0.1',
        '-d',
        'certbot.bench.test',
        '--agree-tos',
        '-m',
        'ops@example.com',
        '--non-interactive',
        '--server',
        `${server.base}/acme/directory`,
        '--config-dir',
        join(dir, 'c'),
        '--work-dir',
        join(dir, 'w'),
        '--logs-dir',
        join(dir, 'l'),
      ],
      { env: { ...process.env, REQUESTS_CA_BUNDLE: server.caFile }, timeout: 120_000 },
    )
    return performance.now() - started
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

interface AcmeServer {
  base: string
  caFile: string
  pid: number
  stop(): Promise<void>
}

/** `enroll serve` as its own process (its own core), validating http-01 against our responder's port. */
async function startAcmeServer(
  usePg: boolean,
  schema: string,
  http01Port: number,
  dnsResolver: string | undefined,
): Promise<AcmeServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'enroll-bench-acme-'))
  const [httpsPort, httpPort] = [await freePort(), await freePort()]
  const configFile = join(dataDir, 'bench.json')
  writeFileSync(
    configFile,
    JSON.stringify({
      databasePoolSize: Number(env['BENCH_POOL'] || 16),
      acme: { validation: { attempts: 1, retryDelaySeconds: 0 } },
    }),
  )
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const nodeArgs = (env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter(Boolean)
  const child = spawn(process.execPath, [...nodeArgs, cliPath, 'serve'], {
    env: {
      ...process.env,
      ENROLL_CONFIG: configFile,
      ENROLL_DATA_DIR: dataDir,
      ENROLL_HTTPS_PORT: String(httpsPort),
      ENROLL_HTTP_PORT: String(httpPort),
      ENROLL_LISTEN_HOST: '127.0.0.1',
      ENROLL_PUBLIC_URL: `https://localhost:${httpsPort}`,
      ENROLL_PUBLIC_HTTP_URL: `http://127.0.0.1:${httpPort}`,
      ENROLL_LOG_LEVEL: 'error',
      ENROLL_ACME_HTTP01_PORT: String(http01Port),
      ...(dnsResolver ? { ENROLL_ACME_DNS_RESOLVER: dnsResolver } : {}),
      ...(usePg ? { DATABASE_URL: databaseUrl, ENROLL_DATABASE_SCHEMA: schema } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise((done) => child.once('exit', done))
  const stop = async () => {
    child.kill('SIGTERM')
    await exited
    rmSync(dataDir, { recursive: true, force: true })
  }
  for (const deadline = Date.now() + 60_000; ;) {
    if (child.exitCode !== null) throw new Error(`enroll serve exited ${child.exitCode}: ${stderr}`)
    if (
      await fetch(`http://127.0.0.1:${httpPort}/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`enroll serve did not become ready: ${stderr}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    base: `https://localhost:${httpsPort}`,
    caFile: join(dataDir, 'ca.pem'),
    pid: child.pid!,
    stop,
  }
}

export async function runAcmeBench(): Promise<void> {
  const usePg = await reachable(databaseUrl)
  const schema = `bench_acme_${randomBytes(5).toString('hex')}`
  const tokens = new Map<string, string>()
  const responder = createHttpServer((req, res) => {
    const token = /\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1]
    const v = token ? tokens.get(token) : undefined
    res.writeHead(v ? 200 : 404).end(v ?? '')
  })
  await new Promise<void>((r) => responder.listen(0, '127.0.0.1', r))
  const http01Port = (responder.address() as AddressInfo).port
  const withCertbot = (await has('certbot')) && (await has('pebble-challtestsrv'))
  const [dnsPort, mgmtPort] = [await freePort(), await freePort()]
  const challtestsrv = withCertbot
    ? spawn(
        'pebble-challtestsrv',
        [
          '-dns01',
          `127.0.0.1:${dnsPort}`,
          '-http01',
          '',
          '-https01',
          '',
          '-tlsalpn01',
          '',
          '-management',
          `127.0.0.1:${mgmtPort}`,
          '-defaultIPv6',
          '',
        ],
        { stdio: 'ignore' },
      )
    : undefined
  const server = await startAcmeServer(
    usePg,
    schema,
    http01Port,
    withCertbot ? `127.0.0.1:${dnsPort}` : undefined,
  )
  const load = hostLoad()
  process.stdout.write(
    `ACME benchmark: enroll serve (own process) on ${usePg ? `PostgreSQL ${redactUrl(databaseUrl)}` : 'embedded PGlite'}, ` +
      `load client and http-01 responder in this process (host load ${load.load1.toFixed(1)} on ${load.cores} cores)\n`,
  )
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const issueOnce = client(server.base, readFileSync(server.caFile, 'utf8'), agent, tokens)
  const rows: (RunResult & { label: string })[] = []
  try {
    await runPool(n(20), 8, async () => issueOnce((await ipCsrs(1))[0]!))
    for (const r of runs) {
      const csrs = await ipCsrs(r.count)
      polls.count = 0
      const before = sampleCpu()
      const serverBefore = processCpuMs(server.pid)
      const result = await runPool(r.count, r.concurrency, (i) => issueOnce(csrs[i]!))
      const cpu = cpuSince(before)
      const serverAfter = processCpuMs(server.pid)
      rows.push({ label: `complete issuance, concurrency ${r.concurrency}`, ...result })
      const per = (ms: number | undefined) => (ms === undefined ? '?' : (ms / r.count).toFixed(1))
      const serverMs =
        serverBefore === undefined || serverAfter === undefined
          ? undefined
          : serverAfter - serverBefore
      process.stdout.write(
        `  c=${String(r.concurrency).padEnd(3)} ${result.perSecond.toFixed(1).padStart(7)} issuances/s  p50 ${result.p50Ms.toFixed(0)} ms  ` +
          `p99 ${result.p99Ms.toFixed(0)} ms  (${r.count} issuances; CPU per issuance: server ${per(serverMs)} ms, ` +
          `client ${per(cpu.processMs)} ms, PostgreSQL ${per(cpu.postgresMs)} ms; ${(polls.count / r.count).toFixed(1)} authz polls)\n`,
      )
    }
    // certbot's standalone server takes over the validation port from our responder.
    await new Promise<void>((r) => responder.close(() => r()))
    if (withCertbot) {
      process.stdout.write(
        `  certbot certonly --standalone, one issuance: ${(await certbotOnce(server, http01Port)).toFixed(0)} ms wall\n`,
      )
    } else {
      process.stdout.write(
        '  certbot wall time: skipped (certbot or pebble-challtestsrv not installed)\n',
      )
    }
    process.stdout.write(
      `  goal: >= 300 complete issuances/s at concurrency 64: ${rows.at(-1)!.perSecond >= 300 ? 'met' : 'not met'}\n`,
    )
  } finally {
    agent.destroy()
    await server.stop()
    challtestsrv?.kill('SIGTERM')
    if (responder.listening) await new Promise<void>((r) => responder.close(() => r()))
    if (usePg) {
      const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
      await sql`drop schema if exists ${sql(schema)} cascade`.finally(() => sql.end({ timeout: 5 }))
    }
  }
}
