// Shared by the ACME conformance files: the server with real validation pointed at pebble-challtestsrv, and
// certificate checks with openssl.
import { execFileSync } from 'node:child_process'
import { startChallTestSrv, type ChallTestSrv } from '../helpers/challtestsrv.js'
import { freePort, startEnroll, type Enroll } from '../helpers/server.js'

export interface AcmeRun {
  enroll: Enroll
  dns: ChallTestSrv
  http01Port: number
  tlsAlpn01Port: number
  directory: string
  stop(): Promise<void>
}

export async function startAcmeRun(env: Record<string, string> = {}): Promise<AcmeRun> {
  const dns = await startChallTestSrv()
  const [http01Port, tlsAlpn01Port] = [await freePort(), await freePort()]
  const enroll = await startEnroll({
    env: {
      ENROLL_ACME_DNS_RESOLVER: dns.dns,
      ENROLL_ACME_HTTP01_PORT: String(http01Port),
      ENROLL_ACME_TLSALPN01_PORT: String(tlsAlpn01Port),
      ...env,
    },
  })
  return {
    enroll,
    dns,
    http01Port,
    tlsAlpn01Port,
    directory: `${enroll.httpsUrl}/acme/directory`,
    async stop() {
      await enroll.stop()
      await dns.stop()
    },
  }
}

export const run = (cmd: string, args: string[], env: Record<string, string> = {}, input?: string) =>
  execFileSync(cmd, args, { encoding: 'utf8', input, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 180_000 })

/** Runs a client; on failure, the error carries its output and the server's. */
export function runClient(enroll: Enroll, cmd: string, args: string[], env: Record<string, string> = {}): string {
  try {
    return run(cmd, args, env)
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
