// RFC 8555 §7.4 finalize signing through the external backends: an order finalized while Vault is sealed fails
// with serverInternal (503), the order becomes invalid, the write-ahead record is failed with the reason and
// audited; with Vault back, finalize issues from Vault; a profile on AWS Private CA finalizes through PCA.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { fromPemAll } from '../../src/pki/pem.js'
import { x509 } from '../../src/pki/x509.js'
import { PcaDouble } from '../doubles/acm-pca.js'
import { VaultDouble } from '../doubles/vault.js'
import { AcmeTestClient, startHttp01Responder } from '../helpers/acme-client.js'
import { DIRECTORY, startAcmeTestServer, type AcmeTestServer } from '../helpers/acme-server.js'
import { makeCsr } from '../helpers/csr.js'
import { pcaBackend, vaultBackend } from '../helpers/external-ca.js'

const postgresUrl = inject('postgresUrl')
const allow = { dns: ['**'], ip: ['127.0.0.0/8'] }

let server: AcmeTestServer
let http01: Awaited<ReturnType<typeof startHttp01Responder>>
let vault: VaultDouble
let pca: PcaDouble

beforeAll(async () => {
  vault = await VaultDouble.start({ roles: { enroll: { requireCn: false } } })
  pca = await PcaDouble.start()
  http01 = await startHttp01Responder()
  server = await startAcmeTestServer({
    postgresUrl: postgresUrl || undefined,
    acme: { http01Port: http01.port },
    backends: { vault: vaultBackend(vault), pca: pcaBackend(pca) },
    profiles: { default: { backend: 'vault', allow }, pca: { backend: 'pca', allow } },
  })
})

afterAll(async () => {
  await server?.close()
  server?.core.backends.close?.()
  await http01?.close()
  await vault?.close()
  await pca?.close()
})

/** An account with a ready order for 127.0.0.1 (http-01 validated for real against the local responder). */
async function readyOrder(profile?: string) {
  const client = await AcmeTestClient.create(server.fetch, DIRECTORY)
  await client.newAccount({ termsOfServiceAgreed: true })
  const order = await client.post(client.directory['newOrder'], { identifiers: [{ type: 'ip', value: '127.0.0.1' }], ...(profile ? { profile } : {}) })
  expect(order.status, JSON.stringify(order.body)).toBe(201)
  const authz = await client.post(order.body.authorizations[0], '')
  const ch = authz.body.challenges.find((c: { type: string }) => c.type === 'http-01')
  http01.tokens.set(ch.token, client.keyAuthorization(ch.token))
  await client.post(ch.url, {})
  await server.settle()
  expect((await client.poll(order.headers.get('location')!)).body.status).toBe('ready')
  return { client, order }
}

describe('ACME finalize through external CA backends', () => {
  it('ok/vault: finalize issues from Vault; the certificate chain is Vault\'s', async () => {
    const { client, order } = await readyOrder()
    const csr = await makeCsr({ ip: ['127.0.0.1'] })
    const fin = await client.post(order.body.finalize, { csr: Buffer.from(csr.der).toString('base64url') })
    expect(fin.status, JSON.stringify(fin.body)).toBe(200)
    expect(fin.body.status).toBe('valid')
    const cert = await client.post(fin.body.certificate, '')
    const [leaf, issuing] = fromPemAll(cert.text, 'CERTIFICATE')
    expect(new x509.X509Certificate(leaf!).issuer).toBe(vault.ca.issuing.subject)
    expect(new x509.X509Certificate(issuing!).subject).toBe(vault.ca.issuing.subject)
  })

  it('fail/vault-sealed: finalize answers serverInternal 503, the order is invalid, the record failed and audited', async () => {
    const { client, order } = await readyOrder()
    vault.sealed = true
    const issued = vault.issued.size
    const csr = await makeCsr({ ip: ['127.0.0.1'] })
    const fin = await client.post(order.body.finalize, { csr: Buffer.from(csr.der).toString('base64url') })
    vault.sealed = false
    expect(fin.status).toBe(503)
    expect(fin.headers.get('content-type')).toBe('application/problem+json')
    expect(fin.body.type).toBe('urn:ietf:params:acme:error:serverInternal')
    expect((await client.poll(order.headers.get('location')!)).body.status).toBe('invalid')
    expect(vault.issued.size).toBe(issued)
    const [failed] = await server.core.store.certificates.list({ status: 'failed', limit: 1 })
    expect(failed?.protocol).toBe('acme')
    expect(failed?.failure).toMatch(/sealed/)
    const audit = await server.core.store.audit.list({ serial: failed!.serial, limit: 5 })
    expect(audit.map((a) => a.action)).toContain('certificate.failed')
  })

  it('ok/pca-pending: a profile on AWS Private CA finalizes after PCA kept the certificate pending for two polls', async () => {
    const { client, order } = await readyOrder('pca')
    pca.pendingPolls = 2
    const csr = await makeCsr({ ip: ['127.0.0.1'] })
    const fin = await client.post(order.body.finalize, { csr: Buffer.from(csr.der).toString('base64url') })
    pca.pendingPolls = 0
    expect(fin.status, JSON.stringify(fin.body)).toBe(200)
    const cert = await client.post(fin.body.certificate, '')
    const [leaf] = fromPemAll(cert.text, 'CERTIFICATE')
    expect(new x509.X509Certificate(leaf!).issuer).toBe(pca.ca.issuing.subject)
  })
})
