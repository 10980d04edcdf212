// Two ACME instances sharing one PostgreSQL (RFC 8555 §6.5 across a cluster): a nonce issued by one is accepted
// once by the other, and the orders either creates are visible to both.
import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { acmeApp } from '../../protocols/acme/index.js'
import { openStore, type Store } from '../../src/store/index.js'
import { AcmeTestClient, type Fetcher } from '../helpers/acme-client.js'
import { DIRECTORY, startAcmeTestServer, type AcmeTestServer } from '../helpers/acme-server.js'

const postgresUrl = inject('postgresUrl')

describe.skipIf(!postgresUrl)('two instances on one PostgreSQL', () => {
  let a: AcmeTestServer
  let storeB: Store
  let fetchB: Fetcher

  beforeAll(async () => {
    a = await startAcmeTestServer({ postgresUrl })
    storeB = await openStore({ url: postgresUrl, dataDir: a.config.dataDir, schema: a.schema, poolSize: 4 })
    const b = new Hono()
    b.use('*', requestId())
    b.route('/acme', acmeApp({ config: a.config, store: storeB, issuance: a.core.issuance, logger: pino({ level: 'silent' }) }))
    fetchB = (url, init) => b.request(url, init)
  })
  afterAll(async () => {
    await storeB?.close()
    await a?.close()
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
})
