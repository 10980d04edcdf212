// `node dist/bench/what-if.js` (after `npm run build`): measured evidence for the optimisations in the
// bench report. The certificate writer and the lean SQL below are PROTOTYPES for measuring, not code to
// ship: the writer refuses to report figures unless its TBSCertificate is byte-identical to LocalCa.sign's.
//   A. signing alone: LocalCa.sign vs a DER-template writer signing with WebCrypto or node:crypto.sign
//   B. parseCsr, sequential, split into parsing and the signature check; node:crypto.verify for comparison
//   C. through the service at concurrency 64 on PostgreSQL: as is · the same path hand-composed (template
//      writer, node:crypto.sign, statements returning only the id)
//   D. the two store statements alone: as the store writes them vs returning only the id
// Same knobs as run.ts: BENCH_DATABASE_URL, BENCH_POOL, BENCH_SCALE.
import {
  createHash,
  createPublicKey,
  KeyObject,
  sign as signSync,
  verify,
  webcrypto,
} from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import type { SignRequest, SignResult } from '../src/ca/backend.js'
import { importPrivateKeyPem, keyParams } from '../src/ca/local/keys.js'
import { parseCsr, type ParsedCsr } from '../src/pki/csr.js'
import type { Der } from '../src/pki/pem.js'
import { newSerial } from '../src/pki/serial.js'
import { x509 } from '../src/pki/x509.js'
import { compileProfile, evaluate } from '../src/policy/evaluate.js'
import type { Core } from '../src/server.js'
import { signRequestsFor } from './baseline.js'
import { cpuSince, sampleCpu } from './cpu.js'
import { makeCsrs } from './csr.js'
import { issueParsed } from './issuance.js'
import { runPool, type RunResult } from './stats.js'
import { defaultDatabaseUrl, openTarget } from './target.js'

const env = process.env
const databaseUrl = env['BENCH_DATABASE_URL'] || defaultDatabaseUrl
const poolSize = Number(env['BENCH_POOL'] || 16)
const scale = Number(env['BENCH_SCALE'] ?? 1)
const n = (count: number) => Math.max(1, Math.round(count * scale))

// ── a minimal DER writer and reader (X.690 §10) ──────────────────────────────────────────────────
function tlv(tag: number, ...parts: Uint8Array[]): Der {
  const length = parts.reduce((sum, p) => sum + p.byteLength, 0)
  const head =
    length < 0x80
      ? [tag, length]
      : length < 0x100
        ? [tag, 0x81, length]
        : length < 0x10000
          ? [tag, 0x82, length >> 8, length & 0xff]
          : [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]
  const out = new Uint8Array(head.length + length)
  out.set(head)
  let at = head.length
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}
const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts)
const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'))

function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number)
  const body = [40 * arcs[0]! + arcs[1]!]
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128))
      chunk.unshift((v & 0x7f) | 0x80)
    body.push(...chunk)
  }
  return tlv(0x06, Uint8Array.from(body))
}

const two = (v: number) => String(v).padStart(2, '0')
/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
function time(d: Date): Uint8Array {
  const y = d.getUTCFullYear()
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`
  return y < 2050 ? tlv(0x17, latin1(`${two(y % 100)}${rest}`)) : tlv(0x18, latin1(`${y}${rest}`))
}

function unsignedInteger(bytes: Uint8Array): Uint8Array {
  let i = 0
  while (i < bytes.length - 1 && bytes[i] === 0) i++
  const v = bytes.subarray(i)
  return v[0]! & 0x80 ? tlv(0x02, Uint8Array.of(0), v) : tlv(0x02, v)
}

const extension = (id: string, critical: boolean, value: Uint8Array) =>
  critical
    ? seq(oid(id), Uint8Array.of(0x01, 0x01, 0xff), tlv(0x04, value))
    : seq(oid(id), tlv(0x04, value))

/** The TLV at `offset`: where its content starts and where it ends. */
function readTlv(der: Uint8Array, offset: number): { start: number; end: number } {
  let at = offset + 1
  let length = der[at++]!
  if (length & 0x80) {
    let count = length & 0x7f
    length = 0
    while (count--) length = length * 256 + der[at++]!
  }
  return { start: at, end: at + length }
}

/** The elements of a constructed TLV (SEQUENCE, [3] …), each as its full TLV bytes. */
function children(der: Der, offset = 0): Der[] {
  const { start, end } = readTlv(der, offset)
  const out: Der[] = []
  for (let at = start; at < end;) {
    const next = readTlv(der, at).end
    out.push(der.subarray(at, next))
    at = next
  }
  return out
}

/** Contents of the subjectPublicKey BIT STRING of an SPKI, without the unused-bits octet. */
const spkiKeyBits = (spki: Der) => {
  const bits = children(spki)[1]!
  return bits.subarray(readTlv(bits, 0).start + 1)
}

const keyUsageBit: Record<string, number> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
}

/** RFC 5280 §4.2.1.3 KeyUsage: a named BIT STRING, trailing zero bits dropped (X.690 §11.2.2). */
function keyUsage(names: string[]): Uint8Array {
  let v = 0
  for (const name of names) v |= 1 << (15 - keyUsageBit[name]!)
  const bytes = v & 0xff ? [v >> 8, v & 0xff] : [v >> 8]
  const last = bytes.at(-1)!
  let unused = 0
  while (unused < 7 && !(last & (1 << unused))) unused++
  return tlv(0x03, Uint8Array.of(unused, ...bytes))
}

function generalName(id: { type: string; value: string }): Uint8Array {
  if (id.type === 'dns') return tlv(0x82, latin1(id.value))
  if (id.type === 'email') return tlv(0x81, latin1(id.value))
  if (id.type === 'uri') return tlv(0x86, latin1(id.value))
  if (id.type === 'ip' && id.value.includes('.'))
    return tlv(0x87, Uint8Array.from(id.value.split('.').map(Number)))
  throw new Error(`prototype: ${id.type} ${id.value} not supported`)
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const perCertificateExtensions = new Set(
  ['2.5.29.19', '2.5.29.15', '2.5.29.37', '2.5.29.14', '2.5.29.35', '2.5.29.17'].map((o) =>
    hex(oid(o)),
  ),
)

/**
 * PROTOTYPE certificate writer. The per-CA constants (issuer Name, signature AlgorithmIdentifier,
 * BasicConstraints, AKI and the trailing CDP/Freshest CRL/AIA extensions) are cut once from a certificate
 * LocalCa.sign wrote, so any URL or extension change in src shows up here too. Per certificate it writes
 * serial, validity, subject, SPKI, KeyUsage, EKU, SKI and SAN, then signs the TBSCertificate once.
 */
function derTemplateWriter(
  sample: Der,
  chainDer: Der[],
  signTbs: (tbs: Der) => Promise<Uint8Array>,
) {
  const [tbsSample, sigAlg] = children(sample) as [Der, Der]
  const fields = children(tbsSample)
  const [version, , , issuer] = fields as [Der, Der, Der, Der]
  const exts = children(fields.at(-1)!, readTlv(fields.at(-1)!, 0).start)
  const byOid = (o: string) => exts.find((e) => hex(children(e)[0]!) === hex(oid(o)))!
  const basicConstraints = byOid('2.5.29.19')
  const aki = byOid('2.5.29.35')
  const trailing = exts.filter((e) => !perCertificateExtensions.has(hex(children(e)[0]!)))
  return async (req: SignRequest): Promise<SignResult> => {
    const list = [basicConstraints, extension('2.5.29.15', true, keyUsage(req.keyUsage))]
    if (req.extKeyUsage.length)
      list.push(extension('2.5.29.37', false, seq(...req.extKeyUsage.map(oid))))
    const ski = createHash('sha1').update(spkiKeyBits(req.publicKeyDer)).digest()
    list.push(extension('2.5.29.14', false, tlv(0x04, ski)), aki)
    if (req.sans.length) {
      list.push(
        extension('2.5.29.17', req.subjectDer.byteLength <= 2, seq(...req.sans.map(generalName))),
      )
    }
    list.push(...trailing)
    const tbs = seq(
      version,
      unsignedInteger(Buffer.from(req.serial, 'hex')),
      sigAlg,
      issuer,
      seq(time(req.notBefore), time(req.notAfter)),
      req.subjectDer,
      req.publicKeyDer,
      tlv(0xa3, seq(...list)),
    )
    return {
      certificateDer: seq(tbs, sigAlg, tlv(0x03, Uint8Array.of(0), await signTbs(tbs))),
      chainDer,
    }
  }
}

/** WebCrypto's ECDSA r || s → DER Ecdsa-Sig-Value (RFC 3279 §2.2.3). */
const ecdsaRawToDer = (raw: Uint8Array) =>
  seq(
    unsignedInteger(raw.subarray(0, raw.length / 2)),
    unsignedInteger(raw.subarray(raw.length / 2)),
  )

// ── measuring ────────────────────────────────────────────────────────────────────────────────────
interface Measured extends RunResult {
  label: string
  nodeMs: number
  postgresMs: number | undefined
  othersShare: number | undefined
}

const lines: string[] = []
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '-')

async function measure(label: string, fn: () => Promise<RunResult>): Promise<Measured> {
  const c0 = sampleCpu()
  const r = await fn()
  const c = cpuSince(c0)
  const m = {
    label,
    ...r,
    nodeMs: c.processMs / r.count,
    postgresMs: c.postgresMs === undefined ? undefined : c.postgresMs / r.count,
    othersShare: c.othersShare,
  }
  lines.push(
    `   ${label.padEnd(64)} ${r.perSecond.toFixed(0).padStart(6)}/s  p50 ${f2(r.p50Ms).padStart(6)} ms  ` +
      `CPU/op Node ${f2(m.nodeMs)}${m.postgresMs === undefined ? '' : ` + PG ${f2(m.postgresMs)}`} ms` +
      `  others ${m.othersShare === undefined ? '-' : `${(100 * m.othersShare).toFixed(0)}%`}`,
  )
  process.stderr.write(`  ${label}: ${r.perSecond.toFixed(0)}/s\n`)
  return m
}

function sequential(label: string, count: number, fn: (i: number) => unknown): void {
  const t0 = performance.now()
  for (let i = 0; i < count; i++) fn(i)
  lines.push(`   ${label.padEnd(64)} ${f2((performance.now() - t0) / count).padStart(6)} ms each`)
}

const json = (sql: postgres.Sql, v: unknown) => sql.json(v as postgres.JSONValue)

/** Certificates and audit rows the way issuance.issue writes them, but each statement returns only the id. */
function leanPipeline(
  core: Core,
  sql: postgres.Sql,
  write: (req: SignRequest) => Promise<SignResult>,
) {
  const profile = compileProfile('default', core.config.profiles['default']!)
  return async (csr: ParsedCsr) => {
    const d = evaluate({ csr }, profile, new Date())
    const serial = newSerial()
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64')
    const plan = {
      subjectDer: b64(d.subjectDer),
      publicKeyDer: b64(csr.publicKeyDer),
      sans: d.sans,
      notBefore: d.notBefore.toISOString(),
      notAfter: d.notAfter.toISOString(),
      keyUsage: d.keyUsage,
      extKeyUsage: d.extKeyUsage,
    }
    const [row] = await sql<{ id: string }[]>`
      insert into certificates
        (serial, status, profile, backend_id, protocol, requester, subject, sans, csr_der, plan, not_before, not_after)
      values (${serial}, 'reserved', 'default', 'local', 'admin', 'bench', ${d.subject}, ${json(sql, d.sans)},
              ${Buffer.from(csr.der)}, ${json(sql, plan)}, ${d.notBefore}, ${d.notAfter})
      returning id::text`
    const { certificateDer } = await write({
      reservationId: row!.id,
      serial,
      profile: 'default',
      subjectDer: d.subjectDer,
      publicKeyDer: csr.publicKeyDer,
      sans: d.sans,
      notBefore: d.notBefore,
      notAfter: d.notAfter,
      keyUsage: d.keyUsage,
      extKeyUsage: d.extKeyUsage,
    })
    const fingerprint = createHash('sha256').update(certificateDer).digest('hex')
    await sql`
      with c as (
        update certificates set status = 'valid', der = ${Buffer.from(certificateDer)},
          fingerprint_sha256 = ${fingerprint}, issued_at = now(), updated_at = now(), failure = null
        where id = ${row!.id} and der is null
        returning id, serial
      ),
      a as (
        insert into audit_events (action, actor, protocol, certificate_id, serial, request_id, detail)
        select 'certificate.issued', 'bench', 'admin', c.id, c.serial, null, ${json(sql, { profile: 'default' })} from c
      )
      select id from c`
  }
}

async function main() {
  const counts = { sign: n(3000), service: n(3000), store: n(3000), micro: n(1000) }
  const total = counts.sign + 2 * 2 * counts.service + counts.store + counts.micro
  process.stderr.write(`building ${total} CSRs …\n`)
  const ders = await makeCsrs(total)
  const parsed = await Promise.all(ders.map((d) => parseCsr(d)))
  let offset = 0
  const take = (k: number) => parsed.slice(offset, (offset += k))
  const target = await openTarget(databaseUrl, poolSize)
  if (!target.postgres) {
    process.stdout.write(`${target.fallbackReason}: the what-if figures need PostgreSQL.\n`)
    await target.close()
    return
  }
  const sql = postgres(target.postgres.url, {
    max: target.poolSize,
    onnotice: () => {},
    connection: { search_path: target.postgres.schema },
  })
  try {
    const { core, dataDir } = target
    const ca = core.backends.get('local')!
    const chain = await ca.chain()
    const keyPem = readFileSync(join(dataDir, 'ca', 'local', 'issuing.key.pem'), 'utf8')
    const key = await importPrivateKeyPem(keyPem, 'ecdsa-p256')
    const keyObject = KeyObject.from(key)
    const { signing } = keyParams('ecdsa-p256')
    const signReqs = signRequestsFor(core.config, take(counts.sign))
    const sample = (await ca.sign(signReqs[0]!)).certificateDer
    const viaWebCrypto = derTemplateWriter(sample, chain, async (tbs) =>
      ecdsaRawToDer(new Uint8Array(await webcrypto.subtle.sign(signing, key, tbs))),
    )
    const viaNodeSign = derTemplateWriter(
      sample,
      chain,
      async (tbs) => new Uint8Array(signSync('sha256', tbs, keyObject)),
    )

    // The prototype must write exactly what LocalCa.sign writes, bar the signature.
    const issuerKey = createPublicKey({
      key: Buffer.from(new x509.X509Certificate(chain[0]!).publicKey.rawData),
      format: 'der',
      type: 'spki',
    })
    for (const req of signReqs.slice(0, 50)) {
      const expected = children((await ca.sign(req)).certificateDer)[0]!
      for (const write of [viaWebCrypto, viaNodeSign]) {
        const [tbs, , sig] = children((await write(req)).certificateDer) as [
          Uint8Array,
          Uint8Array,
          Uint8Array,
        ]
        if (hex(tbs) !== hex(expected)) {
          throw new Error(
            'prototype writer no longer matches LocalCa.sign byte for byte; update bench/what-if.ts',
          )
        }
        if (!verify('sha256', tbs, issuerKey, sig.subarray(readTlv(sig, 0).start + 1))) {
          throw new Error('prototype signature does not verify')
        }
      }
    }
    lines.push(
      '',
      'prototype check: 50 TBSCertificates byte-identical to LocalCa.sign; signatures verify',
    )

    lines.push('', 'A. Signing alone, no store')
    for (const c of [1, 64]) {
      await measure(`LocalCa.sign (current), c${c}`, () =>
        runPool(n(1000), c, (i) => ca.sign(signReqs[i]!)),
      )
      await measure(`DER template + WebCrypto sign, c${c}`, () =>
        runPool(counts.sign, c, (i) => viaWebCrypto(signReqs[i]!)),
      )
      await measure(`DER template + node:crypto.sign (sync), c${c}`, () =>
        runPool(counts.sign, c, (i) => viaNodeSign(signReqs[i]!)),
      )
    }

    lines.push('', 'B. parseCsr, sequential')
    const csrDers = ders.slice(-counts.micro)
    {
      const t0 = performance.now()
      for (const d of csrDers) await parseCsr(d)
      lines.push(
        `   ${'parseCsr (whole)'.padEnd(64)} ${f2((performance.now() - t0) / csrDers.length).padStart(6)} ms each`,
      )
    }
    const requests = csrDers.map((d) => new x509.Pkcs10CertificateRequest(d))
    sequential(
      '  new x509.Pkcs10CertificateRequest(der)',
      csrDers.length,
      (i) => new x509.Pkcs10CertificateRequest(csrDers[i]!),
    )
    {
      const t0 = performance.now()
      for (const r of requests) await r.verify()
      lines.push(
        `   ${'  csr.verify() (@peculiar/x509 → WebCrypto)'.padEnd(64)} ${f2((performance.now() - t0) / requests.length).padStart(6)} ms each`,
      )
    }
    sequential('  node:crypto.verify of the same signature (DER as is)', csrDers.length, (i) => {
      const [info, , sig] = children(csrDers[i]!) as [Der, Der, Der]
      const spki = children(info)[2]!
      const publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
      return verify('sha256', info, publicKey, sig.subarray(readTlv(sig, 0).start + 1))
    })

    lines.push(
      '',
      `C. Through issuance at concurrency 64 on PostgreSQL (pool ${target.poolSize}; each twice, interleaved)`,
    )
    const lean = leanPipeline(core, sql, viaNodeSign)
    for (let round = 0; round < 2; round++) {
      await measure('issuance.issue as is', () => issueParsed(core, take(counts.service), 64))
      const batch = take(counts.service)
      await measure('hand-composed: statements RETURNING id, node:crypto.sign', () =>
        runPool(batch.length, 64, (i) => lean(batch[i]!)),
      )
    }

    lines.push('', 'D. The two store statements alone (reserve, complete + audit), concurrency 64')
    const der = new Uint8Array(600)
    const storeBatch = take(counts.store)
    const half = Math.floor(storeBatch.length / 2)
    await measure('store API: reserve + complete (returning whole rows)', () =>
      runPool(half, 64, async (i) => {
        const csr = storeBatch[i]!
        const rec = await core.store.certificates.reserve({
          serial: newSerial(),
          status: 'reserved',
          profile: 'default',
          backendId: 'local',
          protocol: 'admin',
          requester: 'bench',
          subject: `CN=${csr.commonName}`,
          sans: csr.requestedSans,
          csrDer: csr.der,
          plan: { publicKeyDer: Buffer.from(csr.publicKeyDer).toString('base64') },
          notBefore: new Date(),
          notAfter: new Date(Date.now() + 7_776_000_000),
        })
        await core.store.certificates.complete(
          rec.id,
          {
            der,
            notBefore: new Date(),
            notAfter: new Date(Date.now() + 7_776_000_000),
            fingerprintSha256: newSerial() + newSerial(),
          },
          {
            action: 'certificate.issued',
            actor: 'bench',
            protocol: 'admin',
            detail: { profile: 'default' },
          },
        )
      }),
    )
    await measure('same statements returning only the id', () =>
      runPool(storeBatch.length - half, 64, async (i) => {
        const csr = storeBatch[half + i]!
        const [row] = await sql<{ id: string }[]>`
          insert into certificates
            (serial, status, profile, backend_id, protocol, requester, subject, sans, csr_der, plan, not_before, not_after)
          values (${newSerial()}, 'reserved', 'default', 'local', 'admin', 'bench', ${`CN=${csr.commonName}`},
                  ${json(sql, csr.requestedSans)}, ${Buffer.from(csr.der)},
                  ${json(sql, { publicKeyDer: Buffer.from(csr.publicKeyDer).toString('base64') })}, now(), now())
          returning id::text`
        await sql`
          with c as (
            update certificates set status = 'valid', der = ${Buffer.from(der)}, fingerprint_sha256 = ${newSerial() + newSerial()},
              issued_at = now(), updated_at = now(), failure = null
            where id = ${row!.id} and der is null returning id, serial
          ),
          a as (
            insert into audit_events (action, actor, protocol, certificate_id, serial, request_id, detail)
            select 'certificate.issued', 'bench', 'admin', c.id, c.serial, null, ${json(sql, { profile: 'default' })} from c
          )
          select id from c`
      }),
    )
  } finally {
    await sql.end({ timeout: 5 })
    await target.close()
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}

main().catch((e: unknown) => {
  process.stderr.write(
    `what-if failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  )
  process.exitCode = 1
})
