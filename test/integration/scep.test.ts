// SCEP (RFC 8894) over real HTTP: startServer() on loopback (embedded store), requests built by the test requester
// (test/helpers/scep.ts). Static and dynamic challenges, disabled enrollment, PENDING → approve → CertPoll,
// RenewalReq, GetCert, GetCRL, GET with unescaped base64, each content cipher answered in kind.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.js'
import { fromPemAll, type Der } from '../../src/pki/pem.js'
import { x509 } from '../../src/pki/x509.js'
import { startServer, type RunningServer } from '../../src/server.js'
import type { ContentCipher } from '../../protocols/scep/codec/cms.js'
import { makeCsr } from '../helpers/csr.js'
import { buildPkiMessage, degenerateCerts, issuerAndSerialOf, issuerAndSubject, makeRequester, readCertRep, withCertificate, type Requester } from '../helpers/scep.js'

const logger = pino({ level: 'silent' })
let dataDir: string
let server: RunningServer
let adminKey: string
let ra: Der
let chain: Der[]

const http = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${server.httpPort}${path}`, init)

async function admin(method: string, path: string, body?: unknown) {
  const { request } = await import('node:https')
  return new Promise<{ status: number; json: any }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.httpsPort, path: `/api/v1${path}`, method, rejectUnauthorized: false, headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' } },
      (res) => {
        let text = ''
        res.on('data', (d) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }))
      },
    )
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

async function pkiOperation(der: Uint8Array, label = '', method: 'POST' | 'GET' = 'POST') {
  const base = `/scep${label ? `/${label}` : ''}?operation=PKIOperation`
  const r =
    method === 'POST'
      ? await http(base, { method: 'POST', body: Buffer.from(der), headers: { 'Content-Type': 'application/x-pki-message' } })
      : // Unescaped base64 in the query, as macOS sends it.
        await http(`${base}&message=${Buffer.from(der).toString('base64')}`)
  expect(r.status).toBe(200)
  expect(r.headers.get('content-type')).toBe('application/x-pki-message')
  return new Uint8Array(await r.arrayBuffer())
}

async function enroll(o: { label?: string; challenge?: string; cn: string; requester?: Requester; cipher?: ContentCipher; method?: 'GET' | 'POST'; transactionId?: string }) {
  const requester = o.requester ?? (await makeRequester())
  const csr = await makeCsr({ key: 'rsa-2048', subject: `CN=${o.cn}`, ...(o.challenge ? { challengePassword: o.challenge } : {}) }, requester.keys)
  const msg = buildPkiMessage({ messageType: 19, data: csr.der, recipientDer: ra, signer: requester, cipher: o.cipher, transactionId: o.transactionId })
  const reply = readCertRep(await pkiOperation(msg, o.label, o.method), requester)
  return { reply, requester, msg }
}

const verifiesWithCa = async (der: Der) => {
  const issuing = new x509.X509Certificate(chain[0]!)
  return new x509.X509Certificate(der).verify({ publicKey: issuing.publicKey, signatureOnly: true })
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'enroll-scep-'))
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      httpsPort: 0,
      httpPort: 0,
      listenHost: '127.0.0.1',
      logLevel: 'silent',
      admin: { apiKeys: [{ name: 'test', key: 'scep-test-admin-key-0123456789' }] },
      profiles: {
        default: { allow: { dns: ['*.example.test'] } },
        held: { allow: { dns: ['*.example.test'] }, requireApproval: true },
      },
      scep: {
        labels: {
          default: { challenge: 's3cret' },
          mdm: { dynamicChallenges: true },
          held: { profile: 'held', challenge: 's3cret' },
          closed: {},
        },
      },
    },
  })
  adminKey = 'scep-test-admin-key-0123456789'
  server = await startServer(config, logger)
  const ca = await http('/scep?operation=GetCACert')
  ;[ra, ...chain] = degenerateCerts(new Uint8Array(await ca.arrayBuffer())) as [Der, ...Der[]]
}, 60_000)

afterAll(async () => {
  await server?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('GetCACaps, GetCACert (RFC 8894 §3.5, §4.2)', () => {
  it('ok/caps-list-renewal-aes-des3-post', async () => {
    const r = await http('/cgi-bin/pkiclient.exe?operation=GetCACaps')
    expect(r.status).toBe(200)
    const caps = (await r.text()).trim().split('\n')
    expect(caps).toEqual(expect.arrayContaining(['POSTPKIOperation', 'Renewal', 'SHA-256', 'SHA-512', 'AES', 'DES3', 'SCEPStandard']))
    expect(caps).not.toContain('GetNextCACert')
  })

  it('ok/ra-first-then-chain', async () => {
    const r = await http('/scep/mdm?operation=GetCACert&message=anything')
    expect(r.headers.get('content-type')).toBe('application/x-x509-ca-ra-cert')
    const raCert = new x509.X509Certificate(ra)
    expect(raCert.subject).toMatch(/SCEP RA/)
    expect(raCert.publicKey.algorithm.name).toBe('RSASSA-PKCS1-v1_5')
    expect(chain.map((c) => new x509.X509Certificate(c).subject)).toEqual([
      'CN=Enroll Development CA Issuing CA',
      'CN=Enroll Development CA Root',
    ])
    expect(await raCert.verify({ publicKey: new x509.X509Certificate(chain[0]!).publicKey, signatureOnly: true })).toBe(true)
    const keyFile = join(dataDir, 'scep', 'local', 'ra.key.pem')
    const { statSync } = await import('node:fs')
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
  })

  it('fail/unknown-operation-and-label', async () => {
    expect((await http('/scep?operation=Nope')).status).toBe(400)
    expect((await http('/scep/nolabel?operation=GetCACaps')).status).toBe(404)
    expect((await http('/scep?operation=GetNextCACert')).status).toBe(400)
  })
})

describe('PKCSReq with the static challenge (RFC 8894 §3.3.1)', () => {
  it.each(['aes-128-cbc', 'aes-256-cbc', 'des-ede3-cbc', 'des-cbc'] as const)('ok/%s-answered-in-kind', async (cipher) => {
    const { reply, msg } = await enroll({ challenge: 's3cret', cn: `${cipher}.example.test`, cipher })
    expect(reply.pkiStatus).toBe('0')
    expect(reply.certificates).toHaveLength(1)
    expect(await verifiesWithCa(reply.certificates[0]!)).toBe(true)
    const { decodeEnvelope } = await import('../../protocols/scep/codec/envelope.js')
    expect(decodeEnvelope(reply.message.content).cipher).toBe(cipher)
    expect(reply.message.transactionId).toBe(readCertRep(msg).message.transactionId)
  })

  it('ok/get-with-unescaped-base64', async () => {
    const { reply } = await enroll({ challenge: 's3cret', cn: 'get.example.test', method: 'GET' })
    expect(reply.pkiStatus).toBe('0')
  })

  it('ok/repeated-request-returns-the-same-certificate', async () => {
    const requester = await makeRequester()
    const first = await enroll({ challenge: 's3cret', cn: 'again.example.test', requester, transactionId: 'tid-again' })
    const second = await enroll({ challenge: 's3cret', cn: 'again.example.test', requester, transactionId: 'tid-again' })
    expect(Buffer.from(second.reply.certificates[0]!)).toEqual(Buffer.from(first.reply.certificates[0]!))
  })

  it('fail/wrong-challenge-is-badRequest-and-stores-nothing', async () => {
    const before = await server.store.scep.counts()
    const { reply } = await enroll({ challenge: 'wrong', cn: 'wrong.example.test' })
    expect(reply).toMatchObject({ pkiStatus: '2', failInfo: '2' })
    expect(await server.store.scep.counts()).toEqual(before)
  })

  it('fail/policy-denied-is-badRequest', async () => {
    const { reply } = await enroll({ challenge: 's3cret', cn: 'not-allowed.other.test' })
    expect(reply).toMatchObject({ pkiStatus: '2', failInfo: '2' })
  })

  it('fail/label-without-challenge-refuses-enrollment', async () => {
    const { reply } = await enroll({ label: 'closed', challenge: 's3cret', cn: 'closed.example.test' })
    expect(reply).toMatchObject({ pkiStatus: '2', failInfo: '2' })
  })
})

describe('dynamic challenges (admin API)', () => {
  it('ok/one-time-cn-bound-challenge', async () => {
    const minted = await admin('POST', '/scep/challenges', { label: 'mdm', commonName: 'device-1.example.test', ttlSeconds: 600 })
    expect(minted.status).toBe(201)
    const challenge = minted.json.challenge as string
    expect((await admin('GET', '/scep/challenges?label=mdm')).json.items.map((i: { id: string }) => i.id)).toContain(minted.json.id)
    const wrongCn = await enroll({ label: 'mdm', challenge, cn: 'device-2.example.test' })
    expect(wrongCn.reply).toMatchObject({ pkiStatus: '2', failInfo: '2' })
    const ok = await enroll({ label: 'mdm', challenge, cn: 'device-1.example.test' })
    expect(ok.reply.pkiStatus).toBe('0')
    const reused = await enroll({ label: 'mdm', challenge, cn: 'device-1.example.test' })
    expect(reused.reply).toMatchObject({ pkiStatus: '2', failInfo: '2' })
    const wrongLabel = await admin('POST', '/scep/challenges', { label: 'default' })
    expect(wrongLabel.status).toBe(400)
  })

  it('ok/withdrawn-challenge-is-refused', async () => {
    const minted = await admin('POST', '/scep/challenges', { label: 'mdm' })
    expect((await admin('DELETE', `/scep/challenges/${minted.json.id}`)).status).toBe(204)
    const r = await enroll({ label: 'mdm', challenge: minted.json.challenge, cn: 'gone.example.test' })
    expect(r.reply).toMatchObject({ pkiStatus: '2', failInfo: '2' })
  })
})

describe('PENDING → approve → CertPoll (RFC 8894 §3.3.3)', () => {
  it('ok/poll-after-approval', async () => {
    const requester = await makeRequester()
    const first = await enroll({ label: 'held', challenge: 's3cret', cn: 'held.example.test', requester, transactionId: 'tid-held' })
    expect(first.reply.pkiStatus).toBe('3')
    const poll = () =>
      pkiOperation(
        buildPkiMessage({ messageType: 20, transactionId: 'tid-held', data: issuerAndSubject(chain[0]!, 'CN=held.example.test'), recipientDer: ra, signer: requester }),
        'held',
      ).then((d) => readCertRep(d, requester))
    expect((await poll()).pkiStatus).toBe('3')
    const pending = await admin('GET', '/requests?profile=held')
    const id = pending.json.items[0].id
    expect((await admin('POST', `/requests/${id}/approve`)).status).toBe(200)
    const done = await poll()
    expect(done.pkiStatus).toBe('0')
    expect(new x509.X509Certificate(done.certificates[0]!).subject).toBe('CN=held.example.test')
  })

  it('fail/poll-for-unknown-transaction-is-badCertId', async () => {
    const requester = await makeRequester()
    const msg = buildPkiMessage({ messageType: 20, transactionId: 'never-seen', data: issuerAndSubject(chain[0]!, 'CN=x'), recipientDer: ra, signer: requester })
    expect(readCertRep(await pkiOperation(msg))).toMatchObject({ pkiStatus: '2', failInfo: '4' })
  })

  it('fail/rejected-request-polls-as-badRequest', async () => {
    const requester = await makeRequester()
    await enroll({ label: 'held', challenge: 's3cret', cn: 'rejected.example.test', requester, transactionId: 'tid-rejected' })
    const pending = await admin('GET', '/requests?profile=held')
    await admin('POST', `/requests/${pending.json.items[0].id}/reject`, { reason: 'no' })
    const msg = buildPkiMessage({ messageType: 20, transactionId: 'tid-rejected', data: issuerAndSubject(chain[0]!, 'CN=x'), recipientDer: ra, signer: requester })
    expect(readCertRep(await pkiOperation(msg, 'held'))).toMatchObject({ pkiStatus: '2', failInfo: '2' })
  })
})

describe('RenewalReq, GetCert, GetCRL (RFC 8894 §3.3.1.2, §3.3.4, §3.3.5)', () => {
  it('ok/renewal-signed-with-the-issued-certificate', async () => {
    const { reply, requester } = await enroll({ challenge: 's3cret', cn: 'renew.example.test' })
    const issued = reply.certificates[0]!
    const holder = await withCertificate(requester.keys, issued)
    const next = await makeRequester()
    const csr = await makeCsr({ key: 'rsa-2048', subject: 'CN=renew.example.test' }, next.keys)
    const msg = buildPkiMessage({ messageType: 17, data: csr.der, recipientDer: ra, signer: holder })
    const renewed = readCertRep(await pkiOperation(msg), holder)
    expect(renewed.pkiStatus).toBe('0')
    const serial = new x509.X509Certificate(issued).serialNumber
    const old = await server.issuance.find(serial)
    expect(old.supersededBy).not.toBeNull()
    // The superseded certificate cannot renew again.
    const again = buildPkiMessage({ messageType: 17, data: csr.der, recipientDer: ra, signer: holder })
    expect(readCertRep(await pkiOperation(again))).toMatchObject({ pkiStatus: '2', failInfo: '2' })
  })

  it('fail/renewal-with-a-foreign-certificate-is-badRequest', async () => {
    const stranger = await makeRequester('CN=renew.example.test')
    const csr = await makeCsr({ key: 'rsa-2048', subject: 'CN=renew.example.test' }, stranger.keys)
    const msg = buildPkiMessage({ messageType: 17, data: csr.der, recipientDer: ra, signer: stranger })
    expect(readCertRep(await pkiOperation(msg))).toMatchObject({ pkiStatus: '2', failInfo: '2' })
  })

  it('ok/getcert-and-getcrl', async () => {
    const { reply, requester } = await enroll({ challenge: 's3cret', cn: 'lookup.example.test' })
    const cert = reply.certificates[0]!
    const get = readCertRep(await pkiOperation(buildPkiMessage({ messageType: 21, data: issuerAndSerialOf(cert), recipientDer: ra, signer: requester })), requester)
    expect(get.pkiStatus).toBe('0')
    expect(Buffer.from(get.certificates[0]!)).toEqual(Buffer.from(cert))
    const crl = readCertRep(await pkiOperation(buildPkiMessage({ messageType: 22, data: issuerAndSerialOf(cert), recipientDer: ra, signer: requester })), requester)
    expect(crl.pkiStatus).toBe('0')
    expect(crl.crls).toHaveLength(1)
    expect(new x509.X509Crl(crl.crls[0]!).issuer).toBe('CN=Enroll Development CA Issuing CA')
    const unknown = await makeRequester()
    const missing = readCertRep(await pkiOperation(buildPkiMessage({ messageType: 21, data: issuerAndSerialOf(unknown.certificateDer), recipientDer: ra, signer: requester })))
    expect(missing).toMatchObject({ pkiStatus: '2', failInfo: '4' })
  })
})

describe('CA bundle sanity', () => {
  it('ok/chain-matches-ca-pem', async () => {
    const pem = await (await http('/.well-known/pki/ca.pem')).text()
    expect(fromPemAll(pem, 'CERTIFICATE').map((d) => Buffer.from(d).toString('hex'))).toEqual(chain.map((d) => Buffer.from(d).toString('hex')))
  })
})
