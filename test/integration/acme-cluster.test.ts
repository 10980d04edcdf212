// Two ACME instances sharing one PostgreSQL (RFC 8555 §6.5 across a cluster): a nonce issued by one is accepted
// once by the other, the orders either creates are visible to both, and an account key or status changed on one is
// honoured by the other at once (each instance keeps the keys of accounts it has seen, as a hint only).
import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { acmeApp } from '../../protocols/acme/index.js'
import { openStore, type Store } from '../../src/store/index.js'
import { AcmeTestClient, startHttp01Responder, type Fetcher } from '../helpers/acme-client.js'
import { makeCsr } from '../helpers/csr.js'
import { DIRECTORY, startAcmeTestServer, type AcmeTestServer } from '../helpers/acme-server.js'

const postgresUrl = inject('postgresUrl')

describe.skipIf(!postgresUrl)('two instances on one PostgreSQL', () => {
  let a: AcmeTestServer
  let storeB: Store
  let fetchB: Fetcher
  let http01: Awaited<ReturnType<typeof startHttp01Responder>>

  /** The same account on both instances (A created it). */
  async function onBoth() {
    const onA = await AcmeTestClient.create(a.fetch, DIRECTORY)
    await onA.newAccount()
    const onB = new AcmeTestClient(fetchB, DIRECTORY)
    onB.directory = onA.directory
    await onB.setKeys(onA.keys)
    onB.kid = onA.kid
    return { onA, onB }
  }

  beforeAll(async () => {
    http01 = await startHttp01Responder()
    a = await startAcmeTestServer({ postgresUrl, acme: { http01Port: http01.port } })
    storeB = await openStore({ url: postgresUrl, dataDir: a.config.dataDir, schema: a.schema, poolSize: 4 })
    const b = new Hono()
    b.use('*', requestId())
    b.route('/acme', acmeApp({ config: a.config, store: storeB, issuance: a.core.issuance, logger: pino({ level: 'silent' }) }))
    fetchB = (url, init) => b.request(url, init)
  })
  afterAll(async () => {
    await storeB?.close()
    await a?.close()
    await http01?.close()
  })

  it('ok/nonce-from-one-instance-is-accepted-once-by-the-other', async () => {
    const onA = await AcmeTestClient.create(a.fetch, DIRECTORY)
    await onA.newAccount()
    const nonce = await onA.freshNonce()
    const onB = new AcmeTestClient(fetchB, DIRECTORY)
    onB.directory = onA.directory
    await onB.setKeys(onA.keys)
    onB.kid = onA.kid
    expect((await onB.post(onA.kid!, '', { nonce })).status).toBe(200)
    expect((await onA.post(onA.kid!, '', { nonce })).body.type).toBe('urn:ietf:params:acme:error:badNonce')
    const order = await onB.post(onB.directory['newOrder'], { identifiers: [{ type: 'dns', value: 'cluster.test' }] })
    expect(order.status).toBe(201)
    expect((await onA.post(order.headers.get('location')!, '')).body.identifiers).toEqual([{ type: 'dns', value: 'cluster.test' }])
  })

  it('ok/key-rolled-over-on-one-instance-is-the-key-on-the-other', async () => {
    const { onA, onB } = await onBoth()
    expect((await onA.post(onA.kid!, '')).status).toBe(200) // A now knows the old key
    const oldKeys = onA.keys
    const newKeys = await AcmeTestClient.keyPair('ES256')
    const url = onB.directory['keyChange']
    const inner = await onB.sign(url, { account: onB.kid, oldKey: onB.jwk }, { jwk: true, keys: newKeys, nonce: null })
    expect((await onB.post(url, inner)).status).toBe(200)
    await onA.setKeys(newKeys)
    expect((await onA.post(onA.kid!, '')).status).toBe(200)
    expect((await onA.post(onA.kid!, '', { keys: oldKeys })).body.type).toBe('urn:ietf:params:acme:error:malformed')
  })

  it('fail/account-deactivated-on-one-instance-is-refused-by-the-other', async () => {
    const { onA, onB } = await onBoth()
    expect((await onA.post(onA.kid!, '')).status).toBe(200)
    expect((await onB.post(onB.kid!, { status: 'deactivated' })).body.status).toBe('deactivated')
    const refused = await onA.post(onA.directory['newOrder'], { identifiers: [{ type: 'dns', value: 'gone.test' }] })
    expect(refused.status).toBe(403)
    expect(refused.body.type).toBe('urn:ietf:params:acme:error:unauthorized')
  })

  it('ok/issued-on-one-instance-downloads-from-the-other', async () => {
    const { onA, onB } = await onBoth()
    const order = await onA.post(onA.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }] })
    const authz = await onB.post(order.body.authorizations[0], '')
    const ch = authz.body.challenges.find((c: { type: string }) => c.type === 'http-01')
    http01.tokens.set(ch.token, onA.keyAuthorization(ch.token))
    expect((await onA.post(ch.url, {})).body.status).toBe('valid')
    expect((await onB.post(order.headers.get('location')!, '')).body.status).toBe('ready')
    const csr = await makeCsr({ ip: ['127.0.0.1'] })
    const fin = await onA.post(order.body.finalize, { csr: Buffer.from(csr.der).toString('base64url') })
    expect(fin.body.status).toBe('valid')
    const [fromA, fromB] = [await onA.post(fin.body.certificate, ''), await onB.post(fin.body.certificate, '')]
    expect(fromB.status).toBe(200)
    expect(fromB.text).toBe(fromA.text)
  })
})
