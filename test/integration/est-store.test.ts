// src/store certificates: what EST needs beyond the foundation — supersession links (renewal) and finding the
// request a client repeats while it awaits approval — on the real PostgreSQL and on PGlite (migration 0005).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newSerial } from '../../src/pki/serial.js'
import type { NewReservation } from '../../src/store/certificates.js'
import { storeTargets, type StoreTarget } from '../helpers/store.js'

const DAY = 24 * 3600 * 1000
const csr = (n: number) => new Uint8Array([0x30, 0x03, 0x02, 0x01, n])
const reservation = (o: Partial<NewReservation> = {}): NewReservation => ({
  serial: newSerial(),
  status: 'reserved',
  profile: 'default',
  backendId: 'local',
  protocol: 'est',
  requester: 'basic:alice',
  subject: 'CN=dev.example.com',
  sans: [{ type: 'dns', value: 'dev.example.com' }],
  csrDer: csr(1),
  plan: {},
  notBefore: new Date(Date.now() - 60_000),
  notAfter: new Date(Date.now() + 90 * DAY),
  ...o,
})
let counter = 0
const issued = () => {
  const n = ++counter
  return { der: new Uint8Array([0x30, 0x02, n & 0xff, 0x42]), notBefore: new Date(), notAfter: new Date(Date.now() + DAY), fingerprintSha256: `est-${n}-${newSerial()}` }
}
const audit = { action: 'test', actor: 'test' }

describe.each(storeTargets().map((t) => [t.name, t] as const))('certificates on %s', (_name, target: StoreTarget) => {
  let opened: Awaited<ReturnType<StoreTarget['open']>>
  beforeAll(async () => {
    opened = await target.open()
  })
  afterAll(async () => {
    await opened?.cleanup()
  })

  it('ok/supersede-links-once-and-only-valid-certificates', async () => {
    const { certificates } = opened.store
    const old = await certificates.reserve(reservation())
    const fresh = await certificates.reserve(reservation())
    expect(await certificates.supersede(old.id, fresh.id, audit)).toBeUndefined()
    await certificates.complete(old.id, issued(), audit)
    await certificates.complete(fresh.id, issued(), audit)
    expect((await certificates.supersede(old.id, fresh.id, audit))?.supersededBy).toBe(fresh.id)
    expect(await certificates.supersede(old.id, fresh.id, audit)).toBeUndefined()
    expect((await certificates.getById(old.id))?.supersededBy).toBe(fresh.id)
    expect((await certificates.getById(fresh.id))?.supersededBy).toBeNull()
  })

  it('ok/latest-for-csr-matches-csr-profile-and-requester', async () => {
    const { certificates } = opened.store
    const first = await certificates.reserve(reservation({ csrDer: csr(7), status: 'pending' }))
    const second = await certificates.reserve(reservation({ csrDer: csr(7), status: 'pending' }))
    await certificates.reserve(reservation({ csrDer: csr(8), status: 'pending' }))
    expect((await certificates.latestForCsr(csr(7), 'default', 'basic:alice'))?.id).toBe(second.id)
    expect(first.id).not.toBe(second.id)
    expect(await certificates.latestForCsr(csr(7), 'other', 'basic:alice')).toBeUndefined()
    expect(await certificates.latestForCsr(csr(7), 'default', 'basic:bob')).toBeUndefined()
    expect(await certificates.latestForCsr(csr(9), 'default', 'basic:alice')).toBeUndefined()
  })
})
