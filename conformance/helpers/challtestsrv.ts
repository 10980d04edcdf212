// pebble-challtestsrv as the test DNS server of ACME conformance runs: answers every A query with 127.0.0.1 and
// serves TXT records set through its management API (dns-01 hooks). Only its DNS and management listeners run.
import { spawn, type ChildProcess } from 'node:child_process'
import { freePort } from './server.js'

export interface ChallTestSrv {
  /** host:port for ENROLL_ACME_DNS_RESOLVER */
  dns: string
  /** http://127.0.0.1:<port> management API */
  management: string
  setTxt(host: string, value: string): Promise<void>
  clearTxt(host: string): Promise<void>
  stop(): Promise<void>
}

export async function startChallTestSrv(): Promise<ChallTestSrv> {
  const [dnsPort, mgmtPort] = [await freePort(), await freePort()]
  const child: ChildProcess = spawn(
    'pebble-challtestsrv',
    ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${mgmtPort}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const management = `http://127.0.0.1:${mgmtPort}`
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pebble-challtestsrv exited:\n${out}`)
    try {
      await fetch(`${management}/clear-txt`, { method: 'POST', body: JSON.stringify({ host: 'probe.test.' }) })
      break
    } catch {
      if (Date.now() > deadline) throw new Error(`pebble-challtestsrv did not start:\n${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${management}${path}`, { method: 'POST', body: JSON.stringify(body) })
    if (!r.ok) throw new Error(`challtestsrv ${path}: ${r.status}`)
  }
  const fqdn = (h: string) => (h.endsWith('.') ? h : `${h}.`)
  return {
    dns: `127.0.0.1:${dnsPort}`,
    management,
    setTxt: (host, value) => post('/set-txt', { host: fqdn(host), value }),
    clearTxt: (host) => post('/clear-txt', { host: fqdn(host) }),
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}
