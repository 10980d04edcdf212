// protocols/est: label routing (RFC 7030 §3.2.2) and error rendering, in-process with app.request() and a stand-in
// issuance service (no store, no CA).
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { estApp, type EstDeps } from '../../../../protocols/est/index.js'
import { loadConfig } from '../../../../src/config/load.js'
import { IssuanceError } from '../../../../src/errors.js'

const logger = pino({ level: 'silent' })
const CA = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])

function app(est: unknown, chainFor: EstDeps['issuance']['chainFor'] = async () => [CA]) {
  const config = loadConfig({ env: {}, overrides: { dataDir: '/nonexistent', est } })
  const unused = async () => {
    throw new Error('not used here')
  }
  return estApp({
    config,
    logger,
    issuance: { chainFor, issue: unused, issueWithServerKey: unused, heldOutcome: unused, find: unused },
  })
}

describe('labels (RFC 7030 §3.2.2)', () => {
  it('ok/labels-without-default-leave-the-bare-path-unserved', async () => {
    const a = app({ labels: { devices: {} } })
    expect((await a.request('/devices/cacerts')).status).toBe(200)
    const bare = await a.request('/cacerts')
    expect(bare.status).toBe(404)
    expect(await bare.text()).toBe('no EST label "default" is configured\n')
  })

  it('ok/disabled-serves-nothing', async () => {
    expect((await app({ enabled: false }).request('/cacerts')).status).toBe(404)
  })

  it.each([
    ['/cacerts', 'GET', 200],
    ['/default/cacerts', 'GET', 200],
    ['/default/nosuch', 'GET', 404],
    ['/a/b/cacerts', 'GET', 404],
    ['/cacerts', 'DELETE', 405],
    ['/serverkeygen', 'GET', 405],
    ['/fullcmc', 'GET', 501],
  ])('%s %s → %i', async (path, method, status) => {
    expect((await app(undefined).request(path, { method })).status).toBe(status)
  })
})

describe('error rendering (RFC 7030 §4.2.3)', () => {
  it('ok/5xx-hides-the-detail-and-asks-to-retry', async () => {
    const r = await app(undefined, async () => {
      throw new IssuanceError('backendUnavailable', 'vault at 10.0.0.7 said 500')
    }).request('/cacerts')
    expect(r.status).toBe(503)
    expect(r.headers.get('retry-after')).toBe('30')
    expect(await r.text()).not.toMatch(/vault/)
  })

  it('ok/unexpected-errors-are-500-without-detail', async () => {
    const r = await app(undefined, async () => {
      throw new TypeError('secret internals')
    }).request('/cacerts')
    expect(r.status).toBe(500)
    expect(await r.text()).not.toMatch(/secret/)
  })
})
