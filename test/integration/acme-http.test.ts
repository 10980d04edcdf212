// The ACME server on the real HTTPS listener (startServer): one Link header line per relation, Replay-Nonce on
// errors, and EAB keys minted through the admin API (/api/v1/acme/eab) used by newAccount.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FlattenedSign } from 'jose'
import { pino } from 'pino'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { loadConfig } from '../../src/config/load.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { AcmeTestClient, type Fetcher } from '../helpers/acme-client.js'

const API_KEY = randomBytes(24).toString('hex')
const postgresUrl = inject('postgresUrl') || undefined
let server: RunningServer
let dataDir: string
let ca: string
let base: string
let schema: string

interface Raw {
  status: number
  rawHeaders: string[]
  body: string
}

function call(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const fetcher: Fetcher = async (url, init) => {
  const r = await call(init?.method ?? 'GET', url, init?.body as string | undefined, (init?.headers ?? {}) as Record<string, string>)
  const headers = new Headers()
  for (let i = 0; i < r.rawHeaders.length; i += 2) headers.append(r.rawHeaders[i]!, r.rawHeaders[i + 1]!)
  return new Response(r.status === 204 || init?.method === 'HEAD' ? null : r.body, { status: r.status, headers })
}

/** Every line of one response header, as sent. */
const linesOf = (r: Raw, name: string) =>
  r.rawHeaders.flatMap((h, i) => (i % 2 === 0 && h.toLowerCase() === name ? [r.rawHeaders[i + 1]!] : []))

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'enroll-acme-http-'))
  schema = postgresUrl ? `t_${randomBytes(6).toString('hex')}` : 'public'
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      databaseUrl: postgresUrl,
      databaseSchema: schema,
      httpsPort: 0,
      httpPort: 0,
      listenHost: '127.0.0.1',
      logLevel: 'silent',
      admin: { apiKeys: [{ name: 'test', key: API_KEY }] },
      acme: { externalAccountRequired: true },
    },
  })
  server = await startServer(config, pino({ level: 'silent' }))
  ca = readFileSync(join(dataDir, 'ca.pem'), 'utf8')
  // publicUrl defaults to https://<hostname>:<configured port 0>; the listener's real port is what we call.
  base = `https://localhost:${server.httpsPort}`
})

afterAll(async () => {
  await server?.close()
  if (postgresUrl) {
    const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} })
    await sql`drop schema if exists ${sql(schema)} cascade`
    await sql.end()
  }
  rmSync(dataDir, { recursive: true, force: true })
})

describe('ACME on the HTTPS listener', () => {
  it('ok/head-newNonce-keeps-the-connection-open', async () => {
    // Without a Content-Length node's server closed the connection after each HEAD: a TLS handshake per new nonce.
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca })
    const sockets = new Set<unknown>()
    const head = () =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${base}/acme/new-nonce`, { method: 'HEAD', agent }, (res) => {
          sockets.add(req.socket)
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        })
        req.on('error', reject)
        req.end()
      })
    try {
      expect([await head(), await head(), await head()]).toEqual([200, 200, 200])
      expect(sockets.size).toBe(1)
    } finally {
      agent.destroy()
    }
  })

  it('ok/link-header-one-line-per-relation', async () => {
    const admin = { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' }
    const created = await call('POST', `${base}/api/v1/acme/eab`, JSON.stringify({ description: 'ci' }), admin)
    expect(created.status).toBe(201)
    const key = JSON.parse(created.body) as { keyId: string; hmacKey: string }
    expect(key.keyId).toMatch(/^eab-/)

    // Requests are signed for the configured public URL; the server compares against it, not the Host header.
    const publicUrl = server.config.publicUrl
    const client = await AcmeTestClient.create(async (url, init) => fetcher(url.replace(publicUrl, base), init), `${base}/acme/directory`)
    expect(client.directory['meta'].externalAccountRequired).toBe(true)
    const eab = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(client.jwk)))
      .setProtectedHeader({ alg: 'HS256', kid: key.keyId, url: client.directory['newAccount'] })
      .sign(Buffer.from(key.hmacKey, 'base64url'))
    const account = await client.newAccount({ externalAccountBinding: eab })
    expect(account.status).toBe(201)

    const order = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'dns', value: 'lines.test' }] })
    const authz = await client.post(order.body.authorizations[0], '')
    const ch = authz.body.challenges[0]
    const signed = JSON.stringify(await client.sign(ch.url, ''))
    const raw = await call('POST', ch.url.replace(publicUrl, base), signed, { 'Content-Type': 'application/jose+json' })
    const links = linesOf(raw, 'link')
    expect(links).toHaveLength(2)
    expect(links.some((l) => l.endsWith('rel="up"'))).toBe(true)
    expect(links.some((l) => l.endsWith('rel="index"'))).toBe(true)

    const listed = JSON.parse((await call('GET', `${base}/api/v1/acme/eab`, undefined, admin)).body)
    expect(listed.items[0]).toMatchObject({ keyId: key.keyId, accountId: expect.any(String) })
    expect(JSON.stringify(listed)).not.toContain(key.hmacKey)
    expect((await call('DELETE', `${base}/api/v1/acme/eab/${key.keyId}`, undefined, admin)).status).toBe(409)
  })

  it('ok/renewal-flags-through-the-admin-api', async () => {
    const admin = { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' }
    const url = `${base}/api/v1/acme/renewal-flags/backend/local`
    expect((await call('PUT', url, JSON.stringify({ explanationUrl: 'https://status.test/ca' }), admin)).status).toBe(204)
    const listed = JSON.parse((await call('GET', `${base}/api/v1/acme/renewal-flags`, undefined, admin)).body)
    expect(listed.items).toEqual([expect.objectContaining({ scope: 'backend', name: 'local', explanationUrl: 'https://status.test/ca' })])
    expect((await call('PUT', `${base}/api/v1/acme/renewal-flags/team/x`, '{}', admin)).status).toBe(400)
    expect((await call('DELETE', url, undefined, admin)).status).toBe(204)
    expect((await call('DELETE', url, undefined, admin)).status).toBe(404)
    expect((await call('GET', `${base}/api/v1/acme/eab`)).status).toBe(401)
  })

  it('fail/error-responses-carry-replay-nonce', async () => {
    const r = await call('POST', `${base}/acme/new-order`, '{}', { 'Content-Type': 'application/jose+json' })
    expect(r.status).toBe(400)
    expect(linesOf(r, 'replay-nonce')[0]).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(linesOf(r, 'content-type')[0]).toBe('application/problem+json')
  })
})
