// The base64/PKCS#10 layer of EST (RFC 7030 §4.2.1, RFC 8951 §3.2) under 10,000 generated bodies: junk, base64
// of junk, PEM instead of base64 DER, truncated and extended DER, bit flips, non-canonical base64 edits, other
// DER structures. Each must be answered 400 with a text explanation — never 5xx — and nothing may be stored.
// Seeded (EST_FUZZ_SEED=<n> to replay); the generator is below, no dependency.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { estApp } from '../../protocols/est/index.js'
import { loadConfig } from '../../src/config/load.js'
import { sequence, tlv } from '../../src/pki/der.js'
import { toPem } from '../../src/pki/pem.js'
import { openCore, type Core } from '../../src/server.js'
import { makeCsr } from '../helpers/csr.js'

const CASES = 10_000
const seed = Number(process.env['EST_FUZZ_SEED'] ?? 0x7030_8951)
const logger = pino({ level: 'silent' })

/** mulberry32: a small, fast, seedable PRNG (not for cryptography). */
function prng(s: number) {
  let a = s >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)))
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
  return { int, bytes, pick }
}

type Rng = ReturnType<typeof prng>
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** One generated case: its class (for the failure report) and the body. */
interface Case {
  kind: string
  body: string | Buffer
}

function generator(valid: Buffer[], otherDer: Buffer[]) {
  const validB64 = new Set(valid.map((d) => d.toString('base64')))
  /** The DER a body would decode to must not be one of the valid requests (non-canonical base64 can collide). */
  const stillValid = (der: Buffer) => validB64.has(der.toString('base64'))

  const mutateDer = (r: Rng, der: Buffer): Buffer => {
    for (;;) {
      const out = Buffer.from(der)
      const flips = 1 + r.int(3)
      for (let i = 0; i < flips; i++) out[r.int(out.length)]! ^= 1 << r.int(8)
      if (!stillValid(out)) return out
    }
  }

  const classes: [string, (r: Rng) => string | Buffer][] = [
    ['junk-bytes', (r) => r.bytes(r.int(600))],
    ['junk-text', (r) => Array.from({ length: 1 + r.int(300) }, () => String.fromCharCode(32 + r.int(95))).join('')],
    ['base64-of-junk', (r) => r.bytes(1 + r.int(600)).toString('base64')],
    ['base64-of-junk-sequence', (r) => Buffer.from(sequence(r.bytes(r.int(300)))).toString('base64')],
    ['truncated-der', (r) => {
      const der = r.pick(valid)
      return der.subarray(0, r.int(der.length)).toString('base64')
    }],
    ['extended-der', (r) => Buffer.concat([r.pick(valid), r.bytes(1 + r.int(40))]).toString('base64')],
    ['bit-flipped-der', (r) => mutateDer(r, r.pick(valid)).toString('base64')],
    ['bit-flipped-der-as-pem', (r) => toPem(mutateDer(r, r.pick(valid)), 'CERTIFICATE REQUEST')],
    ['truncated-der-as-pem', (r) => {
      const der = r.pick(valid)
      return toPem(der.subarray(0, 1 + r.int(der.length - 1)), 'CERTIFICATE REQUEST')
    }],
    ['valid-der-wrong-pem-label', (r) => toPem(r.pick(valid), r.pick(['CERTIFICATE', 'PRIVATE KEY', 'PKCS7', 'X509 CRL']))],
    ['binary-der', (r) => r.pick(valid)],
    ['base64-char-replaced', (r) => {
      for (;;) {
        const b64 = r.pick(valid).toString('base64').split('')
        const at = r.int(b64.length)
        if (b64[at] === '=') continue
        b64[at] = B64[r.int(64)]!
        const text = b64.join('')
        if (!stillValid(Buffer.from(text, 'base64'))) return text
      }
    }],
    ['base64-stray-characters', (r) => {
      const b64 = r.pick(valid).toString('base64')
      const at = r.int(b64.length)
      return `${b64.slice(0, at)}${r.pick(['*', '-', '_', '%', '.', ',', '!', '\u0000', 'é'])}${b64.slice(at)}`
    }],
    // Appended to the canonical (padded) form, each of these leaves padding that no encoder writes.
    ['base64-bad-padding', (r) => `${r.pick(valid).toString('base64')}${r.pick(['=', '==', 'A', 'A=', '=A'])}`],
    ['other-der-structure', (r) => r.pick(otherDer).toString('base64')],
    ['nested-random-tlvs', (r) => {
      const depth = 1 + r.int(4)
      let inner = r.bytes(r.int(40))
      for (let i = 0; i < depth; i++) inner = Buffer.from(tlv(r.pick([0x30, 0x31, 0xa0, 0x04, 0x03, 0x02]), inner))
      return inner.toString('base64')
    }],
  ]
  return (r: Rng): Case => {
    const [kind, make] = r.pick(classes)
    return { kind, body: make(r) }
  }
}

let dataDir: string
let core: Core
let app: ReturnType<typeof estApp>

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'enroll-est-fuzz-'))
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      logLevel: 'silent',
      profiles: { default: { allow: { dns: ['**.example.com'] } } },
      est: { labels: { default: { users: [{ name: 'fuzz', password: 'fuzz' }] } } },
    },
  })
  core = await openCore(config, logger, { createCa: true })
  app = estApp({ config, issuance: core.issuance, logger })
})

afterAll(async () => {
  await core?.store.close()
  rmSync(dataDir, { recursive: true, force: true })
})

describe(`EST base64/PKCS#10 fuzz (${CASES} cases, seed ${seed})`, () => {
  it('fail/every-malformed-body-is-400-never-5xx-and-nothing-is-stored', { timeout: 600_000 }, async () => {
    const valid = await Promise.all(
      (['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'ed25519'] as const).map(async (key) =>
        Buffer.from((await makeCsr({ key, subject: 'CN=fuzz.example.com', dns: ['fuzz.example.com'] })).der),
      ),
    )
    const otherDer = [...(await core.issuance.chainFor('default')).map((d) => Buffer.from(d)), Buffer.from(sequence())]
    const next = generator(valid, otherDer)
    const r = prng(seed)
    const headers = { 'Content-Type': 'application/pkcs10', Authorization: `Basic ${Buffer.from('fuzz:fuzz').toString('base64')}` }
    const byKind = new Map<string, number>()
    const wrong: string[] = []
    for (let i = 0; i < CASES; i++) {
      const c = next(r)
      byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1)
      const body = typeof c.body === 'string' ? c.body : new Uint8Array(c.body)
      const res = await app.request('/simpleenroll', { method: 'POST', headers, body })
      const text = await res.text()
      if (res.status !== 400 || !res.headers.get('content-type')?.startsWith('text/plain') || text.trim() === '') {
        wrong.push(`#${i} ${c.kind}: ${res.status} ${text.trim().slice(0, 120)} body=${Buffer.from(c.body).toString('base64').slice(0, 80)}`)
        if (wrong.length >= 10) break
      }
    }
    expect(wrong, `seed ${seed}`).toEqual([])
    expect([...byKind.keys()].length).toBe(16)
    expect(await core.store.certificates.countByStatus()).toEqual({})
    expect((await core.store.audit.list({ limit: 10 })).filter((a) => a.action.startsWith('certificate.'))).toEqual([])
  })

  it.each([
    ['fail/wrong-content-type-is-415', { 'Content-Type': 'application/octet-stream' }, 415],
    ['fail/no-content-type-is-415', {}, 415],
  ])('%s', async (_name, contentType, status) => {
    const der = (await makeCsr({ dns: ['ct.example.com'] })).der
    const res = await app.request('/simpleenroll', {
      method: 'POST',
      headers: { ...contentType, Authorization: `Basic ${Buffer.from('fuzz:fuzz').toString('base64')}` },
      body: Buffer.from(der).toString('base64'),
    })
    expect(res.status).toBe(status)
    expect(await core.store.certificates.countByStatus()).toEqual({})
  })

  it('fail/forbidden-san-is-403-and-nothing-stored', async () => {
    const der = (await makeCsr({ dns: ['fuzz.example.net'] })).der
    const res = await app.request('/simpleenroll', {
      method: 'POST',
      headers: { 'Content-Type': 'application/pkcs10', Authorization: `Basic ${Buffer.from('fuzz:fuzz').toString('base64')}` },
      body: Buffer.from(der).toString('base64'),
    })
    expect(res.status).toBe(403)
    expect(await core.store.certificates.countByStatus()).toEqual({})
  })
})
