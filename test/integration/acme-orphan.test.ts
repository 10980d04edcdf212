// A validation whose instance stopped between `processing` and the outcome (crash, restart, deploy) is resumed by
// the next instance a client polls: RFC 8555 §7.5.1 clients poll the authorization (certbot, lego) or the challenge
// (acme.sh) until it settles, so a `processing` challenge past acme.validation's stale bound is taken over and
// validated, never left processing. A fresh one is left to the instance running it.
// Needs the real PostgreSQL: the test backdates started_at from a second connection, as time passing would.
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { AcmeTestClient, startHttp01Responder } from '../helpers/acme-client.js'
import { DIRECTORY, startAcmeTestServer, type AcmeTestServer } from '../helpers/acme-server.js'

const postgresUrl = inject('postgresUrl') || undefined

let server: AcmeTestServer
let http01: Awaited<ReturnType<typeof startHttp01Responder>>

beforeAll(async () => {
  if (!postgresUrl) return
  http01 = await startHttp01Responder()
  server = await startAcmeTestServer({
    postgresUrl,
    acme: { http01Port: http01.port },
    profiles: { default: { allow: { ip: ['127.0.0.0/8'] } } },
  })
})
afterAll(async () => {
  await server?.close()
  await http01?.close()
})

/** What a stopped instance leaves behind: the challenge taken to `processing`, and no validation running. */
async function orphanedChallenge(client: AcmeTestClient) {
  const order = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }] })
  const authzUrl: string = order.body.authorizations[0]
  const authz = await client.post(authzUrl, '')
  const ch = authz.body.challenges.find((c: { type: string }) => c.type === 'http-01')
  http01.tokens.set(ch.token, client.keyAuthorization(ch.token))
  const accountId = client.kid!.split('/').at(-1)!
  const challengeId = ch.url.split('/').at(-1)!
  const taken = await server.core.store.acme.challenges.startProcessing(challengeId, accountId, 3600)
  expect(taken?.challenge.status).toBe('processing')
  return { authzUrl, challengeUrl: ch.url as string, challengeId }
}

async function backdate(challengeId: string, seconds: number) {
  const sql = postgres(postgresUrl!, { max: 1, onnotice: () => {} })
  try {
    await sql`update ${sql(server.schema)}.acme_challenges
              set started_at = now() - make_interval(secs => ${seconds}) where id = ${challengeId}`
  } finally {
    await sql.end()
  }
}

describe.skipIf(!postgresUrl)('ACME validations left processing by a stopped instance', () => {
  it('ok/authorization-poll-resumes-a-stale-validation', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
    await client.newAccount()
    const { authzUrl, challengeId } = await orphanedChallenge(client)
    // Fresh: another instance may still be validating; a poll leaves it alone.
    expect((await client.post(authzUrl, '')).body.status).toBe('pending')
    expect(server.acme.inflight.size).toBe(0)
    await backdate(challengeId, 3600)
    const polled = await client.post(authzUrl, '')
    expect(polled.body.challenges.find((c: { type: string }) => c.type === 'http-01').status).toBe('processing')
    await server.settle()
    const after = await client.post(authzUrl, '')
    expect(after.body.status).toBe('valid')
    expect(after.body.challenges.find((c: { type: string }) => c.type === 'http-01').status).toBe('valid')
  })

  it('ok/challenge-poll-resumes-a-stale-validation', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
    await client.newAccount()
    const { challengeUrl, challengeId, authzUrl } = await orphanedChallenge(client)
    await backdate(challengeId, 3600)
    expect((await client.post(challengeUrl, '')).body.status).toBe('processing')
    await server.settle()
    expect((await client.post(challengeUrl, '')).body.status).toBe('valid')
    expect((await client.post(authzUrl, '')).body.status).toBe('valid')
  })

  it('ok/two-polls-resume-it-once', async () => {
    const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
    await client.newAccount()
    const { authzUrl, challengeId } = await orphanedChallenge(client)
    await backdate(challengeId, 3600)
    // The same account from two clients (each with its own nonce), polling at once.
    const twin = await AcmeTestClient.create(server.fetch, DIRECTORY)
    await twin.setKeys(client.keys)
    twin.kid = client.kid
    const before = http01.requests.length
    const polls = await Promise.all([client.post(authzUrl, ''), twin.post(authzUrl, '')])
    expect(polls.map((p) => p.status)).toEqual([200, 200])
    await server.settle()
    // One validation ran: the responder was asked once for this token (attempts: 1 in the test server).
    expect(http01.requests.length - before).toBe(1)
    expect((await client.post(authzUrl, '')).body.status).toBe('valid')
  })
})
