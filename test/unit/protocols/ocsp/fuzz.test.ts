// Bad input for the OCSP responder (issue #4): ≥ 10,000 generated requests, each answered with a well-formed
// OCSPResponse — malformedRequest, unauthorized or a real answer — never a 5xx, never internalError.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as pkijs from 'pkijs'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../../src/config/load.js'
import { parseCsr } from '../../../../src/pki/csr.js'
import { createRevocation, type Revocation } from '../../../../src/revocation/index.js'
import { openCore, type Core } from '../../../../src/server.js'
import { ocspApp } from '../../../../protocols/ocsp/index.js'
import { makeCsr } from '../../../helpers/csr.js'
import { certIdFor, ocspRequest, type CertIdSpec } from '../../../helpers/ocsp.js'

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its index. */
function prng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const logger = pino({ level: 'silent' })

describe('OCSP responder under generated bad input', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'enroll-ocsp-fuzz-'))
  let core: Core
  let revocation: Revocation
  let app: ReturnType<typeof ocspApp>
  let valid: CertIdSpec

  beforeAll(async () => {
    const config = loadConfig({ env: {}, overrides: { dataDir, publicHttpUrl: 'http://pki.test:8080' } })
    core = await openCore(config, logger, { createCa: true })
    revocation = createRevocation({ ...core, logger })
    app = ocspApp({ ocsp: revocation.ocsp, logger })
    const { der } = await makeCsr({ subject: 'CN=fuzz.example.com', dns: ['fuzz.example.com'] })
    const out = await core.issuance.issue({ csr: await parseCsr(der), protocol: 'admin', requester: 'fuzz' })
    if (out.status !== 'issued') throw new Error('not issued')
    const [issuing] = await core.issuance.chainFor()
    valid = certIdFor(issuing!, out.certificate.serial)
  })
  afterAll(async () => {
    await revocation.stop()
    await core.store.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('fail/10000-generated-requests-get-well-formed-ocsp-errors-or-answers', async () => {
    const rand = prng(4)
    const int = (n: number) => Math.floor(rand() * n)
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => int(256))
    const good = ocspRequest([valid])
    const generators: [string, () => { body?: Uint8Array; path?: string }][] = [
      ['random-bytes', () => ({ body: randomBytes(int(300)) })],
      ['truncated', () => ({ body: good.subarray(0, int(good.length)) })],
      ['bit-flip', () => {
        const b = Uint8Array.from(good)
        b[int(b.length)]! ^= 1 << int(8)
        return { body: b }
      }],
      ['wrong-hash-oid', () => ({ body: ocspRequest([{ ...valid, hash: undefined, hashOid: `1.2.${int(1000)}.${int(1000)}` }]) })],
      ['random-issuer-hashes', () => ({ body: ocspRequest([{ ...valid, issuerNameHash: randomBytes(20), issuerKeyHash: randomBytes(20) }]) })],
      ['wrong-hash-length', () => ({ body: ocspRequest([{ ...valid, issuerKeyHash: randomBytes(1 + int(40)) }]) })],
      ['huge-nonce', () => ({ body: ocspRequest([valid], randomBytes(129 + int(4000))) })],
      ['many-certids', () => ({ body: ocspRequest(Array.from({ length: 33 + int(100) }, () => valid)) })],
      ['trailing-garbage', () => ({ body: Uint8Array.from([...good, ...randomBytes(1 + int(10))]) })],
      ['get-random-path', () => ({ path: Array.from({ length: int(60) }, () => 'A%+/=_-.~z9'[int(11)]).join('') })],
      ['get-random-base64', () => ({ path: encodeURIComponent(Buffer.from(randomBytes(int(200))).toString('base64')) })],
    ]
    const seen: Record<number, number> = {}
    for (let i = 0; i < 10_000; i++) {
      const [name, gen] = generators[i % generators.length]!
      const c = gen()
      const res = c.body
        ? await app.request('/', { method: 'POST', body: c.body as Uint8Array<ArrayBuffer> })
        : await app.request(`/${c.path}`)
      const der = new Uint8Array(await res.arrayBuffer())
      let status: number
      try {
        status = pkijs.OCSPResponse.fromBER(der).responseStatus.valueBlock.valueDec
      } catch {
        throw new Error(`case ${i} (${name}): response is not an OCSPResponse (HTTP ${res.status})`)
      }
      if (res.status !== 200 || status === 2) throw new Error(`case ${i} (${name}): HTTP ${res.status}, responseStatus ${status}`)
      seen[status] = (seen[status] ?? 0) + 1
    }
    // Every class of answer occurred: malformedRequest, unauthorized, and real answers (bit flips in the serial).
    expect(Object.keys(seen).sort()).toEqual(['0', '1', '6'])
  }, 120_000)
})
