// Shared by the EST conformance files: shell steps as a device integrator writes them, fixture capture
// (ENROLL_CAPTURE_FIXTURES=1 writes the wire messages to fixtures/est, see fixtures/README.md), and the server
// configuration both clients run against.
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { projectRoot } from '../helpers/server.js'

export interface Ran {
  code: number | null
  stdout: string
  /** stdout and stderr together, as a person at a terminal would read them. */
  all: string
}

/** Runs a bash script in `cwd` with extra environment; never throws on a non-zero exit. */
export function sh(script: string, cwd: string, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    })
    let stdout = ''
    let all = ''
    child.stdout.on('data', (d: Buffer) => ((stdout += d), (all += d)))
    child.stderr.on('data', (d: Buffer) => (all += d))
    child.once('error', fail)
    child.once('close', (code) => done({ code, stdout, all }))
  })
}

/** Runs a bash script that must succeed; the error carries its output. */
export async function must(script: string, cwd: string, env: Record<string, string> = {}): Promise<string> {
  const r = await sh(script, cwd, env)
  if (r.code !== 0) throw new Error(`script exited ${r.code}:\n${script}\n--- output ---\n${r.all}`)
  return r.stdout
}

export const capturing = process.env['ENROLL_CAPTURE_FIXTURES'] === '1'
const estFixtures = join(projectRoot, 'fixtures', 'est')

/** Copies a file into fixtures/est when capturing. */
export function keepFile(file: string, name: string): void {
  if (!capturing) return
  mkdirSync(estFixtures, { recursive: true })
  copyFileSync(file, join(estFixtures, name))
}

/** Writes bytes into fixtures/est when capturing. */
export function keepBytes(bytes: Uint8Array | string, name: string): void {
  if (!capturing) return
  mkdirSync(estFixtures, { recursive: true })
  writeFileSync(join(estFixtures, name), bytes)
}

/**
 * The HTTP requests strongSwan pki logs at `--debug 2` ("http request: => N bytes", then a hex dump with
 * offsets), reassembled into bytes.
 */
export function requestsFromPkiDebug(log: string): Buffer[] {
  const out: Buffer[] = []
  const lines = log.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const head = /http request: => (\d+) bytes/.exec(lines[i]!)
    if (!head) continue
    const bytes: number[] = []
    for (let j = i + 1; j < lines.length; j++) {
      const m = /^\s*\d+: ((?:[0-9A-F]{2} ?)+)/.exec(lines[j]!)
      if (!m) break
      bytes.push(...m[1]!.trim().split(/\s+/).map((h) => parseInt(h, 16)))
    }
    out.push(Buffer.from(bytes.slice(0, Number(head[1]))))
  }
  return out
}

/** An HTTP request with the Authorization header's credentials replaced (fixtures never hold real secrets). */
export const redactAuthorization = (request: Buffer): Buffer =>
  Buffer.from(request.toString('latin1').replace(/^(Authorization: Basic )\S+/im, '$1<redacted>'), 'latin1')

/** The certificates in a PEM file, one file each (strongSwan's --cacert takes one certificate per option). */
export const splitPemScript = (pem: string, prefix: string) =>
  `awk -v p='${prefix}' '/-----BEGIN CERTIFICATE-----/{n++} n{print > (p n ".pem")}' '${pem}'`
