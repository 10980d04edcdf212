// The `enroll` command line as users run it: the compiled CLI in a child process, exit codes, one-line errors,
// inventory commands against a PostgreSQL schema, and a graceful stop on SIGTERM.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pino } from 'pino'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { loadConfig } from '../../src/config/load.js'
import { parseCsr } from '../../src/pki/csr.js'
import { openCore } from '../../src/server.js'
import { makeCsr } from '../helpers/csr.js'

const repo = resolve(import.meta.dirname, '../..')
const postgresUrl = inject('postgresUrl')

let buildDir: string
let dataDir: string
let schema: string
/** Environment of every CLI run: the test's store and data directory, nothing inherited from this process. */
let baseEnv: Record<string, string>

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the compiled CLI to completion. */
function enroll(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<Run> {
  const child = spawn(process.execPath, [join(buildDir, 'src/cli/index.js'), ...args], {
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise((done) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      done({ code, signal, stdout, stderr })
    }),
  )
}

/** Starts `enroll serve` and resolves once the banner is out, with the ports it names. */
function serve(env: Record<string, string>) {
  const child = spawn(process.execPath, [join(buildDir, 'src/cli/index.js'), 'serve'], {
    env: { ...baseEnv, ENROLL_HTTPS_PORT: '0', ENROLL_HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('close', (code, signal) => done({ code, signal })),
  )
  const ready = new Promise<{ httpsPort: number; httpPort: number }>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no banner; stderr: ${stderr}`)), 30_000)
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      const m = /enroll is serving \(https :(\d+), http :(\d+), store: \w+\)/.exec(stdout)
      if (m) {
        clearTimeout(timer)
        done({ httpsPort: Number(m[1]), httpPort: Number(m[2]) })
      }
    })
    void exited.then(({ code }) => fail(new Error(`serve exited with ${code}; stderr: ${stderr}`)))
  })
  return { child, ready, exited, output: () => ({ stdout, stderr }) }
}

const get = (port: number, path: string) =>
  new Promise<{ status: number; body: string }>((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => done({ status: res.statusCode!, body }))
    })
    req.on('error', fail)
    req.end()
  })

/** A known failure is exactly one line on stderr, without a stack trace. */
function expectOneLine(r: Run, code: number, line: string | RegExp) {
  expect(r.code).toBe(code)
  expect(r.stderr.endsWith('\n')).toBe(true)
  const lines = r.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  if (typeof line === 'string') expect(lines[0]).toBe(line)
  else expect(lines[0]).toMatch(line)
  expect(r.stderr).not.toMatch(/^\s+at /m)
}

beforeAll(async () => {
  // Compile src/ alone into a private directory: no race with `npm run build` users of dist/, and code
  // elsewhere in the tree (bench, protocols) cannot hold this suite up.
  buildDir = mkdtempSync(join(tmpdir(), 'enroll-cli-build-'))
  const tsconfig = join(buildDir, 'tsconfig.json')
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(repo, 'tsconfig.json'),
      compilerOptions: { noEmit: false, sourceMap: false, rootDir: repo, outDir: buildDir },
      include: [join(repo, 'src')],
    }),
  )
  symlinkSync(join(repo, 'node_modules'), join(buildDir, 'node_modules'), 'dir')
  const tsc = spawnSync(
    process.execPath,
    [join(repo, 'node_modules/typescript/bin/tsc'), '-p', tsconfig],
    {
      encoding: 'utf8',
    },
  )
  expect(tsc.stdout + tsc.stderr).toBe('')
  writeFileSync(join(buildDir, 'package.json'), JSON.stringify({ type: 'module' }))

  dataDir = mkdtempSync(join(tmpdir(), 'enroll-cli-'))
  schema = `t_${randomBytes(6).toString('hex')}`
  baseEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? tmpdir(),
    ENROLL_DATA_DIR: dataDir,
    ENROLL_LISTEN_HOST: '127.0.0.1',
    ENROLL_LOG_LEVEL: 'warn',
    ...(postgresUrl ? { DATABASE_URL: postgresUrl, ENROLL_DATABASE_SCHEMA: schema } : {}),
  }
}, 120_000)

afterAll(async () => {
  if (postgresUrl && schema) {
    const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} })
    await sql`drop schema if exists ${sql(schema)} cascade`
    await sql.end()
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  if (buildDir) rmSync(buildDir, { recursive: true, force: true })
})

describe('startup failures', () => {
  it('fail/database-unreachable', async () => {
    const r = await enroll(['serve'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' })
    expectOneLine(r, 1, 'enroll: database: cannot connect (ECONNREFUSED at 127.0.0.1:1)')
  })

  it('fail/bad-config-value-exit-2', async () => {
    const r = await enroll(['serve'], { ENROLL_HTTPS_PORT: 'abc' })
    expectOneLine(
      r,
      2,
      'enroll: config: httpsPort (from ENROLL_HTTPS_PORT): Invalid input: expected number, received NaN',
    )
    expect(r.stdout).toBe('')
  })

  it('fail/config-file-missing-exit-2', async () => {
    const missing = join(dataDir, 'missing.yaml')
    expectOneLine(
      await enroll(['-c', missing, 'certs', 'list']),
      2,
      `enroll: config: cannot read ${missing}: ENOENT`,
    )
  })

  it('fail/https-port-taken', async () => {
    const blocker: Server = createServer()
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done))
    const port = (blocker.address() as AddressInfo).port
    try {
      const r = await enroll(['serve'], { ENROLL_HTTPS_PORT: String(port), ENROLL_HTTP_PORT: '0' })
      expectOneLine(
        r,
        1,
        `enroll: https listener: port ${port} is already in use (set ENROLL_HTTPS_PORT)`,
      )
    } finally {
      await new Promise((done) => blocker.close(done))
    }
  })
})

describe('inventory commands', () => {
  const ids: string[] = []
  const serials: string[] = []

  // Three certificates issued in-process on the same store and CA, for the commands to find.
  beforeAll(async () => {
    const core = await openCore(loadConfig({ env: baseEnv }), pino({ level: 'silent' }), {
      createCa: true,
    })
    try {
      for (const dns of ['one.cli.test', 'two.cli.test', 'three.cli.test']) {
        const out = await core.issuance.issue({
          csr: await parseCsr((await makeCsr({ dns: [dns] })).der),
          protocol: 'admin',
          requester: 'admin:test',
        })
        ids.push(out.certificate.id)
        serials.push(out.certificate.serial)
      }
    } finally {
      await core.store.close()
    }
  })

  it('ok/ca-init-then-exists', async () => {
    // The failed serve above generated the CA already; a fresh data directory shows the "generated" path.
    const fresh = mkdtempSync(join(tmpdir(), 'enroll-cli-init-'))
    try {
      const env = {
        ENROLL_DATA_DIR: fresh,
        ...(postgresUrl ? { ENROLL_DATABASE_SCHEMA: `${schema}_init` } : {}),
      }
      const first = await enroll(['ca', 'init'], env)
      expect([first.code, first.stderr]).toEqual([0, ''])
      expect(first.stdout).toMatch(/^local \(local\): generated, issuing CA \d+ bytes DER\n$/)
      const second = await enroll(['ca', 'init'], env)
      expect(second.stdout).toMatch(/^local \(local\): exists, issuing CA \d+ bytes DER\n$/)
      const tail = await enroll(['audit', 'tail', '-n', '50'], env)
      const actions = tail.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).action)
      expect(actions).toEqual(['ca.generated'])
    } finally {
      rmSync(fresh, { recursive: true, force: true })
      if (postgresUrl) {
        const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} })
        await sql`drop schema if exists ${sql(`${schema}_init`)} cascade`
        await sql.end()
      }
    }
  })

  it('ok/certs-list-json', async () => {
    const r = await enroll(['certs', 'list', '--json'])
    expect([r.code, r.stderr]).toEqual([0, ''])
    const rows = JSON.parse(r.stdout) as {
      id: string
      serial: string
      status: string
      sans: { value: string }[]
    }[]
    expect(rows.map((row) => row.id)).toEqual(expect.arrayContaining(ids))
    expect(rows.filter((row) => ids.includes(row.id)).every((row) => row.status === 'valid')).toBe(
      true,
    )
    const filtered = JSON.parse(
      (await enroll(['certs', 'list', '--json', '--san', 'TWO.cli'])).stdout,
    ) as { id: string }[]
    expect(filtered.map((row) => row.id)).toEqual([ids[1]])
  })

  it('ok/certs-list-text', async () => {
    const r = await enroll(['certs', 'list', '--san', 'cli.test', '--limit', '2'])
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]!.split('\t').slice(0, 3)).toEqual([ids[2], serials[2], 'valid'])
    expect(lines[0]!.split('\t')[5]).toBe('three.cli.test')
  })

  it('fail/certs-list-unknown-status', async () => {
    const r = await enroll(['certs', 'list', '--status', 'lost'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/option '--status <status>' argument 'lost' is invalid/)
  })

  it('ok/certs-show-by-id-and-serial', async () => {
    const r = await enroll(['certs', 'show', ids[0]!])
    expect(r.code).toBe(0)
    const shown = JSON.parse(r.stdout)
    expect(shown).toMatchObject({
      id: ids[0],
      serial: serials[0],
      status: 'valid',
      sans: [{ type: 'dns', value: 'one.cli.test' }],
    })
    expect(shown.pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/)
    const colons = serials[0]!.match(/../g)!.join(':')
    const pem = await enroll(['certs', 'show', colons, '--pem'])
    expect(pem.stdout).toBe(shown.pem)
  })

  it('fail/certs-show-unknown', async () => {
    expectOneLine(
      await enroll(['certs', 'show', '987654']),
      1,
      'enroll: notFound: certificate 987654 not found',
    )
  })

  it('ok/certs-revoke-key-compromise', async () => {
    const r = await enroll(['certs', 'revoke', ids[0]!, '--reason', 'keyCompromise'])
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(r.stdout).toMatch(
      new RegExp(
        `^revoked ${serials[0]} \\(keyCompromise\\) at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\n$`,
      ),
    )
    const shown = JSON.parse((await enroll(['certs', 'show', ids[0]!])).stdout)
    expect(shown).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' })
    expectOneLine(
      await enroll(['certs', 'revoke', ids[0]!, '--reason', 'superseded']),
      1,
      'enroll: alreadyRevoked: certificate is already revoked',
    )
  })

  it.each([
    [
      'fail/revoke-unknown-reason',
      'bogus',
      'enroll: badRequest: --reason bogus is not an RFC 5280 CRLReason',
    ],
    [
      'fail/revoke-certificate-hold',
      'certificateHold',
      'enroll: badRequest: revocation reason 6 cannot be requested',
    ],
  ])('%s', async (_name, reason, line) => {
    expectOneLine(await enroll(['certs', 'revoke', ids[1]!, '--reason', reason]), 1, line)
  })

  it('ok/audit-tail-5', async () => {
    const r = await enroll(['audit', 'tail', '-n', '5'])
    expect([r.code, r.stderr]).toEqual([0, ''])
    type Event = { id: string; action: string; actor: string; serial: string; detail: unknown }
    const events = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Event)
    expect(events).toHaveLength(5)
    // Oldest first, as `tail` prints: the three issued above, then the one revocation that succeeded.
    const numeric = events.map((e) => Number(e.id))
    expect(numeric).toEqual([...numeric].sort((a, b) => a - b))
    expect(events.slice(1).map((e) => [e.action, e.serial])).toEqual([
      ['certificate.issued', serials[0]],
      ['certificate.issued', serials[1]],
      ['certificate.issued', serials[2]],
      ['certificate.revoked', serials[0]],
    ])
    expect(events.at(-1)).toMatchObject({
      actor: expect.stringMatching(/^cli:/),
      detail: { reason: 1 },
    })
  })
})

describe('serve', () => {
  it('ok/sigterm-exits-0', async () => {
    const s = serve({})
    const { httpPort, httpsPort } = await s.ready
    expect(httpsPort).toBeGreaterThan(0)
    expect(await get(httpPort, '/health')).toEqual({ status: 200, body: '{"status":"ok"}' })
    expect(s.output().stdout).toContain(`CA bundle        ${join(dataDir, 'ca.pem')}`)
    s.child.kill('SIGTERM')
    expect(await s.exited).toEqual({ code: 0, signal: null })
    expect(s.output().stderr).toBe('')
  })

  it('fail/embedded-store-in-use-then-sigterm-exits-0', async () => {
    const embedded = mkdtempSync(join(tmpdir(), 'enroll-cli-embedded-'))
    const env = { ENROLL_DATA_DIR: embedded, DATABASE_URL: '', ENROLL_DATABASE_SCHEMA: 'public' }
    const s = serve(env)
    try {
      await s.ready
      expect(s.output().stdout).toContain('store: embedded')
      expect(s.output().stdout).toContain('WARNING: running on development defaults')
      const r = await enroll(['certs', 'list'], env)
      expectOneLine(
        r,
        1,
        `enroll: database: the embedded store is in use by process ${s.child.pid}; stop it, or use the admin API or DATABASE_URL`,
      )
      s.child.kill('SIGTERM')
      expect(await s.exited).toEqual({ code: 0, signal: null })
    } finally {
      s.child.kill('SIGKILL')
      rmSync(embedded, { recursive: true, force: true })
    }
  })
})
