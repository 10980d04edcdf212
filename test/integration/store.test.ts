// src/store: the inventory and the audit log on the real PostgreSQL and on PGlite (one SQL dialect).
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { PGlite } from '@electric-sql/pglite'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newSerial } from '../../src/pki/serial.js'
import type { NewReservation } from '../../src/store/certificates.js'
import {
  openStore,
  type AuditEntry,
  type CertificateRecord,
  type Store,
} from '../../src/store/index.js'
import { postgresTarget } from '../../src/store/database.js'
import { migrate, migrations } from '../../src/store/migrations.js'
import { storeTargets, type StoreTarget } from '../helpers/store.js'

const DAY = 24 * 3600 * 1000
type Opened = Awaited<ReturnType<StoreTarget['open']>>

let counter = 0
const reservation = (o: Partial<NewReservation> = {}): NewReservation => ({
  serial: newSerial(),
  status: 'reserved',
  profile: 'default',
  backendId: 'local',
  protocol: 'admin',
  requester: 'admin:test',
  subject: 'CN=host.example.com',
  sans: [{ type: 'dns', value: 'host.example.com' }],
  csrDer: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]),
  plan: { note: 'opaque to the store' },
  notBefore: new Date(Date.now() - 60_000),
  notAfter: new Date(Date.now() + 90 * DAY),
  ...o,
})

/** Stand-in certificate bytes: the store treats DER as opaque; fingerprints must be unique. */
const issued = (notAfter = new Date(Date.now() + 90 * DAY)) => {
  const n = ++counter
  return {
    der: new Uint8Array([0x30, 0x02, n & 0xff, (n >> 8) & 0xff]),
    notBefore: new Date(Date.now() - 60_000),
    notAfter,
    fingerprintSha256: `${'f'.repeat(56)}${n.toString(16).padStart(8, '0')}`,
  }
}

const entry = (action: string, o: Partial<AuditEntry> = {}): AuditEntry => ({
  action,
  actor: 'admin:test',
  protocol: 'admin',
  ...o,
})

async function issuedRecord(
  store: Store,
  o: Partial<NewReservation> = {},
  notAfter?: Date,
): Promise<CertificateRecord> {
  const r = await store.certificates.reserve(reservation(o))
  return store.certificates.complete(r.id, issued(notAfter), entry('certificate.issued'))
}

/** Runs `fn` with a raw client on a store's database. PGlite admits one process: the store must be closed. */
async function withRawSql<T>(
  target: StoreTarget['name'],
  opened: Opened,
  fn: (query: (text: string) => Promise<Record<string, unknown>[]>) => Promise<T>,
): Promise<T> {
  if (target === 'postgres') {
    const sql = postgres(opened.url!, {
      max: 1,
      onnotice: () => {},
      connection: { search_path: opened.schema },
    })
    try {
      return await fn(async (text) => [...(await sql.unsafe(text))])
    } finally {
      await sql.end()
    }
  }
  const db = await PGlite.create(join(opened.dataDir, 'db'))
  try {
    return await fn(async (text) => (await db.query<Record<string, unknown>>(text)).rows)
  } finally {
    await db.close()
  }
}

describe.each(storeTargets())('store on $name', (target) => {
  let opened: Opened
  let store: Store
  beforeAll(async () => {
    opened = await target.open()
    store = opened.store
  })
  afterAll(() => opened?.cleanup())

  describe('migrations', () => {
    it('ok/applied-once-and-idempotent', async () => {
      const second = await target.open()
      const row = await second.store.certificates.reserve(reservation())
      if (target.name === 'postgres') {
        // Another instance opening the same schema applies nothing and sees the same data.
        const again = await openStore({
          url: second.url,
          dataDir: second.dataDir,
          schema: second.schema,
          poolSize: 1,
        })
        expect((await again.certificates.getById(row.id))?.serial).toBe(row.serial)
        await again.close()
        const sql = postgres(second.url!, {
          max: 1,
          onnotice: () => {},
          connection: { search_path: second.schema },
        })
        try {
          expect(await migrate(sql, second.schema)).toEqual([])
          const versions = await sql<
            { version: number }[]
          >`select version from schema_migrations order by version`
          expect(versions.map((v) => v.version)).toEqual(migrations.map((m) => m.version))
        } finally {
          await sql.end()
        }
        await second.cleanup()
        return
      }
      // PGlite: close, reopen on the same data directory; nothing is re-applied and the row survives.
      await second.store.close()
      try {
        const again = await openStore({
          url: undefined,
          dataDir: second.dataDir,
          schema: 'public',
          poolSize: 1,
        })
        expect((await again.certificates.getById(row.id))?.serial).toBe(row.serial)
        await again.close()
        const versions = await withRawSql(target.name, second, (query) =>
          query('select version from schema_migrations order by version'),
        )
        expect(versions.map((v) => v['version'])).toEqual(migrations.map((m) => m.version))
      } finally {
        rmSync(second.dataDir, { recursive: true, force: true })
      }
    })

    it('ok/nonces-live-in-an-unlogged-table-and-stay-single-use', async () => {
      const own = await target.open()
      let closed = false
      try {
        await own.store.acme.nonces.issue(['unlogged-1'], 60)
        expect(await own.store.acme.nonces.consume('unlogged-1')).toBe(true)
        expect(await own.store.acme.nonces.consume('unlogged-1')).toBe(false)
        // PGlite is single-process: the raw query opens its data directory after the store lets go of it.
        if (target.name !== 'postgres') {
          await own.store.close()
          closed = true
        }
        const schema = target.name === 'postgres' ? own.schema : 'public'
        const rows = await withRawSql(target.name, own, (query) =>
          query(
            `select c.relname, c.relpersistence from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = '${schema}' and c.relname in ('acme_nonces', 'acme_accounts', 'certificates')
             order by c.relname`,
          ),
        )
        // Only the nonce table is unlogged (version 8).
        expect(rows).toEqual([
          { relname: 'acme_accounts', relpersistence: 'p' },
          { relname: 'acme_nonces', relpersistence: 'u' },
          { relname: 'certificates', relpersistence: 'p' },
        ])
      } finally {
        if (closed) rmSync(own.dataDir, { recursive: true, force: true })
        else await own.cleanup()
      }
    })
  })

  it('ok/reservations-and-completions-of-one-turn-keep-every-field-of-each', async () => {
    // Made in the same event-loop turn, so each group is one statement (batch.ts): awkward values on purpose.
    const reservations = [
      reservation({ csrDer: new Uint8Array([0x30, 0x5c, 0x22, 0x2c, 0x7b, 0x00]), sans: [{ type: 'dns', value: 'a"b\\c,{d}.example.com' }] }),
      reservation({ csrDer: null, plan: { quote: '"', backslash: '\\', nested: { list: [1, 'two'] } }, subject: 'CN=O\'Brien, O=x\\y' }),
      reservation({ requestRef: '6f1c2c1e-5b5e-4a55-9a64-3d1f0b9a0c11', protocol: 'scep', requester: 'scep:default:static-challenge' }),
    ]
    const reserved = await Promise.all(reservations.map((r) => store.certificates.reserve(r)))
    reserved.forEach((record, i) => {
      const r = reservations[i]!
      expect(record).toMatchObject({ serial: r.serial, status: 'reserved', subject: r.subject, sans: r.sans, plan: r.plan, protocol: r.protocol })
      expect(record.csrDer === null ? null : [...record.csrDer]).toEqual(r.csrDer ? [...r.csrDer] : null)
      expect(record.notBefore).toEqual(r.notBefore)
    })
    expect((await store.certificates.getById(reserved[2]!.id))!.id).toBe(reserved[2]!.id)
    const certs = reserved.map(() => issued())
    const done = await Promise.all(
      reserved.map((r, i) => store.certificates.complete(r.id, certs[i]!, entry('certificate.issued', { requestId: `req-${i}`, detail: { n: i, s: 'a"b' } }))),
    )
    for (const [i, record] of done.entries()) {
      expect(record).toMatchObject({ id: reserved[i]!.id, status: 'valid', fingerprintSha256: certs[i]!.fingerprintSha256 })
      expect([...record.der!]).toEqual([...certs[i]!.der])
      const events = await store.audit.list({ serial: record.serial, limit: 10 })
      expect(events).toEqual([expect.objectContaining({ action: 'certificate.issued', requestId: `req-${i}`, detail: { n: i, s: 'a"b' } })])
    }
  })

  describe('reserve → complete → revoke', () => {
    let record: CertificateRecord

    it('ok/reserve-with-audit', async () => {
      const r = reservation({
        sans: [
          { type: 'dns', value: 'a.example.com' },
          { type: 'ip', value: '192.0.2.1' },
        ],
      })
      record = await store.certificates.reserve(
        r,
        entry('certificate.requested', { requestId: 'req-1', detail: { k: 1 } }),
      )
      expect(record).toMatchObject({
        serial: r.serial,
        status: 'reserved',
        profile: 'default',
        backendId: 'local',
        protocol: 'admin',
        requester: 'admin:test',
        subject: 'CN=host.example.com',
        sans: r.sans,
        plan: r.plan,
        der: null,
        fingerprintSha256: null,
        issuedAt: null,
        revokedAt: null,
        revocationReason: null,
      })
      expect(record.id).toMatch(/^\d+$/)
      expect([...record.csrDer!]).toEqual([...r.csrDer!])
      expect(record.notBefore).toEqual(r.notBefore)
      expect(record.notAfter).toEqual(r.notAfter)
      const events = await store.audit.list({ serial: r.serial, limit: 10 })
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({
        action: 'certificate.requested',
        actor: 'admin:test',
        protocol: 'admin',
        certificateId: record.id,
        serial: r.serial,
        requestId: 'req-1',
        detail: { k: 1 },
      })
    })

    it('ok/complete-with-audit', async () => {
      const cert = issued()
      const done = await store.certificates.complete(
        record.id,
        cert,
        entry('certificate.issued', { detail: { profile: 'default' } }),
      )
      expect(done).toMatchObject({
        id: record.id,
        status: 'valid',
        fingerprintSha256: cert.fingerprintSha256,
        failure: null,
      })
      expect([...done.der!]).toEqual([...cert.der])
      expect(done.notAfter).toEqual(cert.notAfter)
      expect(done.issuedAt).toBeInstanceOf(Date)
      expect(await store.certificates.getBySerial(record.serial)).toEqual(done)
      const events = await store.audit.list({ serial: record.serial, limit: 10 })
      expect(events.map((e) => [e.action, e.certificateId])).toEqual([
        ['certificate.issued', record.id],
        ['certificate.requested', record.id],
      ])
    })

    it('fail/complete-twice-writes-no-audit', async () => {
      await expect(
        store.certificates.complete(record.id, issued(), entry('test.complete-twice')),
      ).rejects.toThrow(`certificate ${record.id} already holds a certificate`)
      expect(await store.audit.list({ action: 'test.complete-twice', limit: 10 })).toEqual([])
    })

    it('fail/fail-on-valid-row-is-a-no-op', async () => {
      expect(
        await store.certificates.fail(record.id, 'late', entry('test.fail-valid')),
      ).toBeUndefined()
      expect((await store.certificates.getById(record.id))?.status).toBe('valid')
      expect(await store.audit.list({ action: 'test.fail-valid', limit: 10 })).toEqual([])
    })

    it('fail/unused-reason-7-is-atomic', async () => {
      const at = new Date()
      await expect(
        store.certificates.revoke(record.id, { reason: 7, at }, entry('test.reason-7')),
      ).rejects.toThrow()
      expect((await store.certificates.getById(record.id))?.status).toBe('valid')
      expect(await store.audit.list({ action: 'test.reason-7', limit: 10 })).toEqual([])
    })

    it('ok/revoke-with-audit', async () => {
      const at = new Date(Date.now() - 5000)
      const revoked = await store.certificates.revoke(
        record.id,
        { reason: 1, at },
        entry('certificate.revoked', { detail: { reason: 1 } }),
      )
      expect(revoked).toMatchObject({ status: 'revoked', revocationReason: 1, revokedAt: at })
      const [last] = await store.audit.list({ serial: record.serial, limit: 1 })
      expect(last).toMatchObject({
        action: 'certificate.revoked',
        certificateId: record.id,
        detail: { reason: 1 },
      })
    })

    it('fail/revoke-twice-writes-no-audit', async () => {
      expect(
        await store.certificates.revoke(
          record.id,
          { reason: 4, at: new Date() },
          entry('test.revoke-twice'),
        ),
      ).toBeUndefined()
      expect((await store.certificates.getById(record.id))?.revocationReason).toBe(1)
      expect(await store.audit.list({ action: 'test.revoke-twice', limit: 10 })).toEqual([])
    })

    it('fail/duplicate-serial-writes-no-audit', async () => {
      await expect(
        store.certificates.reserve(
          reservation({ serial: record.serial }),
          entry('test.duplicate-serial'),
        ),
      ).rejects.toThrow()
      expect(await store.audit.list({ action: 'test.duplicate-serial', limit: 10 })).toEqual([])
    })

    it('ok/reserve-without-audit', async () => {
      const r = await store.certificates.reserve(reservation())
      expect(r.status).toBe('reserved')
      expect(await store.audit.list({ serial: r.serial, limit: 10 })).toEqual([])
    })
  })

  describe('approval and failure transitions', () => {
    it('ok/pending-approved', async () => {
      const r = await store.certificates.reserve(reservation({ status: 'pending' }))
      const d = await store.certificates.decide(
        r.id,
        'reserved',
        'admin:alice',
        entry('request.approved'),
      )
      expect(d).toMatchObject({ status: 'reserved', decidedBy: 'admin:alice', failure: null })
      expect(
        await store.certificates.decide(r.id, 'rejected', 'admin:bob', entry('test.decide-twice')),
      ).toBeUndefined()
      expect(await store.audit.list({ action: 'test.decide-twice', limit: 10 })).toEqual([])
    })

    it('ok/pending-rejected', async () => {
      const r = await store.certificates.reserve(reservation({ status: 'pending' }))
      const d = await store.certificates.decide(
        r.id,
        'rejected',
        'admin:alice',
        entry('request.rejected'),
        'not ours',
      )
      expect(d).toMatchObject({ status: 'rejected', decidedBy: 'admin:alice', failure: 'not ours' })
    })

    it('ok/reserved-failed', async () => {
      const r = await store.certificates.reserve(reservation())
      const f = await store.certificates.fail(r.id, 'CA said no', entry('certificate.failed'))
      expect(f).toMatchObject({ status: 'failed', failure: 'CA said no' })
      const [event] = await store.audit.list({ serial: r.serial, limit: 1 })
      expect(event).toMatchObject({ action: 'certificate.failed', certificateId: r.id })
    })

    it('ok/voided-row-still-takes-a-late-certificate', async () => {
      const r = await store.certificates.reserve(reservation())
      await store.certificates.fail(r.id, 'voided', entry('certificate.voided'))
      const done = await store.certificates.complete(r.id, issued(), entry('certificate.issued'))
      expect(done).toMatchObject({ status: 'valid', failure: null })
    })

    it('ok/lookups-of-unknown-rows', async () => {
      expect(await store.certificates.getById('999999999')).toBeUndefined()
      expect(await store.certificates.getById('not-a-number')).toBeUndefined()
      expect(await store.certificates.getBySerial('7f')).toBeUndefined()
    })
  })

  describe('list filters', () => {
    // Rows of this block carry profile "list-<target>"; other blocks use other profiles.
    const profile = `list-${target.name}`
    const rows: Record<string, CertificateRecord> = {}
    beforeAll(async () => {
      const soon = new Date(Date.now() + 5 * DAY)
      rows['soon'] = await issuedRecord(
        store,
        { profile, sans: [{ type: 'dns', value: 'soon.Example-List.test' }] },
        soon,
      )
      rows['later'] = await issuedRecord(store, {
        profile,
        sans: [{ type: 'dns', value: 'later.example-list.test' }],
      })
      rows['expired'] = await issuedRecord(
        store,
        { profile, sans: [{ type: 'ip', value: '192.0.2.99' }] },
        new Date(Date.now() - DAY),
      )
      const toRevoke = await issuedRecord(store, {
        profile,
        sans: [{ type: 'email', value: 'ops@example-list.test' }],
      })
      rows['revoked'] = (await store.certificates.revoke(
        toRevoke.id,
        { reason: 4, at: new Date() },
        entry('certificate.revoked'),
      ))!
      rows['pending'] = await store.certificates.reserve(
        reservation({ profile, status: 'pending' }),
      )
      rows['other'] = await issuedRecord(store, {
        profile: `${profile}-other`,
        sans: [{ type: 'dns', value: 'x.example-list.test' }],
      })
    })
    const ids = (list: CertificateRecord[]) => list.map((r) => r.id)

    it('ok/profile-newest-first', async () => {
      const list = await store.certificates.list({ profile, limit: 100 })
      expect(ids(list)).toEqual(
        ['pending', 'revoked', 'expired', 'later', 'soon'].map((k) => rows[k]!.id),
      )
    })

    it.each([
      ['ok/status-valid-excludes-expired', 'valid', ['later', 'soon']],
      ['ok/status-expired-derived', 'expired', ['expired']],
      ['ok/status-revoked', 'revoked', ['revoked']],
      ['ok/status-pending', 'pending', ['pending']],
      ['ok/status-failed-none', 'failed', []],
    ] as const)('%s', async (_name, status, expected) => {
      const list = await store.certificates.list({ profile, status, limit: 100 })
      expect(ids(list)).toEqual(expected.map((k) => rows[k]!.id))
    })

    it('ok/expiring-before', async () => {
      const list = await store.certificates.list({
        profile,
        status: 'valid',
        expiringBefore: new Date(Date.now() + 30 * DAY),
        limit: 100,
      })
      expect(ids(list)).toEqual([rows['soon']!.id])
    })

    it('ok/san-contains-case-insensitive', async () => {
      const list = await store.certificates.list({ sanContains: 'EXAMPLE-list.TEST', limit: 100 })
      expect(ids(list)).toEqual(['other', 'revoked', 'later', 'soon'].map((k) => rows[k]!.id))
      expect(ids(await store.certificates.list({ sanContains: '192.0.2.99', limit: 100 }))).toEqual(
        [rows['expired']!.id],
      )
    })

    it('ok/san-contains-treats-like-wildcards-literally', async () => {
      expect(await store.certificates.list({ sanContains: '%', limit: 100 })).toEqual([])
      expect(await store.certificates.list({ sanContains: 'soon_example', limit: 100 })).toEqual([])
    })

    it('ok/keyset-cursor-paging', async () => {
      const all = ids(await store.certificates.list({ profile, limit: 100 }))
      const seen: string[] = []
      let beforeId: string | undefined
      for (let page = 0; page < 10; page++) {
        const list = await store.certificates.list({ profile, beforeId, limit: 2 })
        if (!list.length) break
        expect(list.length).toBeLessThanOrEqual(2)
        seen.push(...ids(list))
        beforeId = list.at(-1)!.id
      }
      expect(seen).toEqual(all)
    })
  })

  describe('counts and stale reservations', () => {
    it('ok/count-by-status', async () => {
      const before = await store.certificates.countByStatus()
      const n = (counts: Record<string, number>, k: string) => counts[k] ?? 0
      await issuedRecord(store, { profile: 'count' })
      await issuedRecord(store, { profile: 'count' }, new Date(Date.now() - 1000))
      await store.certificates.reserve(reservation({ profile: 'count', status: 'pending' }))
      await store.certificates.reserve(reservation({ profile: 'count' }))
      const after = await store.certificates.countByStatus()
      expect(n(after, 'valid') - n(before, 'valid')).toBe(1)
      expect(n(after, 'expired') - n(before, 'expired')).toBe(1)
      expect(n(after, 'pending') - n(before, 'pending')).toBe(1)
      expect(n(after, 'reserved') - n(before, 'reserved')).toBe(1)
      const total = (await store.certificates.list({ limit: 10_000 })).length
      expect(Object.values(after).reduce((a, b) => a + b, 0)).toBe(total)
    })

    it('ok/stale-reservations', async () => {
      const reserved = await store.certificates.reserve(reservation({ profile: 'stale' }))
      const pending = await store.certificates.reserve(
        reservation({ profile: 'stale', status: 'pending' }),
      )
      const valid = await issuedRecord(store, { profile: 'stale' })
      await sleep(20)
      expect(ids(await store.certificates.staleReservations(3600))).not.toContain(reserved.id)
      const stale = ids(await store.certificates.staleReservations(0))
      expect(stale).toContain(reserved.id)
      expect(stale).not.toContain(pending.id)
      expect(stale).not.toContain(valid.id)
    })
    const ids = (list: CertificateRecord[]) => list.map((r) => r.id)
  })

  describe('audit log', () => {
    it('ok/append-and-query', async () => {
      const serial = newSerial()
      await store.audit.append(entry('test.a', { serial, detail: { n: 1 } }))
      await store.audit.append(entry('test.b', { serial, detail: { n: 2 } }))
      await store.audit.append(entry('test.a', { serial, detail: { n: 3 } }))
      const newest = await store.audit.list({ serial, limit: 10 })
      expect(newest.map((e) => e.detail['n'])).toEqual([3, 2, 1])
      expect(newest[0]!.at).toBeInstanceOf(Date)
      expect(
        (await store.audit.list({ serial, action: 'test.a', limit: 10 })).map((e) => e.detail['n']),
      ).toEqual([3, 1])
      const older = await store.audit.list({ serial, beforeId: newest[0]!.id, limit: 10 })
      expect(older.map((e) => e.detail['n'])).toEqual([2, 1])
      const tail = await store.audit.list({
        serial,
        afterId: newest[2]!.id,
        order: 'asc',
        limit: 10,
      })
      expect(tail.map((e) => e.detail['n'])).toEqual([2, 3])
    })

    it('ok/order-is-numeric-across-a-digit-boundary', async () => {
      const serial = newSerial()
      const [newest] = await store.audit.list({ limit: 1 })
      const last = Number(newest?.id ?? 0)
      // Enough events that ids cross the next power of ten (9 → 10, 99 → 100, …); text order would break here.
      const boundary = 10 ** String(last).length
      const n = boundary - last + 2
      for (let i = 0; i < n; i++)
        await store.audit.append(entry('test.order', { serial, detail: { i } }))
      const desc = await store.audit.list({ serial, limit: 1000 })
      expect(desc.map((e) => e.detail['i'])).toEqual([...Array(n).keys()].reverse())
      const asc = await store.audit.list({ serial, limit: 1000, order: 'asc' })
      expect(asc.map((e) => e.detail['i'])).toEqual([...Array(n).keys()])
      const page = await store.audit.list({ serial, beforeId: desc[0]!.id, limit: 2 })
      expect(page.map((e) => e.detail['i'])).toEqual([n - 2, n - 3])
    })

    it('fail/audit-events-reject-update-and-delete', async () => {
      if (target.name === 'postgres') {
        await store.audit.append(entry('test.append-only'))
        await withRawSql(target.name, opened, async (query) => {
          await expect(query(`update audit_events set actor = 'mallory'`)).rejects.toThrow(
            'audit_events is append-only',
          )
          await expect(query(`delete from audit_events`)).rejects.toThrow(
            'audit_events is append-only',
          )
          await expect(query(`truncate audit_events`)).rejects.toThrow(
            'audit_events is append-only',
          )
          const left = await query(
            `select count(*)::int as n from audit_events where actor = 'mallory'`,
          )
          expect(left[0]!['n']).toBe(0)
        })
        expect(await store.audit.list({ action: 'test.append-only', limit: 10 })).toHaveLength(1)
        return
      }
      // PGlite admits one process: write through a store, close it, then try from a raw session.
      const second = await target.open()
      try {
        await second.store.audit.append(entry('test.append-only'))
        await second.store.close()
        await withRawSql(target.name, second, async (query) => {
          await expect(query(`update audit_events set actor = 'mallory'`)).rejects.toThrow(
            'audit_events is append-only',
          )
          await expect(query(`delete from audit_events`)).rejects.toThrow(
            'audit_events is append-only',
          )
          await expect(query(`truncate audit_events`)).rejects.toThrow(
            'audit_events is append-only',
          )
          const rows = await query(`select action, actor from audit_events`)
          expect(rows).toEqual([{ action: 'test.append-only', actor: 'admin:test' }])
        })
      } finally {
        rmSync(second.dataDir, { recursive: true, force: true })
      }
    })
  })

  describe('scep transactions', () => {
    const opening = (transactionId: string, requestKeySha256 = 'r1') => ({
      transactionId,
      signerKeySha256: 's1',
      label: 'default',
      messageType: 19,
      requestKeySha256,
    })

    it('ok/begin-opens-once-then-returns-the-first', async () => {
      const first = await store.scep.beginTransaction(opening('tx-begin-1'))
      expect(first.created).toBe(true)
      expect(first.transaction).toMatchObject({ transactionId: 'tx-begin-1', requestKeySha256: 'r1', certificateId: null })
      // The same transactionID and signer again, with another requested key: the first one is returned, unchanged.
      const again = await store.scep.beginTransaction(opening('tx-begin-1', 'r2'))
      expect(again.created).toBe(false)
      expect(again.transaction).toEqual(first.transaction)
      expect(await store.scep.getTransaction('tx-begin-1', 's1')).toEqual(first.transaction)
    })

    it('ok/begin-after-remove-opens-anew', async () => {
      await store.scep.beginTransaction(opening('tx-begin-2'))
      await store.scep.removeTransaction('tx-begin-2', 's1')
      const reopened = await store.scep.beginTransaction(opening('tx-begin-2', 'r3'))
      expect(reopened.created).toBe(true)
      expect(reopened.transaction.requestKeySha256).toBe('r3')
    })

    it('ok/the-certificate-reserved-with-the-transaction-ref-is-its-certificate', async () => {
      const begun = await store.scep.beginTransaction(opening('tx-ref-1'))
      expect(begun.transaction.ref).toMatch(/^[0-9a-f-]{36}$/)
      // Another transaction's certificate, and one without a reference, are not this one's.
      const other = await store.scep.beginTransaction(opening('tx-ref-2'))
      await store.certificates.reserve(reservation({ requestRef: other.transaction.ref }))
      await store.certificates.reserve(reservation())
      const record = await store.certificates.reserve(reservation({ requestRef: begun.transaction.ref }))
      expect((await store.scep.getTransaction('tx-ref-1', 's1'))?.certificateId).toBe(record.id)
      const again = await store.scep.beginTransaction(opening('tx-ref-1'))
      expect(again).toMatchObject({ created: false, transaction: { certificateId: record.id, ref: begun.transaction.ref } })
      // Removed and opened anew (a refused request retried): a new reference, no certificate yet.
      await store.scep.removeTransaction('tx-ref-1', 's1')
      const reopened = await store.scep.beginTransaction(opening('tx-ref-1'))
      expect(reopened.transaction.ref).not.toBe(begun.transaction.ref)
      expect(reopened.transaction.certificateId).toBeNull()
    })

    it('ok/concurrent-begins-open-one', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => store.scep.beginTransaction(opening('tx-begin-3'))))
      expect(results.filter((r) => r.created)).toHaveLength(1)
      expect(new Set(results.map((r) => r.transaction.createdAt.getTime())).size).toBe(1)
    })

    it('ok/begins-of-one-turn-are-answered-each-in-its-own-right', async () => {
      const existing = await store.scep.beginTransaction(opening('tx-turn-old'))
      // One turn, so one statement: new ones, an existing one, the same new one twice, and a renewal.
      const [a, old, b, bAgain, renewal] = await Promise.all([
        store.scep.beginTransaction(opening('tx-turn-a', 'ra')),
        store.scep.beginTransaction(opening('tx-turn-old', 'r-other')),
        store.scep.beginTransaction(opening('tx-turn-b', 'rb')),
        store.scep.beginTransaction(opening('tx-turn-b', 'rb2')),
        store.scep.beginTransaction({ ...opening('tx-turn-c', 'rc'), messageType: 17, label: 'routers' }),
      ])
      expect(a).toMatchObject({ created: true, transaction: { transactionId: 'tx-turn-a', requestKeySha256: 'ra', certificateId: null } })
      expect(old).toEqual({ created: false, transaction: existing.transaction })
      expect(b).toMatchObject({ created: true, transaction: { transactionId: 'tx-turn-b', requestKeySha256: 'rb' } })
      expect(bAgain).toEqual({ created: false, transaction: b!.transaction })
      expect(renewal).toMatchObject({ created: true, transaction: { messageType: 17, label: 'routers', requestKeySha256: 'rc' } })
      expect(new Set([a, b, renewal].map((r) => r!.transaction.ref)).size).toBe(3)
      for (const r of [a, b, renewal]) expect(await store.scep.getTransaction(r!.transaction.transactionId, 's1')).toEqual(r!.transaction)
    })
  })

  describe('acme nonces read with the signing account', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }

    it('ok/one-turn-of-requests-is-answered-each-in-its-own-right', async () => {
      const a = await store.acme.accounts.create({ jwk, thumbprint: 'tp-batch-a', contact: [], tosAgreed: true })
      const b = await store.acme.accounts.create({ jwk, thumbprint: 'tp-batch-b', contact: [], tosAgreed: true })
      await store.acme.nonces.issue(['nonce-batch-1', 'nonce-batch-2', 'nonce-batch-3'], 60)
      // Made in the same event-loop turn: one statement on PostgreSQL and PGlite alike.
      const reads = await Promise.all([
        store.acme.nonces.consumeWithAccount('nonce-batch-1', { id: a.id }),
        store.acme.nonces.consumeWithAccount('nonce-batch-2', { thumbprint: 'tp-batch-b' }),
        store.acme.nonces.consumeWithAccount('nonce-unknown', { id: b.id }),
        store.acme.nonces.consumeWithAccount('nonce-batch-3', { id: 'no-such-account' }),
        store.acme.nonces.consumeWithAccount('nonce-batch-1', { id: a.id }),
        store.acme.nonces.consumeWithAccount('', { thumbprint: 'no-such-key' }),
      ])
      expect(reads.map((r) => r.fresh)).toEqual([true, true, false, true, false, false])
      expect(reads.map((r) => r.account?.id)).toEqual([a.id, b.id, b.id, undefined, a.id, undefined])
      expect(reads[1]!.account).toEqual(b)
      // Every nonce named is spent, the fresh ones included.
      const again = await Promise.all(
        ['nonce-batch-1', 'nonce-batch-2', 'nonce-batch-3'].map((n) => store.acme.nonces.consumeWithAccount(n, { id: a.id })),
      )
      expect(again.map((r) => r.fresh)).toEqual([false, false, false])
    })

    it('ok/an-expired-nonce-is-spent-but-not-fresh', async () => {
      await store.acme.nonces.issue(['nonce-expired-1'], -1)
      await store.acme.nonces.issue(['nonce-live-1'], 60)
      const reads = await Promise.all([
        store.acme.nonces.consumeWithAccount('nonce-expired-1', { thumbprint: 'none' }),
        store.acme.nonces.consumeWithAccount('nonce-live-1', { thumbprint: 'none' }),
      ])
      expect(reads).toEqual([
        { fresh: false, account: undefined },
        { fresh: true, account: undefined },
      ])
      expect(await store.acme.nonces.consume('nonce-expired-1')).toBe(false)
    })
  })

  let acmeOrders = 0
  /** A new account and its order for one new name, with the challenges offered (none: pre-authorized). */
  async function accountWithOrder(challengeTypes: string[]) {
    const n = ++acmeOrders
    const account = await store.acme.accounts.create({ jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }, thumbprint: `tp-order-${n}`, contact: [], tosAgreed: true })
    const identifier = { type: 'dns' as const, value: `order${n}.example.com` }
    const expires = new Date(Date.now() + DAY)
    const order = await store.acme.orders.create({
      accountId: account.id,
      identifiers: [identifier],
      expires,
      authorizations: [{ identifier, wildcard: false, challengeTypes, expires, preauthorized: challengeTypes.length === 0 }],
    })
    return { account, order }
  }

  describe('acme authorizations read with the nonce, and challenges settled in one statement', () => {
    /** A new account's order for one name: its authorization with an http-01 and a dns-01 challenge. */
    async function pendingAuthz() {
      const { account, order } = await accountWithOrder(['http-01', 'dns-01'])
      const authz = (await store.acme.authorizations.byId(order.authzIds[0]!))!
      return { account, authz, http: authz.challenges[0]!, dns: authz.challenges[1]! }
    }

    it('ok/the-authorization-comes-with-the-nonce-by-its-id-or-a-challenges-id', async () => {
      const { account, authz, dns } = await pendingAuthz()
      await store.acme.nonces.issue(['nonce-pre-1', 'nonce-pre-2', 'nonce-pre-3', 'nonce-pre-4'], 60)
      const [byAuthz, byChallenge, unknown, none] = await Promise.all([
        store.acme.nonces.consumeWithAccount('nonce-pre-1', { id: account.id }, { authz: authz.id }),
        store.acme.nonces.consumeWithAccount('nonce-pre-2', { id: account.id }, { challenge: dns.id }),
        store.acme.nonces.consumeWithAccount('nonce-pre-3', { id: account.id }, { challenge: 'no-such-challenge' }),
        store.acme.nonces.consumeWithAccount('nonce-pre-4', { id: account.id }),
      ])
      expect(byAuthz).toEqual({ fresh: true, account, authz })
      expect(byChallenge).toEqual({ fresh: true, account, authz })
      expect(unknown).toEqual({ fresh: true, account, authz: undefined })
      expect(none).toEqual({ fresh: true, account })
    })

    it('ok/settle-takes-a-pending-challenge-straight-to-its-outcome-once', async () => {
      const { account, authz, http } = await pendingAuthz()
      const settled = await store.acme.challenges.settle(http.id, account.id, { status: 'valid' }, 3600, 60)
      expect(settled).toMatchObject({ id: http.id, status: 'valid' })
      expect((await store.acme.authorizations.byId(authz.id))!.status).toBe('valid')
      // Settled already: neither a second settle nor a late start takes it.
      expect(await store.acme.challenges.settle(http.id, account.id, { status: 'invalid', error: {} }, 3600, 60)).toBeUndefined()
      expect(await store.acme.challenges.startProcessing(http.id, account.id, 60)).toBeUndefined()
      expect((await store.acme.challenges.byId(http.id))!.status).toBe('valid')
    })

    it('fail/settle-refuses-another-account-a-sibling-being-validated-and-a-settled-authorization', async () => {
      const { account, authz, http, dns } = await pendingAuthz()
      const other = await pendingAuthz()
      expect(await store.acme.challenges.settle(http.id, other.account.id, { status: 'valid' }, 3600, 60)).toBeUndefined()
      // dns-01 is being validated (recently started): http-01 may not settle meanwhile — unless that start is stale.
      expect(await store.acme.challenges.startProcessing(dns.id, account.id, 60)).toBeDefined()
      expect(await store.acme.challenges.settle(http.id, account.id, { status: 'valid' }, 3600, 60)).toBeUndefined()
      expect(await store.acme.challenges.settle(http.id, account.id, { status: 'valid' }, 3600, -1)).toMatchObject({ status: 'valid' })
      // The authorization is valid now: the dns-01 outcome, when it comes, changes only its challenge.
      await store.acme.challenges.complete(dns.id, { status: 'invalid', error: { type: 'x' } }, 3600)
      expect((await store.acme.authorizations.byId(authz.id))!.status).toBe('valid')
      const failed = await pendingAuthz()
      await store.acme.authorizations.deactivate(failed.authz.id)
      expect(await store.acme.challenges.settle(failed.http.id, failed.account.id, { status: 'valid' }, 3600, 60)).toBeUndefined()
      expect((await store.acme.challenges.byId(failed.http.id))!.status).toBe('pending')
    })

    it('ok/an-invalid-outcome-fails-the-orders-waiting-for-the-authorization', async () => {
      const { account, authz, http } = await pendingAuthz()
      await store.acme.challenges.settle(http.id, account.id, { status: 'invalid', error: { type: 'urn:ietf:params:acme:error:unauthorized' } }, 3600, 60)
      expect((await store.acme.authorizations.byId(authz.id))!.status).toBe('invalid')
      const [order] = await store.acme.orders.forAccount(account.id, undefined, 10)
      expect(order).toMatchObject({ status: 'invalid', error: { type: 'urn:ietf:params:acme:error:unauthorized' } })
    })
  })

  describe('acme orders find their certificate by request reference', () => {
    /** A ready order (its one authorization pre-authorized) of a new account, taken to processing. */
    async function processingOrder() {
      const { account, order } = await accountWithOrder([])
      expect(order.status).toBe('ready')
      const started = await store.acme.orders.startProcessing(order.id, account.id)
      expect(started).toMatchObject({ status: 'processing', certificateId: null })
      expect(started!.requestRef).toMatch(/^[0-9a-f-]{36}$/)
      return { account, order: started! }
    }

    it('ok/reserved-then-issued-reads-processing-then-valid-with-nothing-written-to-the-order', async () => {
      const { order } = await processingOrder()
      const record = await store.certificates.reserve(reservation({ protocol: 'acme', requestRef: order.requestRef }))
      expect(await store.acme.orders.byId(order.id)).toMatchObject({ status: 'processing', certificateId: record.id, certificateSerial: record.serial })
      // Refusing the CSR late (after a reservation) cannot reopen it: a certificate is on its way.
      await store.acme.orders.resumeReady(order.id)
      expect((await store.acme.orders.byId(order.id))!.status).toBe('processing')
      await store.certificates.complete(record.id, issued(), entry('certificate.issued'))
      const read = await store.acme.orders.byId(order.id)
      expect(read).toMatchObject({ status: 'valid', certificateId: record.id, certificateSerial: record.serial, requestRef: order.requestRef })
      const listed = await store.acme.orders.forAccount(order.accountId, undefined, 10)
      expect(listed.map((o) => o.status)).toEqual(['valid'])
    })

    it('ok/another-orders-certificate-is-not-this-ones-and-resume-ready-clears-the-reference', async () => {
      const first = await processingOrder()
      const second = await processingOrder()
      const record = await store.certificates.reserve(reservation({ protocol: 'acme', requestRef: first.order.requestRef }))
      await store.certificates.complete(record.id, issued(), entry('certificate.issued'))
      expect(await store.acme.orders.byId(second.order.id)).toMatchObject({ status: 'processing', certificateId: null })
      // The CSR refused before anything was reserved: ready again, and the next finalize gets a new reference.
      await store.acme.orders.resumeReady(second.order.id)
      expect(await store.acme.orders.byId(second.order.id)).toMatchObject({ status: 'ready', requestRef: null })
      const again = await store.acme.orders.startProcessing(second.order.id, second.account.id)
      expect(again!.requestRef).not.toBe(second.order.requestRef)
    })

    it('ok/a-failed-reservation-leaves-the-order-processing-for-the-protocol-to-fail', async () => {
      const { order } = await processingOrder()
      const record = await store.certificates.reserve(reservation({ protocol: 'acme', requestRef: order.requestRef }))
      await store.certificates.fail(record.id, 'the CA refused', entry('certificate.failed'))
      expect(await store.acme.orders.byId(order.id)).toMatchObject({ status: 'processing', certificateId: record.id })
      const failed = await store.acme.orders.fail(order.id, { type: 'urn:ietf:params:acme:error:serverInternal' })
      expect(failed.status).toBe('invalid')
    })
  })

  it('ok/ping', async () => {
    expect(await store.ping()).toBe(true)
    expect(store.kind).toBe(target.name === 'postgres' ? 'postgres' : 'embedded')
  })
})

describe.each(storeTargets().filter((t) => t.name === 'postgres'))('notifications on $name', (target) => {
  it('#4 - a revocation is heard by its own schema only, not by other deployments in the same database', async () => {
    const a = await target.open()
    const other = await target.open()
    // A second instance of deployment A: same database, same schema.
    const sibling = await openStore({ url: a.url, dataDir: a.dataDir, schema: a.schema, poolSize: 1 })
    const heard: string[] = []
    const stops = [
      await sibling.listen('enroll_revoked', (p) => heard.push(`sibling ${p}`)),
      await other.store.listen('enroll_revoked', (p) => heard.push(`other ${p}`)),
    ]
    try {
      const record = await issuedRecord(a.store)
      await a.store.certificates.revoke(record.id, { reason: 1, at: new Date() }, entry('certificate.revoked'))
      for (let i = 0; i < 100 && heard.length === 0; i++) await sleep(20)
      await sleep(200) // time for a stray notification to arrive
      expect(heard).toEqual([`sibling local:${record.serial}`])
    } finally {
      for (const stop of stops) await stop()
      await sibling.close()
      await other.cleanup()
      await a.cleanup()
    }
  })
})

// libpq's unix-socket form of the URL (a `host` query parameter naming a directory), as on a host with PostgreSQL.
const socketDir = '/var/run/postgresql'
describe.skipIf(!existsSync(`${socketDir}/.s.PGSQL.5432`))(`PostgreSQL over the unix socket in ${socketDir}`, () => {
  it('ok/host-query-parameter-selects-the-socket', async () => {
    const schema = `t_${randomBytes(6).toString('hex')}`
    const dataDir = mkdtempSync(join(tmpdir(), 'enroll-test-'))
    // The URL's host name does not resolve: only the socket can answer.
    const url = `postgres://postgres@no-such-host.invalid/test?host=${socketDir}`
    const store = await openStore({ url, dataDir, schema, poolSize: 2 })
    try {
      expect(store.kind).toBe('postgres')
      const record = await issuedRecord(store)
      expect((await store.certificates.getBySerial(record.serial))?.id).toBe(record.id)
    } finally {
      await store.close()
      const sql = postgres({ host: socketDir, user: 'postgres', database: 'test', max: 1, onnotice: () => {} })
      await sql`drop schema if exists ${sql(schema)} cascade`
      await sql.end()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('ok/other-urls-are-left-as-they-are', () => {
    expect(postgresTarget('postgres://u@db.example:6432/enroll?sslmode=require')).toEqual({
      url: 'postgres://u@db.example:6432/enroll?sslmode=require',
    })
    expect(postgresTarget('postgresql:///enroll?host=/run/pg&application_name=x')).toEqual({
      url: 'postgresql:///enroll?application_name=x',
      host: '/run/pg',
    })
  })
})
