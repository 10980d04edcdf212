// Start-to-ready of `enroll serve` on an existing data directory: spawn → GET /ready answers 200.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { cpuSince, processCpuMs, sampleCpu } from './cpu.js'
import { median } from './stats.js'

/** dist/bench/startup.js → dist/src/cli/index.js: the same entry `npm start` runs. */
const cliPath = fileURLToPath(new URL('../src/cli/index.js', import.meta.url))

export interface StartupResult {
  store: 'embedded'
  /** First start on an empty data dir (generates CA, TLS certificate, admin key); not part of the goal. */
  firstStartMs: number
  /** Timed restarts on the existing data dir. */
  runsMs: number[]
  medianMs: number
  maxMs: number
  /** `node -e ''` spawn to exit: the floor no server start can beat. */
  nodeFloorMs: number
  /** CPU time the server used until ready, per timed run (ms): more than the wall time means both cores. */
  serverCpuMs: number[]
  /** Largest share of the host's CPU taken by unrelated processes during a timed run, 0..1. */
  othersShareMax: number | undefined
}

/** Free TCP ports on 127.0.0.1, learned by binding port 0 (all held open together so they differ). */
async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer())
  await Promise.all(servers.map((s) => new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok))))
  const ports = servers.map((s) => (s.address() as AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))))
  return ports
}

function getStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 1000 }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', () => resolve(0))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

/** The environment of the child: ours without any enroll or database setting, plus the bench's own. */
function childEnv(dataDir: string, httpsPort: number, httpPort: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ENROLL_') && k !== 'DATABASE_URL') env[k] = v
  }
  return {
    ...env,
    ENROLL_DATA_DIR: dataDir,
    ENROLL_HTTPS_PORT: String(httpsPort),
    ENROLL_HTTP_PORT: String(httpPort),
    ENROLL_LISTEN_HOST: '127.0.0.1',
    ENROLL_LOG_LEVEL: 'warn',
  }
}

interface Started {
  child: ChildProcess
  readyMs: number
  /** CPU the server used until ready. */
  cpuMs: number | undefined
}

async function startUntilReady(
  env: NodeJS.ProcessEnv,
  httpPort: number,
  timeoutMs: number,
): Promise<Started> {
  let stderr = ''
  const t0 = performance.now()
  const child = spawn(process.execPath, [cliPath, 'serve'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)))
  let exited = false
  child.once('exit', () => (exited = true))
  while (performance.now() - t0 < timeoutMs) {
    if (exited)
      throw new Error(`enroll serve exited before ready (code ${child.exitCode}): ${stderr.trim()}`)
    if ((await getStatus(httpPort, '/ready')) === 200) {
      return {
        child,
        readyMs: performance.now() - t0,
        cpuMs: child.pid === undefined ? undefined : processCpuMs(child.pid),
      }
    }
    await sleep(10)
  }
  await stop(child)
  throw new Error(`enroll serve not ready after ${timeoutMs} ms: ${stderr.trim()}`)
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

async function nodeFloor(): Promise<number> {
  const runs: number[] = []
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    await once(child, 'exit')
    runs.push(performance.now() - t0)
  }
  return median(runs)
}

export async function measureStartup(runs = 5): Promise<StartupResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'enroll-bench-serve-'))
  try {
    const [httpsPort, httpPort] = (await freePorts(2)) as [number, number]
    const env = childEnv(dataDir, httpsPort, httpPort)
    const first = await startUntilReady(env, httpPort, 120_000)
    await stop(first.child)
    const runsMs: number[] = []
    const serverCpuMs: number[] = []
    let othersShareMax: number | undefined
    for (let i = 0; i < runs; i++) {
      const before = sampleCpu()
      const s = await startUntilReady(env, httpPort, 30_000)
      const used = cpuSince(before)
      runsMs.push(s.readyMs)
      serverCpuMs.push(s.cpuMs ?? Number.NaN)
      if (used.othersShare !== undefined && s.cpuMs !== undefined) {
        // cpuSince counts the server among "others"; take it out again.
        const others = Math.max(0, used.othersShare - s.cpuMs / (s.readyMs * cpus().length))
        othersShareMax = Math.max(othersShareMax ?? 0, others)
      }
      await stop(s.child)
    }
    return {
      store: 'embedded',
      firstStartMs: first.readyMs,
      runsMs,
      medianMs: median(runsMs),
      maxMs: Math.max(...runsMs),
      nodeFloorMs: await nodeFloor(),
      serverCpuMs,
      othersShareMax,
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}
