// Shared by the ACME conformance files: the server with real validation pointed at pebble-challtestsrv, and
// certificate checks with openssl.
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { startCaptureProxy, type Exchange } from '../helpers/capture-proxy.js'
import { startChallTestSrv, type ChallTestSrv } from '../helpers/challtestsrv.js'
import { freePort, projectRoot, startEnroll, type Enroll } from '../helpers/server.js'

const execFileAsync = promisify(execFile)

export interface AcmeRun {
  enroll: Enroll
  dns: ChallTestSrv
  http01Port: number
  tlsAlpn01Port: number
  directory: string
  exchanges: Exchange[]
  stop(): Promise<void>
}

/**
 * Starts pebble-challtestsrv and the server with real validation. With `capture`, clients go through a
 * recording proxy (the public URL points at it) and `exchanges` holds every request/response.
 */
export async function startAcmeRun(env: Record<string, string> = {}, options: { capture?: boolean } = {}): Promise<AcmeRun> {
  const dns = await startChallTestSrv()
  const [http01Port, tlsAlpn01Port, proxyPort] = [await freePort(), await freePort(), await freePort()]
  const enroll = await startEnroll({
    env: {
      ENROLL_ACME_DNS_RESOLVER: dns.dns,
      ENROLL_ACME_HTTP01_PORT: String(http01Port),
      ENROLL_ACME_TLSALPN01_PORT: String(tlsAlpn01Port),
      ...(options.capture ? { ENROLL_PUBLIC_URL: `https://localhost:${proxyPort}` } : {}),
      ...env,
    },
  })
  const proxy = options.capture ? await startCaptureProxy(proxyPort, enroll.dataDir, enroll.httpsPort) : undefined
  const base = options.capture ? `https://localhost:${proxyPort}` : enroll.httpsUrl
  return {
    enroll,
    dns,
    http01Port,
    tlsAlpn01Port,
    directory: `${base}/acme/directory`,
    exchanges: proxy?.exchanges ?? [],
    async stop() {
      await proxy?.close()
      await enroll.stop()
      await dns.stop()
    },
  }
}

/**
 * Writes the first exchange of each kind as fixtures/acme/<client>-<kind>.json, when ENROLL_CAPTURE_FIXTURES=1
 * (regenerating the captured fixtures is deliberate, never a side effect of a normal run).
 */
export function writeFixtures(client: string, version: string, exchanges: Exchange[], kindOf: (e: Exchange) => string | undefined): string[] {
  if (process.env['ENROLL_CAPTURE_FIXTURES'] !== '1') return []
  const written: string[] = []
  const seen = new Set<string>()
  for (const e of exchanges) {
    const kind = kindOf(e)
    if (!kind || seen.has(kind)) continue
    seen.add(kind)
    const file = join(projectRoot, 'fixtures', 'acme', `${client}-${kind}.json`)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, `${JSON.stringify({ source: `${client} ${version}`, kind, ...e }, null, 2)}\n`)
    written.push(file)
  }
  return written
}

/** The ACME resource kind of an exchange, from its path and payload (for fixture names). */
export function acmeKind(e: Exchange): string | undefined {
  const path = e.request.url.split('?')[0]!.replace(/^\/acme\//, '')
  const payload = (() => {
    try {
      const p = (JSON.parse(e.request.body) as { payload: string }).payload
      return p ? (JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>) : undefined
    } catch {
      return undefined
    }
  })()
  if (path === 'directory') return 'directory'
  if (path === 'new-nonce') return `new-nonce-${e.request.method.toLowerCase()}`
  if (path === 'new-account') return payload?.['onlyReturnExisting'] ? 'new-account-only-return-existing' : 'new-account'
  if (path === 'new-order' || path === 'revoke-cert' || path === 'key-change') return path
  const [kind, , sub] = path.split('/')
  if (kind === 'acct') return sub === 'orders' ? 'orders' : payload?.['status'] === 'deactivated' ? 'account-deactivate' : payload ? 'account-update' : 'account'
  if (kind === 'order') return sub === 'finalize' ? 'finalize' : 'order'
  if (kind === 'authz') return 'authz'
  if (kind === 'chall') return payload ? 'challenge-respond' : 'challenge'
  if (kind === 'cert') return 'certificate'
  return undefined
}

export const run = (cmd: string, args: string[], env: Record<string, string> = {}, input?: string) =>
  execFileSync(cmd, args, { encoding: 'utf8', input, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 180_000 })

/**
 * Runs a client asynchronously (the test process also serves webroots, so it must not block) and returns its
 * stdout and stderr; on failure, the error carries its output and the server's.
 */
export async function runClient(enroll: Enroll, cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { env: { ...process.env, ...env }, timeout: 180_000, maxBuffer: 16 << 20 })
    return `${stdout}${stderr}`
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${cmd} failed: ${err.message}\n--- stdout\n${err.stdout}\n--- stderr\n${err.stderr}\n--- server\n${enroll.output().slice(-4000)}`)
  }
}

/** `openssl verify -CAfile <data>/ca.pem` and the SANs of a PEM certificate file. */
export function checkCertificate(enroll: Enroll, certFile: string): { verified: boolean; sans: string[]; serial: string } {
  const verify = run('openssl', ['verify', '-CAfile', enroll.caBundle, certFile])
  const text = run('openssl', ['x509', '-in', certFile, '-noout', '-ext', 'subjectAltName', '-serial'])
  const sans = [...text.matchAll(/(?:DNS|IP Address):([^,\s]+)/g)].map((m) => m[1]!)
  const serial = /serial=([0-9A-F]+)/.exec(text)?.[1]?.toLowerCase() ?? ''
  return { verified: /: OK\s*$/.test(verify), sans, serial }
}

/** Inventory status of a certificate through the admin API. */
export async function inventoryStatus(enroll: Enroll, serial: string): Promise<string> {
  const r = run('curl', ['-sS', '--cacert', enroll.caBundle, '-H', `Authorization: Bearer ${enroll.adminKey}`,
    `${enroll.httpsUrl}/api/v1/certificates/${serial}`])
  return (JSON.parse(r) as { status: string }).status
}

/** A webroot for hook-based http-01 (uacme, dehydrated): serves <dir>/.well-known/acme-challenge/* on 127.0.0.1. */
export async function startWebroot(port: number): Promise<{ dir: string; challengeDir: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http')
  const { mkdtempSync, mkdirSync, readFileSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'webroot-'))
  const challengeDir = join(dir, '.well-known', 'acme-challenge')
  mkdirSync(challengeDir, { recursive: true })
  const server = createServer((req, res) => {
    const m = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')
    try {
      const body = m ? readFileSync(join(challengeDir, m[1]!)) : undefined
      res.writeHead(body ? 200 : 404).end(body ?? 'not found')
    } catch {
      res.writeHead(404).end('not found')
    }
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    dir,
    challengeDir,
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          rmSync(dir, { recursive: true, force: true })
          resolve()
        }),
      ),
  }
}

/**
 * One conformance run of a client that answers http-01 through a webroot, torn down with the test: the server
 * (its exchanges written as fixtures when ENROLL_CAPTURE_FIXTURES=1), the webroot on the http-01 port, and a
 * scratch directory for the client's files.
 */
export async function startWebrootRun(t: { teardown(fn: () => unknown): void }, client: string, version: string) {
  const acme = await startAcmeRun({}, { capture: true })
  const webroot = await startWebroot(acme.http01Port)
  const dir = mkdtempSync(join(tmpdir(), `${client}-`))
  t.teardown(async () => {
    writeFixtures(client, version, acme.exchanges, acmeKind)
    await webroot.close()
    await acme.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  return { acme, webroot, dir }
}

/**
 * What the revocation services say about a certificate after an ACME revokeCert: `openssl ocsp` against the OCSP
 * responder, and `openssl verify -crl_check` with the CRL; retried briefly (the CRL is republished after a debounce).
 */
export async function revocationSeenBy(enroll: Enroll, certFile: string, dir: string): Promise<{ ocsp: string; crl: string }> {
  const issuing = join(dir, 'issuing.pem')
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(readFileSync(enroll.caBundle, 'utf8'))
  writeFileSync(issuing, first![0])
  const attempt = async () => {
    const ocspOut = await execFileAsync('openssl', ['ocsp', '-issuer', issuing, '-cert', certFile, '-url',
      `${enroll.httpUrl}/.well-known/pki/ocsp`, '-CAfile', enroll.caBundle, '-no_nonce']).then((r) => r.stdout, (e: { stdout?: string }) => e.stdout ?? '')
    const ocsp = /: (good|revoked|unknown)/.exec(ocspOut)?.[1] ?? 'error'
    const crlFile = join(dir, 'crl.der')
    await execFileAsync('curl', ['-sS', '--fail', '-o', crlFile, `${enroll.httpUrl}/.well-known/pki/crl`])
    const pemCrl = join(dir, 'crl.pem')
    await execFileAsync('openssl', ['crl', '-inform', 'DER', '-in', crlFile, '-out', pemCrl])
    const verify = await execFileAsync('openssl', ['verify', '-crl_check', '-CAfile', enroll.caBundle, '-CRLfile', pemCrl, certFile])
      .then((r) => r.stdout + r.stderr, (e: { stdout?: string; stderr?: string }) => `${e.stdout}${e.stderr}`)
    const crl = /certificate revoked/.test(verify) ? 'revoked' : /: OK/.test(verify) ? 'good' : 'error'
    return { ocsp, crl }
  }
  const deadline = Date.now() + 15_000
  for (;;) {
    const got = await attempt()
    if ((got.ocsp === 'revoked' && got.crl === 'revoked') || Date.now() > deadline) return got
    await new Promise((r) => setTimeout(r, 500))
  }
}
