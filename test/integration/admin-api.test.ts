// The whole server over real HTTP: startServer() with both listeners on loopback, the admin API (/api/v1) over
// TLS trusting <dataDir>/ca.pem, the operational endpoints, and CA download on the plain HTTP listener.
import { createHash, X509Certificate as NodeX509 } from 'node:crypto'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import { fromPemAll, toPem } from '../../src/pki/pem.js'
import { x509 } from '../../src/pki/x509.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { makeCsr } from '../helpers/csr.js'

const API_KEY = 'test-admin-key-0123456789abcdef-0123456789'
const logger = pino({ level: 'silent' })

let dataDir: string
let config: Config
let server: RunningServer
let caPem: string

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  text: string
  json: any
  peerFingerprint: string | undefined
}

/** One request on a fresh connection (no keep-alive, so close() never waits on us). */
function call(
  listener: 'https' | 'http',
  method: string,
  path: string,
  o: {
    body?: unknown
    raw?: string | Buffer
    auth?: string | null
    headers?: Record<string, string>
    chunked?: boolean
  } = {},
): Promise<Reply> {
  const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body))
  const headers: Record<string, string> = { ...o.headers }
  const auth = o.auth === undefined ? `Bearer ${API_KEY}` : o.auth
  if (auth !== null) headers['Authorization'] = auth
  if (payload !== undefined) {
    headers['Content-Type'] ??= 'application/json'
    if (!o.chunked) headers['Content-Length'] = String(Buffer.byteLength(payload))
  }
  const options = {
    host: '127.0.0.1',
    port: listener === 'https' ? server.httpsPort : server.httpPort,
    method,
    path,
    headers,
    agent: false as const,
    ...(listener === 'https' ? { ca: caPem } : {}),
  }
  return new Promise((resolve, reject) => {
    let answered = false
    const req = (listener === 'https' ? httpsRequest : httpRequest)(options, (res) => {
      answered = true
      const socket = res.socket as TLSSocket
      const peerFingerprint =
        listener === 'https' ? socket.getPeerCertificate().fingerprint256 : undefined
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        const text = body.toString('utf8')
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body,
          text,
          json,
          peerFingerprint,
        })
      })
    })
    // The server may answer (413) and close before the whole body is written; only errors before an answer count.
    req.on('error', (e) => {
      if (!answered) reject(e)
    })
    if (payload !== undefined && o.chunked) {
      // Transfer-Encoding: chunked, no Content-Length: the limit must hold while the body streams in.
      const bytes = Buffer.from(payload)
      for (let at = 0; at < bytes.length && !answered; at += 64 * 1024)
        req.write(bytes.subarray(at, at + 64 * 1024))
    } else if (payload !== undefined) req.write(payload)
    req.end()
  })
}

const api = (method: string, path: string, o: Parameters<typeof call>[3] = {}) =>
  call('https', method, `/api/v1${path}`, o)

function expectProblem(r: Reply, status: number, title: string, detail?: RegExp | string) {
  expect(r.status).toBe(status)
  expect(r.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(r.json).toMatchObject({ type: 'about:blank', status, title })
  if (detail instanceof RegExp) expect(r.json.detail).toMatch(detail)
  else if (detail !== undefined) expect(r.json.detail).toBe(detail)
}

const csrPem = async (dns: string[], key: 'ecdsa-p256' | 'rsa-2048' = 'ecdsa-p256') =>
  (await makeCsr({ key, dns })).pem
const issue = async (dns: string[], profile?: string) =>
  api('POST', '/certificates', { body: { csr: await csrPem(dns), profile } })

/** Files that must survive a restart unchanged. */
const stateFiles = () =>
  [
    'ca/local/root.crt.pem',
    'ca/local/root.key.pem',
    'ca/local/issuing.crt.pem',
    'ca/local/issuing.key.pem',
    'tls/server.crt.pem',
    'tls/server.key.pem',
    'ca.pem',
  ].map((f) => [
    f,
    createHash('sha256')
      .update(readFileSync(join(dataDir, f)))
      .digest('hex'),
  ])

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'enroll-admin-'))
  config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      httpsPort: 0,
      httpPort: 0,
      listenHost: '127.0.0.1',
      publicHttpUrl: 'http://pki.test:8080',
      logLevel: 'silent',
      admin: { apiKeys: [{ name: 'test', key: API_KEY }] },
      profiles: {
        default: { allow: { dns: ['**.example.com'], ip: ['192.0.2.0/24'] } },
        approval: { requireApproval: true, allow: { dns: ['**.example.com'] } },
      },
    },
  })
  server = await startServer(config, logger)
  caPem = readFileSync(join(dataDir, 'ca.pem'), 'utf8')
})

afterAll(async () => {
  await server?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('listeners', () => {
  it('ok/bound-to-ephemeral-ports', () => {
    expect(server.httpsPort).toBeGreaterThan(0)
    expect(server.httpPort).toBeGreaterThan(0)
    expect(server.httpsPort).not.toBe(server.httpPort)
    expect(server.caBundlePath).toBe(join(dataDir, 'ca.pem'))
    expect(server.generatedCa).toEqual(['local'])
    expect(server.adminKeyFile).toBeUndefined()
  })

  it('ok/tls-certificate-from-own-ca-in-inventory', async () => {
    const r = await call('https', 'GET', '/health', { auth: null })
    expect(r.status).toBe(200)
    const leaf = new NodeX509(readFileSync(join(dataDir, 'tls/server.crt.pem')))
    expect(r.peerFingerprint).toBe(leaf.fingerprint256)
    expect(leaf.subjectAltName).toContain('IP Address:127.0.0.1')
    expect(
      leaf.checkIssued(
        new NodeX509(fromPemAll(caPem, 'CERTIFICATE').map((d) => toPem(d, 'CERTIFICATE'))[0]!),
      ),
    ).toBe(true)
    const list = await api('GET', '/certificates?profile=server-tls')
    expect(list.json.items).toHaveLength(1)
    expect(list.json.items[0]).toMatchObject({
      profile: 'server-tls',
      protocol: 'system',
      requester: 'system:tls',
      status: 'valid',
    })
  })

  it('ok/health-on-both-listeners', async () => {
    for (const listener of ['https', 'http'] as const) {
      const r = await call(listener, 'GET', '/health', { auth: null })
      expect([r.status, r.json]).toEqual([200, { status: 'ok' }])
      expect(r.headers['x-request-id']).toBeTruthy()
    }
  })

  it('ok/ready', async () => {
    const r = await call('https', 'GET', '/ready', { auth: null })
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({
      status: 'ready',
      checks: { store: 'ok', backends: { local: 'ok' } },
    })
  })

  it('fail/unknown-path-404-problem', async () => {
    expectProblem(
      await call('http', 'GET', '/nope', { auth: null }),
      404,
      'Not Found',
      '/nope is not served here',
    )
  })

  it('fail/admin-api-not-on-http-listener', async () => {
    expect((await call('http', 'GET', '/api/v1/certificates')).status).toBe(404)
  })
})

describe('authentication (RFC 6750 §3)', () => {
  it('fail/no-key', async () => {
    const r = await api('GET', '/certificates', { auth: null })
    expectProblem(r, 401, 'Unauthorized', 'a Bearer API key is required')
    expect(r.headers['www-authenticate']).toBe('Bearer realm="enroll-admin"')
  })

  it('fail/wrong-key', async () => {
    const r = await api('GET', '/certificates', { auth: 'Bearer not-the-key' })
    expectProblem(r, 401, 'Unauthorized', 'the API key is not valid')
    expect(r.headers['www-authenticate']).toBe('Bearer realm="enroll-admin", error="invalid_token"')
  })

  it('fail/other-scheme', async () => {
    const r = await api('GET', '/certificates', {
      auth: `Basic ${Buffer.from(`x:${API_KEY}`).toString('base64')}`,
    })
    expect(r.status).toBe(401)
    expect(r.headers['www-authenticate']).toBe('Bearer realm="enroll-admin"')
  })

  it('fail/write-without-key-issues-nothing', async () => {
    const before = (await api('GET', '/certificates?limit=500')).json.items.length
    const r = await api('POST', '/certificates', {
      auth: null,
      body: { csr: await csrPem(['x.example.com']) },
    })
    expect(r.status).toBe(401)
    expect((await api('GET', '/certificates?limit=500')).json.items.length).toBe(before)
  })

  it('ok/openapi-without-key', async () => {
    const r = await api('GET', '/openapi.json', { auth: null })
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toMatch(/^application\/json/)
    expect(r.json.openapi).toBe('3.1.0')
    expect(r.json.servers).toEqual([{ url: `${config.publicUrl}/api/v1` }])
    expect(Object.keys(r.json.paths)).toEqual(
      expect.arrayContaining([
        '/audit',
        '/certificates',
        '/certificates/{ref}',
        '/certificates/{ref}/revoke',
        '/requests',
        '/requests/{id}/approve',
        '/requests/{id}/reject',
      ]),
    )
  })
})

describe('POST /api/v1/certificates', () => {
  it('ok/pem-csr-201', async () => {
    const r = await api('POST', '/certificates', {
      body: { csr: await csrPem(['www.example.com', 'api.example.com'], 'rsa-2048') },
    })
    expect(r.status).toBe(201)
    expect(r.headers['location']).toBe(`/api/v1/certificates/${r.json.id}`)
    expect(r.json).toMatchObject({
      status: 'valid',
      profile: 'default',
      protocol: 'admin',
      requester: 'admin:test',
      sans: [
        { type: 'dns', value: 'www.example.com' },
        { type: 'dns', value: 'api.example.com' },
      ],
    })
    expect(r.json.pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/)
    const cert = new x509.X509Certificate(r.json.pem)
    expect(cert.serialNumber).toBe(r.json.serial)
    expect(fromPemAll(r.json.chainPem, 'CERTIFICATE')).toHaveLength(2)
    expect(r.json.chainPem).toBe(caPem)
    expect(r.json.parsed).toMatchObject({ serialNumber: r.json.serial, subject: '' })
    expect(r.json.parsed.extensions.map((e: { oid: string }) => e.oid)).toContain('2.5.29.17')
  })

  it('ok/base64-der-csr', async () => {
    const made = await makeCsr({ dns: ['der.example.com'] })
    const r = await api('POST', '/certificates', {
      body: { csr: Buffer.from(made.der).toString('base64') },
    })
    expect(r.status).toBe(201)
  })

  it('fail/malformed-csr-400', async () => {
    const r = await api('POST', '/certificates', { body: { csr: 'bm90IGEgY3Ny' } })
    expectProblem(r, 400, 'badCsr', /^CSR is not a DER PKCS#10 request: /)
  })

  it('fail/wrongly-signed-csr-400', async () => {
    const made = await makeCsr({ dns: ['www.example.com'], key: 'rsa-2048' })
    const der = Buffer.from(made.der)
    der[der.length - 5]! ^= 0x01
    const r = await api('POST', '/certificates', {
      body: { csr: toPem(der, 'CERTIFICATE REQUEST') },
    })
    expectProblem(r, 400, 'badCsr', 'CSR signature does not verify with its public key')
  })

  it('fail/unknown-profile-400', async () => {
    expectProblem(
      await issue(['www.example.com'], 'gold'),
      400,
      'unknownProfile',
      'profile "gold" does not exist',
    )
  })

  it('fail/policy-denial-403', async () => {
    expectProblem(
      await issue(['www.example.org']),
      403,
      'policyDenied',
      'dns identifier "www.example.org" is not allowed by this profile',
    )
  })

  it('fail/missing-csr-400', async () => {
    expectProblem(
      await api('POST', '/certificates', { body: { profile: 'default' } }),
      400,
      'badRequest',
      /^csr: /,
    )
  })

  it('fail/not-json-400', async () => {
    expectProblem(
      await api('POST', '/certificates', { raw: '{"csr":' }),
      400,
      'badRequest',
      'request body is not valid JSON',
    )
  })

  it('fail/not-after-not-a-date-400', async () => {
    const r = await api('POST', '/certificates', {
      body: { csr: await csrPem(['a.example.com']), notAfter: 'tomorrow' },
    })
    expectProblem(r, 400, 'badRequest', /^notAfter: /)
  })

  it('fail/oversized-body-413', async () => {
    const r = await api('POST', '/certificates', {
      raw: JSON.stringify({ csr: 'A'.repeat(1024 * 1024 + 16) }),
    })
    expectProblem(r, 413, 'Payload Too Large', `request body exceeds ${1024 * 1024} bytes`)
  })

  it('fail/oversized-chunked-body-413', async () => {
    const r = await api('POST', '/certificates', {
      raw: JSON.stringify({ csr: 'A'.repeat(1024 * 1024 + 16) }),
      chunked: true,
    })
    expectProblem(r, 413, 'Payload Too Large', `request body exceeds ${1024 * 1024} bytes`)
  })

  it('ok/body-just-under-the-limit-is-read', async () => {
    // Under the limit the body is parsed: a CSR field of junk is refused as a CSR, not as too large.
    const r = await api('POST', '/certificates', {
      raw: JSON.stringify({ csr: 'A'.repeat(1024 * 1024 - 64) }),
    })
    expectProblem(r, 400, 'badCsr')
  })
})

describe('GET /api/v1/certificates', () => {
  const made: { id: string; serial: string; dns: string }[] = []
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) {
      const dns = `page-${i}.List-Api.example.com`
      const r = await issue([dns])
      expect(r.status).toBe(201)
      made.push({ id: r.json.id, serial: r.json.serial, dns: dns.toLowerCase() })
    }
  })

  it('ok/cursor-pagination-covers-all-once', async () => {
    const all = (await api('GET', '/certificates?san=list-api&limit=500')).json
    expect(all.nextCursor).toBeNull()
    expect(all.items.map((i: { id: string }) => i.id)).toEqual(made.map((m) => m.id).reverse())
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const r: Reply = await api(
        'GET',
        `/certificates?san=list-api&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      )
      expect(r.status).toBe(200)
      expect(r.json.items.length).toBeLessThanOrEqual(2)
      seen.push(...r.json.items.map((i: { id: string }) => i.id))
      cursor = r.json.nextCursor
      pages++
    } while (cursor && pages < 10)
    expect(pages).toBe(3)
    expect(seen).toEqual(all.items.map((i: { id: string }) => i.id))
  })

  it('ok/san-filter-case-insensitive', async () => {
    const r = await api('GET', '/certificates?san=PAGE-3.LIST-API')
    expect(r.json.items.map((i: { serial: string }) => i.serial)).toEqual([made[3]!.serial])
  })

  it('ok/status-and-profile-filters', async () => {
    const valid = await api('GET', '/certificates?status=valid&profile=default&limit=500')
    expect(
      valid.json.items.every(
        (i: { status: string; profile: string }) => i.status === 'valid' && i.profile === 'default',
      ),
    ).toBe(true)
    expect(valid.json.items.map((i: { id: string }) => i.id)).toEqual(
      expect.arrayContaining(made.map((m) => m.id)),
    )
    expect((await api('GET', '/certificates?status=expired')).json.items).toEqual([])
  })

  it('ok/expiring-before', async () => {
    const soon = new Date(Date.now() + 24 * 3600 * 1000).toISOString()
    expect(
      (await api('GET', `/certificates?san=list-api&expiring-before=${soon}`)).json.items,
    ).toEqual([])
    const later = new Date(Date.now() + 100 * 24 * 3600 * 1000).toISOString()
    expect(
      (await api('GET', `/certificates?san=list-api&expiring-before=${later}`)).json.items,
    ).toHaveLength(5)
  })

  it.each([
    ['fail/unknown-status', '?status=lost', /^status: /],
    ['fail/limit-too-large', '?limit=501', /^limit: /],
    ['fail/bad-cursor', '?cursor=bm9wZQ', 'cursor is not valid'],
    ['fail/bad-date', '?expiring-before=soon', /^expiring-before: /],
  ])('%s', async (_name, query, detail) => {
    expectProblem(await api('GET', `/certificates${query}`), 400, 'badRequest', detail)
  })

  it('ok/one-by-id-and-by-serial-with-colons', async () => {
    const { id, serial } = made[0]!
    const byId = await api('GET', `/certificates/${id}`)
    expect(byId.status).toBe(200)
    expect(byId.json).toMatchObject({ id, serial, status: 'valid' })
    expect(new x509.X509Certificate(byId.json.pem).serialNumber).toBe(serial)
    const colons = serial.toUpperCase().match(/../g)!.join(':')
    const bySerial = await api('GET', `/certificates/${encodeURIComponent(colons)}`)
    expect(bySerial.status).toBe(200)
    expect(bySerial.json).toEqual(byId.json)
    const bare = await api('GET', `/certificates/${colons}`)
    expect(bare.json.id).toBe(id)
  })

  it('fail/unknown-certificate-404', async () => {
    expectProblem(
      await api('GET', '/certificates/123456789'),
      404,
      'notFound',
      'certificate 123456789 not found',
    )
  })
})

describe('revocation', () => {
  it('ok/revoke-by-reason-name-then-409', async () => {
    const issued = await issue(['revoked.example.com'])
    const r = await api('POST', `/certificates/${issued.json.id}/revoke`, {
      body: { reason: 'keyCompromise' },
    })
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({
      id: issued.json.id,
      status: 'revoked',
      revocationReason: 'keyCompromise',
    })
    expect(Date.parse(r.json.revokedAt)).toBeGreaterThan(Date.now() - 60_000)
    const again = await api('POST', `/certificates/${issued.json.id}/revoke`, {
      body: { reason: 'superseded' },
    })
    expectProblem(again, 409, 'alreadyRevoked', 'certificate is already revoked')
    const shown = await api('GET', `/certificates/${issued.json.serial}`)
    expect(shown.json).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' })
    const listed = await api('GET', '/certificates?status=revoked')
    expect(listed.json.items.map((i: { id: string }) => i.id)).toContain(issued.json.id)
  })

  it('ok/revoke-by-serial-with-code-and-empty-body', async () => {
    const a = await issue(['revoke-code.example.com'])
    expect(
      (await api('POST', `/certificates/${a.json.serial}/revoke`, { body: { reason: 4 } })).json
        .revocationReason,
    ).toBe('superseded')
    const b = await issue(['revoke-default.example.com'])
    const r = await api('POST', `/certificates/${b.json.id}/revoke`)
    expect([r.status, r.json.revocationReason]).toEqual([200, 'unspecified'])
  })

  it.each([
    ['fail/certificate-hold', 'certificateHold', 'revocation reason 6 cannot be requested'],
    ['fail/unknown-reason', 'stolen', 'reason "stolen" is not an RFC 5280 CRLReason'],
    ['fail/prototype-name', 'toString', 'reason "toString" is not an RFC 5280 CRLReason'],
  ])('%s', async (_name, reason, detail) => {
    const issued = await issue([`hold-${reason.toLowerCase()}.example.com`])
    expectProblem(
      await api('POST', `/certificates/${issued.json.id}/revoke`, { body: { reason } }),
      400,
      'badRequest',
      detail,
    )
    expect((await api('GET', `/certificates/${issued.json.id}`)).json.status).toBe('valid')
  })

  it('fail/unknown-certificate-404', async () => {
    expect(
      (await api('POST', '/certificates/123456789/revoke', { body: { reason: 0 } })).status,
    ).toBe(404)
  })
})

describe('approval via /api/v1/requests', () => {
  it('ok/held-listed-approved', async () => {
    const held = await issue(['held.example.com'], 'approval')
    expect(held.status).toBe(202)
    expect(held.headers['location']).toBe(`/api/v1/certificates/${held.json.id}`)
    expect(held.headers['retry-after']).toBe('60')
    expect(held.json).toMatchObject({ status: 'pending', profile: 'approval' })
    expect(held.json.pem).toBeUndefined()

    const pending = await api('GET', '/requests?profile=approval')
    expect(pending.json.items.map((i: { id: string }) => i.id)).toContain(held.json.id)

    const approved = await api('POST', `/requests/${held.json.id}/approve`)
    expect(approved.status).toBe(200)
    expect(approved.json).toMatchObject({
      id: held.json.id,
      status: 'valid',
      decidedBy: 'admin:test',
    })
    expect(new x509.X509Certificate(approved.json.pem).serialNumber).toBe(held.json.serial)
    expect(fromPemAll(approved.json.chainPem, 'CERTIFICATE')).toHaveLength(2)

    expectProblem(
      await api('POST', `/requests/${held.json.id}/approve`),
      409,
      'conflict',
      `request ${held.json.id} is valid, not pending`,
    )
    expect(
      (await api('GET', '/requests')).json.items.map((i: { id: string }) => i.id),
    ).not.toContain(held.json.id)
  })

  it('ok/held-rejected', async () => {
    const held = await issue(['unwanted.example.com'], 'approval')
    const r = await api('POST', `/requests/${held.json.id}/reject`, {
      body: { reason: 'not ours' },
    })
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({
      status: 'rejected',
      failure: 'not ours',
      decidedBy: 'admin:test',
    })
    expect((await api('POST', `/requests/${held.json.id}/approve`)).status).toBe(409)
    const shown = await api('GET', `/certificates/${held.json.id}`)
    expect(shown.json).toMatchObject({ status: 'rejected', pem: null, parsed: null })
  })

  it('fail/unknown-request-404', async () => {
    expect((await api('POST', '/requests/123456789/approve')).status).toBe(404)
    expect((await api('POST', '/requests/123456789/reject')).status).toBe(404)
  })
})

describe('GET /api/v1/audit', () => {
  it('ok/events-of-one-certificate', async () => {
    const issued = await issue(['audited.example.com'])
    await api('POST', `/certificates/${issued.json.id}/revoke`, { body: { reason: 'superseded' } })
    const r = await api('GET', `/audit?serial=${issued.json.serial}`)
    expect(r.status).toBe(200)
    expect(r.json.items.map((e: { action: string }) => e.action)).toEqual([
      'certificate.revoked',
      'certificate.issued',
    ])
    expect(r.json.items[0]).toMatchObject({
      actor: 'admin:test',
      protocol: 'admin',
      certificateId: issued.json.id,
      serial: issued.json.serial,
      detail: { reason: 4 },
    })
    expect(r.json.items[0].requestId).toBeTruthy()
  })

  it('ok/action-filter-and-paging', async () => {
    const all = (await api('GET', '/audit?action=certificate.issued&limit=500')).json.items
    expect(all.length).toBeGreaterThan(3)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const r: Reply = await api(
        'GET',
        `/audit?action=certificate.issued&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      )
      seen.push(...r.json.items.map((e: { id: string }) => e.id))
      cursor = r.json.nextCursor
    } while (cursor)
    expect(seen).toEqual(all.map((e: { id: string }) => e.id))
    expect(new Set(seen).size).toBe(seen.length)
    const ids = seen.map(Number)
    expect(ids).toEqual([...ids].sort((a, b) => b - a))
  })

  it('ok/startup-events', async () => {
    const r = await api('GET', '/audit?limit=500')
    const actions = r.json.items.map((e: { action: string }) => e.action)
    expect(actions.filter((a: string) => a === 'ca.generated')).toHaveLength(1)
    expect(actions).toContain('server.started')
  })
})

describe('metrics', () => {
  it('ok/prometheus-text', async () => {
    const r = await call('https', 'GET', '/metrics', { auth: null })
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toMatch(/^text\/plain/)
    expect(r.text).toMatch(
      /^enroll_http_requests_total\{listener="https",route="\/api\/v1\/certificates",method="POST",status="201"\} \d+$/m,
    )
    expect(r.text).toMatch(/^enroll_certificates\{status="valid"\} \d+$/m)
    expect(r.text).toMatch(/^enroll_certificates\{status="revoked"\} \d+$/m)
    expect(r.text).toContain('enroll_issuance_duration_seconds_bucket')
    const http = await call('http', 'GET', '/metrics', { auth: null })
    expect(http.text).toContain('enroll_http_requests_total')
  })
})

describe('CA download on the HTTP listener (/.well-known/pki)', () => {
  it('ok/ca-pem-and-der', async () => {
    const pem = await call('http', 'GET', '/.well-known/pki/ca.pem', { auth: null })
    expect(pem.status).toBe(200)
    expect(pem.headers['content-type']).toBe('application/pem-certificate-chain')
    expect(pem.text).toBe(caPem)
    const blocks = fromPemAll(pem.text, 'CERTIFICATE')
    expect(blocks).toHaveLength(2)

    const der = await call('http', 'GET', '/.well-known/pki/ca.der', { auth: null })
    expect(der.status).toBe(200)
    expect(der.headers['content-type']).toBe('application/pkix-cert')
    expect(der.body.equals(Buffer.from(blocks[0]!))).toBe(true)
    const issuing = new x509.X509Certificate(new Uint8Array(der.body))
    expect(issuing.subject).toBe('CN=Enroll Development CA Issuing CA')
    expect(issuing.getExtension(x509.BasicConstraintsExtension)!.ca).toBe(true)
  })

  it('ok/per-backend-files', async () => {
    const pem = await call('http', 'GET', '/.well-known/pki/ca/local.pem', { auth: null })
    expect(pem.text).toBe(caPem)
    const der = await call('http', 'GET', '/.well-known/pki/ca/local.der', { auth: null })
    expect(der.body.equals(Buffer.from(fromPemAll(caPem, 'CERTIFICATE')[0]!))).toBe(true)
    expect((await call('http', 'GET', '/.well-known/pki/ca/nope.der', { auth: null })).status).toBe(
      404,
    )
  })
})

describe('restart on the same data directory', () => {
  it('ok/reuses-ca-and-tls-certificate', async () => {
    const before = stateFiles()
    const fingerprint = (await call('https', 'GET', '/health', { auth: null })).peerFingerprint
    const inventory = (await api('GET', '/certificates?limit=500')).json.items.map(
      (i: { id: string }) => i.id,
    )
    await server.close()

    server = await startServer(config, logger)
    expect(server.generatedCa).toEqual([])
    expect(stateFiles()).toEqual(before)
    expect((await call('https', 'GET', '/health', { auth: null })).peerFingerprint).toBe(
      fingerprint,
    )
    const audit = (await api('GET', '/audit?limit=500')).json.items.map(
      (e: { action: string }) => e.action,
    )
    expect(audit.filter((a: string) => a === 'ca.generated')).toHaveLength(1)
    expect(audit.filter((a: string) => a === 'server.started')).toHaveLength(2)
    expect(
      (await api('GET', '/certificates?limit=500')).json.items.map((i: { id: string }) => i.id),
    ).toEqual(inventory)
    expect((await api('GET', '/certificates?profile=server-tls')).json.items).toHaveLength(1)
  })
})
