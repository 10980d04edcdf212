// RFC 8555 §7.5.1 responding to a challenge, as recorded in the store: a validation that finishes within
// acme.validation.awaitSeconds is recorded once (pending → valid | invalid) and answered with its outcome; one that
// outlasts the wait is recorded `processing` and settles in the background; two responses racing record one outcome;
// an authorization deactivated while its challenge is validated stays deactivated.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { AcmeTestClient, startHttp01Responder } from '../helpers/acme-client.js'
import { DIRECTORY, startAcmeTestServer, type AcmeTestServer } from '../helpers/acme-server.js'

const postgresUrl = inject('postgresUrl') || undefined

let server: AcmeTestServer
let responder: Awaited<ReturnType<typeof startHttp01Responder>>

beforeAll(async () => {
  responder = await startHttp01Responder()
  server = await startAcmeTestServer({
    postgresUrl,
    acme: { http01Port: responder.port, validation: { attempts: 1, retryDelaySeconds: 0, timeoutSeconds: 5, awaitSeconds: 1 } },
    profiles: { default: { allow: { ip: ['127.0.0.0/8'] } } },
  })
})
afterAll(async () => {
  await server?.close()
  await responder?.close()
})

const fetchesOf = (token: string) => responder.requests.filter((r) => r.endsWith(`/${token}`)).length

/** A new account's order for 127.0.0.1, its authorization and http-01 challenge, answered after `delayMs`. */
async function challengeAnsweredAfter(delayMs: number) {
  const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
  await client.newAccount()
  const order = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }] })
  const authzUrl: string = order.body.authorizations[0]
  const authz = await client.post(authzUrl, '')
  const ch = authz.body.challenges.find((c: { type: string }) => c.type === 'http-01')
  responder.tokens.set(ch.token, client.keyAuthorization(ch.token))
  responder.delays.set(ch.token, delayMs)
  return { client, orderUrl: order.headers.get('location')!, authzUrl, ch: ch as { url: string; token: string } }
}

describe('responding to a challenge (RFC 8555 §7.5.1)', () => {
  it('ok/a-validation-within-the-wait-is-answered-with-its-outcome', async () => {
    const { client, orderUrl, authzUrl, ch } = await challengeAnsweredAfter(0)
    const answered = await client.post(ch.url, {})
    expect(answered.status).toBe(200)
    expect(answered.body.status).toBe('valid')
    expect(answered.headers.get('retry-after')).toBeNull()
    expect((await client.post(authzUrl, '')).body.status).toBe('valid')
    expect((await client.post(orderUrl, '')).body.status).toBe('ready')
    expect(fetchesOf(ch.token)).toBe(1)
  })

  it('ok/a-validation-outlasting-the-wait-is-recorded-processing-then-settles', async () => {
    const { client, orderUrl, ch } = await challengeAnsweredAfter(1500)
    const answered = await client.post(ch.url, {})
    expect(answered.body.status).toBe('processing')
    expect(answered.headers.get('retry-after')).toBe('1')
    // Recorded as processing: a read, and another response to the challenge, see it so and start nothing.
    expect((await client.post(ch.url, '')).body.status).toBe('processing')
    expect((await client.post(ch.url, {})).body.status).toBe('processing')
    await server.settle()
    expect((await client.post(ch.url, '')).body.status).toBe('valid')
    expect((await client.post(orderUrl, '')).body.status).toBe('ready')
    expect(fetchesOf(ch.token)).toBe(1)
  })

  it('ok/two-responses-at-once-record-one-outcome', async () => {
    const { client, authzUrl, ch } = await challengeAnsweredAfter(100)
    const both = await Promise.all([client.post(ch.url, {}), client.post(ch.url, {})])
    expect(both.map((r) => r.status)).toEqual([200, 200])
    expect(both.map((r) => r.body.status).sort()).toEqual(['valid', 'valid'])
    const authz = await client.post(authzUrl, '')
    expect(authz.body.status).toBe('valid')
    expect(authz.body.challenges.find((c: { type: string }) => c.type === 'http-01').status).toBe('valid')
  })

  it('fail/an-authorization-deactivated-during-validation-stays-deactivated', async () => {
    const { client, authzUrl, ch } = await challengeAnsweredAfter(400)
    const answering = client.post(ch.url, {})
    await sleep(100)
    expect((await client.post(authzUrl, { status: 'deactivated' })).body.status).toBe('deactivated')
    const answered = await answering
    expect(answered.status).toBe(400)
    expect(answered.body.type).toBe('urn:ietf:params:acme:error:malformed')
    const authz = await client.post(authzUrl, '')
    expect(authz.body.status).toBe('deactivated')
    expect(authz.body.challenges.find((c: { type: string }) => c.type === 'http-01').status).toBe('pending')
  })
})
