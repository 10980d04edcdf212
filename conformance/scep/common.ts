// Shared by the SCEP conformance runs: a server with three labels — `default` (static challenge), `mdm` (dynamic
// challenges from the admin API) and `held` (a profile that needs approval) — and small helpers around it.
import { execFileSync, spawnSync, type ExecFileSyncOptions, type SpawnSyncOptions } from 'node:child_process'
import { existsSync } from 'node:fs'
import { startEnroll, type Enroll } from '../helpers/server.js'

export const CHALLENGE = 's3cret-conformance'

export const scepConfig = `
profiles:
  default:
    allow: { dns: ['*.example.test'] }
  held:
    allow: { dns: ['*.example.test'] }
    requireApproval: true
scep:
  labels:
    default: { challenge: ${CHALLENGE} }
    mdm: { dynamicChallenges: true }
    held: { profile: held, challenge: ${CHALLENGE} }
`

export const startScepServer = () => startEnroll({ configText: scepConfig })

export const run = (cmd: string, args: string[], options: ExecFileSyncOptions = {}) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...options }) as string

/** Runs a command that may fail: exit status, stdout, and stdout + stderr. */
export function attempt(cmd: string, args: string[], options: SpawnSyncOptions = {}): { status: number; stdout: string; output: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...options })
  const stdout = String(r.stdout ?? '')
  return { status: r.status ?? -1, stdout, output: `${stdout}${String(r.stderr ?? '')}` }
}

/** The admin API over HTTPS with curl, trusting the server's CA bundle. */
export function admin(enroll: Enroll, method: string, path: string, body?: unknown): any {
  const args = ['-sS', '--cacert', enroll.caBundle, '-X', method, '-H', `Authorization: Bearer ${enroll.adminKey}`]
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body))
  const out = run('curl', [...args, `${enroll.httpsUrl}/api/v1${path}`])
  return out ? JSON.parse(out) : undefined
}

/** Approves the newest pending request of a profile. */
export function approveNewest(enroll: Enroll, profile: string): string {
  const pending = admin(enroll, 'GET', `/requests?profile=${profile}`)
  const id = pending.items[0]?.id as string | undefined
  if (!id) throw new Error(`no pending request for profile ${profile}`)
  admin(enroll, 'POST', `/requests/${id}/approve`)
  return id
}

export function opensslVerify(enroll: Enroll, certFile: string): string {
  return run('openssl', ['verify', '-CAfile', enroll.caBundle, certFile])
}

/** SHA-256 fingerprint (hex) of the RA certificate: the first one GetCACert returns. */
export function raFingerprint(enroll: Enroll): string {
  const der = execFileSync('curl', ['-sS', '--fail', `${enroll.httpUrl}/scep?operation=GetCACert`])
  const pem = execFileSync('openssl', ['pkcs7', '-inform', 'DER', '-print_certs'], { input: der }).toString()
  const first = pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----'), pem.indexOf('-----END CERTIFICATE-----') + 25)
  return run('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: first }).split('=')[1]!.replace(/[:\s]/g, '')
}

/** Debian installs certmonger's helpers in /usr/lib/certmonger, Fedora in /usr/libexec/certmonger. */
export const certmongerHelper = (name: string) =>
  ['/usr/libexec/certmonger', '/usr/lib/certmonger'].map((d) => `${d}/${name}`).find((p) => existsSync(p))

export type { Enroll }
