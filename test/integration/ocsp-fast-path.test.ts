// The OCSP hot path in front of Hono (protocols/ocsp/node.ts) over a real node:http listener, as `enroll serve`
// wires it: the same bytes and headers as the Hono route, the same request metric and request id, and every
// request it does not take (chunked, oversized, HEAD, other paths) answered by Hono unchanged.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { webcrypto } from 'node:crypto'
import { getRequestListener } from '@hono/node-server'
import * as pkijs from 'pkijs'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, type Apps } from '../../src/app.js'
import { loadConfig } from '../../src/config/load.js'
import { createMetrics, type Metrics } from '../../src/metrics.js'
import { parseCsr } from '../../src/pki/csr.js'
import { createRevocation, type Revocation } from '../../src/revocation/index.js'
import { openCore, type Core } from '../../src/server.js'
import { makeCsr } from '../helpers/csr.js'
import { certIdFor, ocspRequest } from '../helpers/ocsp.js'

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }))

const OCSP = '/.well-known/pki/ocsp'
const BODY_LIMIT = 4096

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

let dataDir: string
let core: Core
let revocation: Revocation
let metrics: Metrics
let apps: Apps
let server: Server
let port: number
let issuingDer: Uint8Array
let serial: string

function send(
  method: string,
  path: string,
  options: { body?: Uint8Array; headers?: Record<string, string>; chunked?: boolean } = {},
): Promise<Reply> {
  return new Promise((done, fail) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/ocsp-request', ...options.headers }
    if (options.body && !options.chunked) headers['Content-Length'] = String(options.body.byteLength)
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', fail)
    if (options.body && options.chunked) {
      // Two writes without a Content-Length: node sends Transfer-Encoding: chunked.
      const half = Math.floor(options.body.byteLength / 2)
      req.write(options.body.subarray(0, half))
      req.end(options.body.subarray(half))
    } else req.end(options.body)
  })
}

/** OCSPResponse responseStatus and, when successful, the first SingleResponse's certStatus tag (0 good, 1 revoked). */
function statusOf(der: Uint8Array): { responseStatus: number; certStatus?: number } {
  const resp = pkijs.OCSPResponse.fromBER(new Uint8Array(der))
  const responseStatus = resp.responseStatus.valueBlock.valueDec
  if (!resp.responseBytes) return { responseStatus }
  const basic = pkijs.BasicOCSPResponse.fromBER(resp.responseBytes.response.valueBlock.valueHexView.slice())
  const certStatus = (basic.tbsResponseData.responses[0]!.certStatus as { idBlock: { tagNumber: number } }).idBlock
    .tagNumber
  return { responseStatus, certStatus }
}

async function requestCount(route: string, method: string, status: number): Promise<number> {
  const metric = await metrics.registry.getSingleMetric('enroll_http_requests_total')!.get()
  const v = metric.values.find(
    (x) =>
      x.labels['listener'] === 'http' &&
      x.labels['route'] === route &&
      x.labels['method'] === method &&
      x.labels['status'] === String(status),
  )
  return v?.value ?? 0
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'enroll-ocsp-fast-'))
  const logger = pino({ level: 'silent' })
  const config = loadConfig({
    env: {},
    overrides: { dataDir, publicHttpUrl: 'http://pki.test:8080', bodyLimitBytes: BODY_LIMIT },
  })
  core = await openCore(config, logger, { createCa: true })
  revocation = createRevocation({ ...core, logger })
  await revocation.start()
  metrics = createMetrics({ defaultMetrics: false })
  apps = createApp({ ...core, logger, metrics, apiKeys: [], revocation })
  issuingDer = new Uint8Array((await core.issuance.chainFor('default'))[0]!)
  const { der } = await makeCsr({ subject: 'CN=fast.example', dns: ['fast.example'] })
  const out = await core.issuance.issue({ csr: await parseCsr(der), protocol: 'admin', requester: 'test' })
  if (out.status !== 'issued') throw new Error('not issued')
  serial = out.certificate.serial
  server = createServer(apps.httpFastPath(getRequestListener(apps.http.fetch)))
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  port = (server.address() as AddressInfo).port
})

afterAll(async () => {
  await new Promise((done) => server?.close(done))
  await revocation?.stop()
  await core?.store.close()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('OCSP hot path in front of Hono', () => {
  it('ok/post-answers-the-same-bytes-and-headers-as-the-hono-route', async () => {
    const body = ocspRequest([certIdFor(issuingDer, serial)])
    const fast = await send('POST', OCSP, { body })
    expect(fast.status).toBe(200)
    expect(statusOf(fast.body)).toEqual({ responseStatus: 0, certStatus: 0 })
    const viaHono = await apps.http.request(OCSP, {
      method: 'POST',
      headers: { 'Content-Type': 'application/ocsp-request' },
      body: body as Uint8Array<ArrayBuffer>,
    })
    // Both hit the same cached answer: identical bytes and caching headers.
    expect(Buffer.from(await viaHono.arrayBuffer()).equals(fast.body)).toBe(true)
    for (const h of ['content-type', 'etag', 'last-modified', 'expires']) {
      expect(fast.headers[h], h).toBe(viaHono.headers.get(h))
    }
    expect(fast.headers['cache-control']).toMatch(/^max-age=\d+, public, no-transform, must-revalidate$/)
    expect(fast.headers['content-length']).toBe(String(fast.body.byteLength))
    expect(fast.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('ok/get-form-and-conditional-304', async () => {
    const b64 = Buffer.from(ocspRequest([certIdFor(issuingDer, serial, 'sha256')])).toString('base64')
    const first = await send('GET', `${OCSP}/${encodeURIComponent(b64)}`)
    expect(first.status).toBe(200)
    expect(statusOf(first.body)).toEqual({ responseStatus: 0, certStatus: 0 })
    const etag = first.headers['etag'] as string
    const again = await send('GET', `${OCSP}/${encodeURIComponent(b64)}`, { headers: { 'If-None-Match': etag } })
    expect(again.status).toBe(304)
    expect(again.body.byteLength).toBe(0)
    expect(again.headers['etag']).toBe(etag)
  })

  it('ok/revocation-is-seen-on-the-hot-path', async () => {
    const { der } = await makeCsr({ subject: 'CN=gone.example', dns: ['gone.example'] })
    const out = await core.issuance.issue({ csr: await parseCsr(der), protocol: 'admin', requester: 'test' })
    if (out.status !== 'issued') throw new Error('not issued')
    const body = ocspRequest([certIdFor(issuingDer, out.certificate.serial)])
    expect(statusOf((await send('POST', OCSP, { body })).body).certStatus).toBe(0)
    await core.issuance.revoke({ serial: out.certificate.serial, reason: 1, actor: 'test', protocol: 'admin' })
    const deadline = Date.now() + 1000
    let certStatus: number | undefined
    do certStatus = statusOf((await send('POST', OCSP, { body })).body).certStatus
    while (certStatus !== 1 && Date.now() < deadline)
    expect(certStatus).toBe(1)
  })

  it('ok/client-request-id-is-echoed', async () => {
    const body = ocspRequest([certIdFor(issuingDer, serial)])
    const res = await send('POST', OCSP, { body, headers: { 'X-Request-Id': 'lb-7f3a' } })
    expect(res.headers['x-request-id']).toBe('lb-7f3a')
  })

  it('fail/junk-body-is-malformedRequest-not-5xx', async () => {
    const res = await send('POST', OCSP, { body: new Uint8Array([0x30, 0x03, 0x02, 0x01]) })
    expect(res.status).toBe(200)
    expect(statusOf(res.body).responseStatus).toBe(1)
    const get = await send('GET', `${OCSP}/${encodeURIComponent('@@not-base64@@')}`)
    expect(statusOf(get.body).responseStatus).toBe(1)
  })

  it('ok/chunked-body-is-left-to-hono-and-still-answered', async () => {
    const body = ocspRequest([certIdFor(issuingDer, serial)])
    const res = await send('POST', OCSP, { body, chunked: true })
    expect(res.status).toBe(200)
    expect(statusOf(res.body)).toEqual({ responseStatus: 0, certStatus: 0 })
  })

  it('fail/oversized-body-is-left-to-hono-413', async () => {
    const res = await send('POST', OCSP, { body: new Uint8Array(BODY_LIMIT + 1) })
    expect(res.status).toBe(413)
    expect(res.headers['content-type']).toContain('application/problem+json')
  })

  it('ok/other-paths-and-methods-reach-hono', async () => {
    expect((await send('GET', '/health')).status).toBe(200)
    expect((await send('POST', `${OCSP}/extra`, { body: new Uint8Array(4) })).status).toBe(404)
    const head = await send('HEAD', `${OCSP}/${encodeURIComponent('MAA=')}`)
    expect(head.status).toBe(200)
    expect(head.body.byteLength).toBe(0)
  })

  it('ok/requests-are-counted-under-the-hono-route-labels', async () => {
    const before = await requestCount(OCSP, 'POST', 200)
    const body = ocspRequest([certIdFor(issuingDer, serial)])
    await send('POST', OCSP, { body })
    await send('POST', OCSP, { body, chunked: true })
    expect(await requestCount(OCSP, 'POST', 200)).toBe(before + 2)
    expect(await requestCount(`${OCSP}/*`, 'GET', 304)).toBe(1)
  })
})
