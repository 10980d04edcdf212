// Generated bad input for SCEP PKIOperation (RFC 8894 §3.3): 10,000 malformed or unauthorized pkiMessages —
// junk, truncated CMS, bit flips, wrong recipient, bad signature, unknown messageType, missing transactionID or
// senderNonce, wrong challenge, corrupted key transport, truncated envelopes, junk GET values. Each must get an
// HTTP 400 or a signed CertRep FAILURE with the expected failInfo: never a 5xx, never a certificate, and nothing is
// stored (no inventory row, no transaction, no challenge used). In-process (app.request) on the embedded store.
import { randomBytes, randomInt } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.js'
import type { Der } from '../../src/pki/pem.js'
import { startScep, type ScepServices } from '../../src/scep/index.js'
import { openCore, type Core } from '../../src/server.js'
import { scepApp } from '../../protocols/scep/index.js'
import { failInfoCodes, type FailInfo } from '../../protocols/scep/fail-info.js'
import { makeCsr } from '../helpers/csr.js'
import { sealEnvelope } from '../../protocols/scep/codec/envelope.js'
import { buildPkiMessage, degenerateCerts, makeRequester, readCertRep, type Requester } from '../helpers/scep.js'

const CASES = 10_000
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' })
let dataDir: string
let core: Core
let scep: ScepServices
let app: Hono
let ra: Der
let requesters: Requester[]
let goodCsrs: Der[]
let wrongCsrs: Der[]

type Expect = { http400: true } | { failInfo: FailInfo | FailInfo[] } | 'any-refusal'

const tally = { total: 0, http400: 0, failure: 0, byFailInfo: {} as Record<string, number> }

async function send(der: Uint8Array | string, expected: Expect): Promise<void> {
  const r =
    typeof der === 'string'
      ? await app.request(`/scep?operation=PKIOperation&message=${der}`)
      : await app.request('/scep?operation=PKIOperation', { method: 'POST', body: Buffer.from(der) })
  tally.total++
  if (r.status >= 500) throw new Error(`5xx (${r.status}) for a ${JSON.stringify(expected)} case: ${await r.text()}`)
  if (r.status === 400) {
    tally.http400++
    if (expected !== 'any-refusal' && !('http400' in expected)) throw new Error(`HTTP 400 where a CertRep FAILURE ${JSON.stringify(expected)} was expected: ${await r.text()}`)
    return
  }
  expect(r.status).toBe(200)
  const rep = readCertRep(new Uint8Array(await r.arrayBuffer()))
  if (rep.pkiStatus !== '2') throw new Error(`pkiStatus ${rep.pkiStatus} for a bad input (${JSON.stringify(expected)})`)
  tally.failure++
  tally.byFailInfo[rep.failInfo ?? '?'] = (tally.byFailInfo[rep.failInfo ?? '?'] ?? 0) + 1
  if (expected !== 'any-refusal') {
    if ('http400' in expected) throw new Error(`CertRep where an HTTP 400 was expected (failInfo ${rep.failInfo})`)
    const allowed = ([] as FailInfo[]).concat(expected.failInfo).map((f) => failInfoCodes[f])
    if (!(allowed as string[]).includes(rep.failInfo ?? '')) throw new Error(`failInfo ${rep.failInfo}, expected ${allowed.join('|')}`)
  }
}

const pick = <T>(xs: T[]) => xs[randomInt(xs.length)]!
const message = (o: Partial<Parameters<typeof buildPkiMessage>[0]> = {}) =>
  buildPkiMessage({ messageType: 19, data: pick(wrongCsrs), recipientDer: ra, signer: pick(requesters), ...o })

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'enroll-scep-fuzz-'))
  const config = loadConfig({
    env: {},
    overrides: { dataDir, logLevel: 'silent', profiles: { default: { allow: { dns: ['*.example.test'] } } }, scep: { labels: { default: { challenge: 's3cret', dynamicChallenges: true } } } },
  })
  core = await openCore(config, logger, { createCa: true })
  scep = await startScep({ config, store: core.store, issuance: core.issuance, logger })
  app = new Hono()
  app.use('*', requestId())
  app.route('/scep', scepApp({ config, issuance: core.issuance, store: core.store, scep, logger }))
  ra = degenerateCerts(new Uint8Array(await (await app.request('/scep?operation=GetCACert')).arrayBuffer()))[0]!
  requesters = await Promise.all([0, 1, 2].map(() => makeRequester()))
  wrongCsrs = await Promise.all(requesters.map((r, i) => makeCsr({ key: 'rsa-2048', subject: `CN=fuzz-${i}.example.test`, challengePassword: 'not-the-secret' }, r.keys).then((c) => c.der)))
  goodCsrs = await Promise.all(requesters.map((r, i) => makeCsr({ key: 'rsa-2048', subject: `CN=fuzz-${i}.example.test`, challengePassword: 's3cret' }, r.keys).then((c) => c.der)))
}, 120_000)

afterAll(async () => {
  scep?.stop()
  await core?.store.close()
  rmSync(dataDir, { recursive: true, force: true })
})

describe(`PKIOperation bad input (${CASES} generated cases)`, () => {
  it('fail/every-case-is-400-or-certrep-failure-and-nothing-is-stored', async () => {
    const before = { certificates: await core.store.certificates.countByStatus(), scep: await core.store.scep.counts() }
    const base = await Promise.all([0, 1, 2, 3, 4, 5].map(() => message()))
    const categories = ['junk', 'truncated', 'bit flips', 'wrong recipient', 'bad signature', 'unknown messageType', 'missing transactionID/senderNonce', 'wrong challenge', 'corrupted key transport', 'malformed envelope', 'junk GET']
    const plan: [number, () => Promise<void>][] = [
      // junk bodies of any length, and DER-looking junk
      [1000, () => send(randomInt(4) === 0 ? Uint8Array.of(0x30, 0x82, ...randomBytes(randomInt(2000))) : randomBytes(randomInt(1, 2000)), { http400: true })],
      // truncated CMS
      [1500, async () => { const m = pick(base); return send(m.subarray(0, randomInt(1, m.length)), { http400: true }) }],
      // 1–3 flipped bytes anywhere
      [3000, async () => {
        const m = pick(base).slice()
        for (let i = randomInt(1, 4); i > 0; i--) m[randomInt(m.length)]! ^= randomInt(1, 256)
        return send(m, 'any-refusal')
      }],
      // sealed to a certificate that is not our RA
      [500, async () => send(message({ data: pick(goodCsrs), recipientDer: pick(requesters).certificateDer }), { failInfo: 'badMessageCheck' })],
      // bad signature
      [500, async () => send(message({ data: pick(goodCsrs), badSignature: true }), { failInfo: 'badMessageCheck' })],
      // unknown messageType (numbers no request uses; non-numbers cannot be answered in-band)
      [500, async () => {
        const t = pick([0, 1, 3, 4, 18, 23, 99, 4711, randomInt(23, 10_000)])
        return randomInt(5) === 0 ? send(message({ messageType: pick(['PKCSReq', 'x', '', '19a']) }), { http400: true }) : send(message({ messageType: t, data: pick(goodCsrs) }), { failInfo: 'badRequest' })
      }],
      // missing transactionID or senderNonce
      [500, async () => send(randomInt(2) ? message({ transactionId: null, data: pick(goodCsrs) }) : message({ senderNonce: null, data: pick(goodCsrs) }), { http400: true })],
      // wrong challenge (static and dynamic), everything else valid
      [500, async () => send(message(), { failInfo: 'badRequest' })],
      // corrupted key transport, validly signed: implicit rejection yields a wrong key, the content does not decrypt
      [500, async () => {
        const sealed = Buffer.from(sealEnvelope(pick(goodCsrs), ra, pick(['aes-128-cbc', 'des-ede3-cbc'] as const)))
        const key = sealed.indexOf(Buffer.from([0x04, 0x82, 0x01, 0x00]))
        expect(key).toBeGreaterThan(0)
        sealed[key + 4 + randomInt(256)]! ^= 1 << randomInt(8)
        // Almost always badMessageCheck (the content does not decrypt under the wrong key). About 1 wrong key in 256
        // leaves valid CBC padding: the garbage "CSR" then does not parse (badRequest). Which one happens depends on
        // the pseudorandom key only, never on whether the RSA padding was valid (implicit rejection).
        return send(message({ envelope: sealed }), { failInfo: ['badMessageCheck', 'badRequest'] })
      }],
      // a validly signed message whose envelope is truncated, empty or not CMS
      [500, async () => {
        const sealed = sealEnvelope(pick(goodCsrs), ra, 'aes-128-cbc')
        const envelope = pick([sealed.subarray(0, randomInt(sealed.length)), new Uint8Array(0), randomBytes(randomInt(1, 400))])
        return send(message({ envelope }), { failInfo: ['badMessageCheck', 'badAlg'] })
      }],
      // junk GET message values
      [1000, () => send(pick([encodeURIComponent(randomBytes(randomInt(1, 300)).toString('latin1')), randomBytes(randomInt(1, 300)).toString('base64').slice(0, -1) + '*', '%ZZ', randomBytes(randomInt(1, 300)).toString('base64')]), { http400: true })],
    ]
    for (const [index, [count, run]] of plan.entries()) {
      for (let i = 0; i < count; i++) {
        try {
          await run()
        } catch (e) {
          throw new Error(`category ${index} (${categories[index]}), case ${i}: ${(e as Error).message}`, { cause: e })
        }
      }
    }
    expect(tally.total).toBeGreaterThanOrEqual(CASES)
    expect(await core.store.certificates.countByStatus()).toEqual(before.certificates)
    expect(await core.store.scep.counts()).toEqual(before.scep)
    process.stdout.write(`scep fuzz: ${JSON.stringify(tally)}\n`)
  }, 600_000)
})
