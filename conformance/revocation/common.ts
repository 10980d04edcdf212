// Shared by the revocation conformance files: running the clients, keys and CSRs from `openssl req`, issuance and
// revocation through the admin API with curl, the certificates OCSP must not know (a serial we never issued, a
// foreign issuer), and reading what openssl prints.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Enroll } from '../helpers/server.js'

/**
 * A command line as an argument vector, written as one line: cmd`openssl crl -in ${file} -noout`. Literal text is
 * split at whitespace; an interpolated string stays one argument (joined to adjacent literal text, as in
 * `--ask=${url}`), an interpolated array adds its items. No shell is involved.
 */
export function cmd(
  literals: TemplateStringsArray,
  ...values: (string | readonly string[])[]
): string[] {
  const argv: string[] = []
  let current: string | undefined
  const flush = () => {
    if (current !== undefined) argv.push(current)
    current = undefined
  }
  literals.forEach((literal, i) => {
    for (const piece of literal.split(/(\s+)/)) {
      if (/^\s+$/.test(piece)) flush()
      else if (piece) current = (current ?? '') + piece
    }
    if (i >= values.length) return
    const value = values[i]!
    if (typeof value === 'string') current = (current ?? '') + value
    else {
      flush()
      argv.push(...value)
    }
  })
  flush()
  return argv
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  /** stdout and stderr together, as a person at a terminal would read them. */
  all: string
}

export interface RunOptions {
  input?: string
  env?: Record<string, string>
  timeoutMs?: number
}

/** Runs a client without throwing: openssl ocsp and verify exit non-zero on outcomes we test for. */
export function run([command, ...args]: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((done, fail) => {
    const child = spawn(command!, args, {
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 60_000,
    })
    let stdout = ''
    let stderr = ''
    let all = ''
    child.stdout!.on('data', (d: Buffer) => ((stdout += d), (all += d)))
    child.stderr!.on('data', (d: Buffer) => ((stderr += d), (all += d)))
    child.once('error', fail)
    child.once('close', (code) => done({ code, stdout, stderr, all }))
    if (options.input !== undefined) {
      child.stdin!.on('error', () => {}) // a client that exits without reading its input is judged by its output
      child.stdin!.end(options.input)
    }
  })
}

/** Runs a client that must succeed; returns its stdout. The error carries its output. */
export async function must(argv: string[], options: RunOptions = {}): Promise<string> {
  const r = await run(argv, options)
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}:\n${r.all}`)
  return r.stdout
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `probe` until it returns a value, or gives up after `timeoutMs` (undefined). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 50,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) return undefined
    await sleep(everyMs)
  }
}

export const ocspUrl = (enroll: Enroll) => `${enroll.httpUrl}/.well-known/pki/ocsp`
export const crlUrl = (enroll: Enroll) => `${enroll.httpUrl}/.well-known/pki/crl`

/** The issuing CA certificate alone: the first certificate of `<data>/ca.pem`. */
export function writeIssuing(enroll: Enroll, file: string): string {
  const bundle = readFileSync(enroll.caBundle, 'utf8')
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(bundle)
  if (!first) throw new Error(`no certificate in ${enroll.caBundle}`)
  writeFileSync(file, first[0])
  return file
}

export type KeyKind = 'ec' | 'rsa'

/** A new key and CSR from `openssl req` (EC P-256 or RSA 2048); returns the CSR file. */
export async function makeCsr(dir: string, name: string, kind: KeyKind): Promise<string> {
  const key = join(dir, `${name}.key`)
  const csr = join(dir, `${name}.csr`)
  const newKey =
    kind === 'ec' ? cmd`-newkey ec -pkeyopt ec_paramgen_curve:P-256` : cmd`-newkey rsa:2048`
  const dns = `${name}.revocation.example.test`
  await must(
    cmd`openssl req -new ${newKey} -nodes -keyout ${key} -out ${csr} -subj /CN=${dns} -addext subjectAltName=DNS:${dns}`,
  )
  return csr
}

export interface Leaf {
  id: string
  /** Lowercase hex, as the admin API returns it. */
  serial: string
  /** PEM certificate file. */
  file: string
}

const admin = (enroll: Enroll, path: string, body: unknown) =>
  must(
    cmd`curl -sS --fail-with-body --cacert ${enroll.caBundle} -H ${`Authorization: Bearer ${enroll.adminKey}`}
      -H ${'Content-Type: application/json'} --data-binary @- ${enroll.httpsUrl}/api/v1${path}`,
    { input: JSON.stringify(body) },
  )

/** Issues a certificate for a new `openssl req` CSR through POST /api/v1/certificates. */
export async function issue(
  enroll: Enroll,
  dir: string,
  name: string,
  kind: KeyKind,
): Promise<Leaf> {
  const csr = await makeCsr(dir, name, kind)
  const body = await admin(enroll, '/certificates', { csr: readFileSync(csr, 'utf8') })
  const issued = JSON.parse(body) as { id: string; serial: string; status: string; pem: string }
  if (issued.status !== 'valid') throw new Error(`${name}: issued with status ${issued.status}`)
  const file = join(dir, `${name}.pem`)
  writeFileSync(file, issued.pem)
  return { id: issued.id, serial: issued.serial, file }
}

/** POST /api/v1/certificates/<id>/revoke with an RFC 5280 reason name. */
export async function revoke(
  enroll: Enroll,
  leaf: Leaf,
  reason: string,
): Promise<{ status: string }> {
  return JSON.parse(await admin(enroll, `/certificates/${leaf.id}/revoke`, { reason })) as {
    status: string
  }
}

/**
 * A certificate with our issuing CA's name and key but a serial this server never issued: signed with
 * `openssl x509 -req` using the issuing key from the data dir (the test runs on the server's machine).
 */
export async function unknownLeaf(enroll: Enroll, dir: string, issuing: string): Promise<Leaf> {
  const csr = await makeCsr(dir, 'never-issued', 'ec')
  const file = join(dir, 'never-issued.pem')
  const serial = '0123456789abcdef0123456789abcdef'
  const key = join(enroll.dataDir, 'ca', 'local', 'issuing.key.pem')
  await must(
    cmd`openssl x509 -req -in ${csr} -CA ${issuing} -CAkey ${key} -set_serial 0x${serial} -days 30 -out ${file}`,
  )
  return { id: '', serial, file }
}

/** A throwaway CA that is not ours and one certificate from it: OCSP must answer `unauthorized`. */
export async function foreignLeaf(dir: string): Promise<{ ca: string; leaf: Leaf }> {
  const ca = join(dir, 'foreign-ca.pem')
  const key = join(dir, 'foreign-ca.key')
  await must(
    cmd`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${key} -out ${ca}
      -subj ${'/CN=Throwaway Foreign CA'} -days 2`,
  )
  const csr = await makeCsr(dir, 'foreign', 'ec')
  const file = join(dir, 'foreign.pem')
  const serial = '55aa55aa55aa55aa'
  await must(
    cmd`openssl x509 -req -in ${csr} -CA ${ca} -CAkey ${key} -set_serial 0x${serial} -days 1 -out ${file}`,
  )
  return { ca, leaf: { id: '', serial, file } }
}

export interface HttpHead {
  code: number
  /** Lowercased names. */
  headers: Map<string, string>
}

/** The status line and headers curl printed with `-D -` (the last response, after any 100 Continue). */
export function parseHead(raw: string): HttpHead {
  const lines = raw
    .trim()
    .split(/\r?\n\r?\n/)
    .at(-1)!
    .split(/\r?\n/)
  const code = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(lines[0]!)?.[1])
  const headers = new Map<string, string>()
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':')
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim())
  }
  return { code, headers }
}

/** GET with curl into `file` (extra request headers as `Name: value`); returns the response head. */
export async function get(url: string, file: string, headers: string[] = []): Promise<HttpHead> {
  return parseHead(
    await must(cmd`curl -sS -D - -o ${file} ${headers.flatMap((h) => ['-H', h])} ${url}`),
  )
}

/** A serial as one spelling for comparisons: lowercase hex without leading zeros. */
export const normSerial = (hex: string) => BigInt(`0x${hex}`).toString(16)

/** `openssl crl -text` of a DER or PEM CRL file. */
export const crlText = (file: string, form: 'DER' | 'PEM' = 'DER') =>
  must(cmd`openssl crl -inform ${form} -in ${file} -noout -text`)

/** The revoked serials of a CRL (`openssl crl -text`), normalized → reason text ('' when absent). */
export function crlEntries(text: string): Map<string, string> {
  const entries = new Map<string, string>()
  const list = text.split(/Revoked Certificates:/)[1] ?? ''
  for (const block of list.split(/Serial Number: /).slice(1)) {
    const serial = normSerial(/^([0-9A-Fa-f]+)/.exec(block)![1]!)
    const reason = /CRL Reason Code:\s*\n\s*(.+)/.exec(block)?.[1]?.trim() ?? ''
    entries.set(serial, reason)
  }
  return entries
}

/** The CRL Number printed by `openssl crl -text` (decimal, or hex as 0x.. for larger values). */
export function crlNumber(text: string): bigint {
  const m = /CRL Number:\s*\n\s*(0x[0-9A-Fa-f]+|\d+)/.exec(text)
  if (!m) throw new Error(`no CRL Number in:\n${text}`)
  return BigInt(m[1]!)
}

export interface OcspStatus {
  status: 'good' | 'revoked' | 'unknown'
  /** `Reason:` line of a revoked answer; undefined when openssl printed none. */
  reason?: string | undefined
  thisUpdate: string
  nextUpdate?: string | undefined
  revocationTime?: string | undefined
}

/** Per certificate file, what `openssl ocsp` printed on stdout (`leaf.pem: good`, then indented fields). */
export function ocspStatuses(stdout: string): Map<string, OcspStatus> {
  const out = new Map<string, OcspStatus>()
  for (const m of stdout.matchAll(/^(\S.*?): (good|revoked|unknown)\n((?:\t.*\n?)*)/gm)) {
    const field = (name: string) => new RegExp(`^\\t${name}: (.+)$`, 'm').exec(m[3]!)?.[1]?.trim()
    out.set(m[1]!, {
      status: m[2] as OcspStatus['status'],
      reason: field('Reason'),
      thisUpdate: field('This Update') ?? '',
      nextUpdate: field('Next Update'),
      revocationTime: field('Revocation Time'),
    })
  }
  return out
}
