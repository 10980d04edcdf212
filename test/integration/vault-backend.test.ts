// The Vault PKI backend (src/ca/vault) through the one issuance path, against the Vault HTTP double: AppRole login,
// 403 → login again, token renewal, sealed (503) → failed reservation with an audit event, Vault's serials in the
// inventory, revocation reaching Vault and its CRL served by our CRL service, delegated OCSP responder certificates,
// and server-side key generation with KV v2 escrow (new version on renewal).
import { setTimeout as sleep } from 'node:timers/promises'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { ocspResponderProfileName } from '../../src/config/load.js'
import { IssuanceError } from '../../src/errors.js'
import { normalizeSerial } from '../../src/pki/serial.js'
import { x509 } from '../../src/pki/x509.js'
import { createRevocation } from '../../src/revocation/index.js'
import { VaultDouble } from '../doubles/vault.js'
import { makeCsr } from '../helpers/csr.js'
import { anyName, issueRequest, logger, openTestCore, vaultBackend, type TestCore } from '../helpers/external-ca.js'

const postgresUrl = inject('postgresUrl')
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9'

let vault: VaultDouble
let t: TestCore

beforeAll(async () => {
  vault = await VaultDouble.start({ tokenTtlSeconds: 3600, roles: { enroll: {}, ocsp: { keyUsage: ['DigitalSignature'], extKeyUsage: ['OCSPSigning'] } } })
  t = await openTestCore(postgresUrl, {
    backends: { vault: vaultBackend(vault) },
    profiles: {
      default: { backend: 'vault', allow: anyName },
      keygen: { backend: 'vault', allow: anyName },
    },
  })
})

afterAll(async () => {
  await t?.close()
  await vault?.close()
})

beforeEach(() => {
  vault.sealed = false
  vault.faults.length = 0
})

async function chainVerifies(der: Uint8Array): Promise<boolean> {
  const cert = new x509.X509Certificate(new Uint8Array(der))
  return cert.verify({ publicKey: vault.ca.issuing.publicKey, signatureOnly: true })
}

describe('Vault PKI backend through the issuance service', () => {
  it('ok/sign: AppRole login, sign/<role>, Vault chooses the serial and the inventory records it', async () => {
    const { req } = await issueRequest({ subject: 'CN=a.example.com', dns: ['a.example.com'], ip: ['192.0.2.7'] })
    const out = await t.core.issuance.issue(req)
    if (out.status !== 'issued') throw new Error('not issued')
    const cert = new x509.X509Certificate(out.certificateDer)
    expect(await chainVerifies(out.certificateDer)).toBe(true)
    // The inventory holds Vault's serial, in our form (no colons), and Vault knows that serial.
    expect(out.certificate.serial).toBe(normalizeSerial(cert.serialNumber))
    expect(vault.issued.has(out.certificate.serial)).toBe(true)
    const stored = await t.core.store.certificates.getBySerial(out.certificate.serial)
    expect(stored?.status).toBe('valid')
    // SANs are exactly what policy decided (exclude_cn_from_sans), chain from ca_chain.
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()
    expect(san).toEqual([
      { type: 'dns', value: 'a.example.com' },
      { type: 'ip', value: '192.0.2.7' },
    ])
    expect(out.chainDer.map((d) => new x509.X509Certificate(d).subject)).toEqual([vault.ca.issuing.subject, vault.ca.root.subject])
    expect(vault.callsTo(/^auth\/approle\/login$/).length).toBeGreaterThanOrEqual(1)
    expect(vault.callsTo(/^pki\/sign\/enroll$/).at(-1)?.status).toBe(200)
  })

  it('ok/403-relogin: a revoked token gets 403, the client logs in again and the sign succeeds', async () => {
    await t.core.issuance.issue((await issueRequest({ subject: 'CN=w.example.com', dns: ['w.example.com'] })).req)
    vault.revokeAllTokens()
    const logins = vault.callsTo(/^auth\/approle\/login$/).length
    const { req } = await issueRequest({ subject: 'CN=b.example.com', dns: ['b.example.com'] })
    const out = await t.core.issuance.issue(req)
    expect(out.status).toBe('issued')
    const signs = vault.callsTo(/^pki\/sign\/enroll$/).slice(-2)
    expect(signs.map((c) => c.status)).toEqual([403, 200])
    expect(vault.callsTo(/^auth\/approle\/login$/).length).toBe(logins + 1)
  })

  it('fail/sealed: 503 fails the request (backendUnavailable), the reservation is failed with an audit event saying why', async () => {
    vault.sealed = true
    const before = vault.issued.size
    const { req } = await issueRequest({ subject: 'CN=c.example.com', dns: ['c.example.com'] })
    const e = await t.core.issuance.issue(req).catch((err: unknown) => err)
    expect(e).toBeInstanceOf(IssuanceError)
    expect((e as IssuanceError).kind).toBe('backendUnavailable')
    expect((e as IssuanceError).detail).toMatch(/HTTP 503.*sealed/)
    const [failed] = await t.core.store.certificates.list({ status: 'failed', limit: 1 })
    expect(failed?.failure).toMatch(/sealed/)
    expect(failed?.der).toBeNull()
    const audit = await t.core.store.audit.list({ serial: failed!.serial, limit: 10 })
    expect(audit.map((a) => a.action)).toContain('certificate.failed')
    expect(JSON.stringify(audit.find((a) => a.action === 'certificate.failed')?.detail)).toMatch(/sealed/)
    expect(vault.issued.size).toBe(before)
    expect(await t.core.backends.get('vault')!.ready()).toBe(false)
    vault.sealed = false
    expect(await t.core.backends.get('vault')!.ready()).toBe(true)
  })

  it('fail/permission-denied: a 403 that persists after a fresh login fails with Vault\'s reason', async () => {
    vault.fail(/^pki\/sign\/enroll$/, 403, ['permission denied'], 2)
    const { req } = await issueRequest({ subject: 'CN=d.example.com', dns: ['d.example.com'] })
    const e = (await t.core.issuance.issue(req).catch((err: unknown) => err)) as IssuanceError
    expect(e.kind).toBe('backendUnavailable')
    expect(e.detail).toMatch(/HTTP 403: permission denied/)
  })

  it('ok/revoke: revocation reaches Vault (colon serial) and our CRL endpoint serves Vault\'s refreshed CRL', async () => {
    const revocation = createRevocation({ ...t.core, logger })
    const { req } = await issueRequest({ subject: 'CN=e.example.com', dns: ['e.example.com'] })
    const out = await t.core.issuance.issue(req)
    const before = await revocation.crl.get('vault', -1, 'full')
    expect(before).toBeDefined()
    await t.core.issuance.revoke({ id: out.certificate.id, reason: 1, actor: 'admin:test', protocol: 'admin' })
    expect(vault.revoked.has(out.certificate.serial)).toBe(true)
    expect(vault.callsTo(/^pki\/revoke$/).at(-1)?.status).toBe(200)
    const after = await revocation.crl.get('vault', -1, 'full')
    const crl = new x509.X509Crl(new Uint8Array(after!.der))
    expect(await crl.verify({ publicKey: vault.ca.issuing.publicKey })).toBe(true)
    expect(crl.entries.map((e) => normalizeSerial(e.serialNumber))).toContain(out.certificate.serial)
    expect(await revocation.crl.get('vault', -1, 'delta')).toBeUndefined()
  })

  it('ok/ocsp-responder: the responder profile gets an OCSPSigning certificate from Vault (sign-verbatim)', async () => {
    const { req } = await issueRequest({ subject: 'CN=OCSP Responder vault' }, ocspResponderProfileName('vault'))
    const out = await t.core.issuance.issue({ ...req, protocol: 'system' })
    if (out.status !== 'issued') throw new Error('not issued')
    const cert = new x509.X509Certificate(out.certificateDer)
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([OCSP_SIGNING])
    expect(vault.callsTo(/^pki\/sign-verbatim\/enroll$/).at(-1)?.status).toBe(200)
    expect(await chainVerifies(out.certificateDer)).toBe(true)
  })

  it('ok/serverkeygen: issue/<role> generates the key, KV v2 escrows it; a renewal is a new version of the same record', async () => {
    const client = await makeCsr({ subject: 'CN=k.example.com', dns: ['k.example.com'] })
    const { parseCsr } = await import('../../src/pki/csr.js')
    const first = await t.core.issuance.issueWithServerKey({ csr: await parseCsr(client.der), profile: 'keygen', protocol: 'admin', requester: 'admin:test' })
    expect(vault.callsTo(/^pki\/issue\/enroll$/).at(-1)?.status).toBe(200)
    // The returned key is the certificate's key.
    const key = await crypto.subtle.importKey('pkcs8', first.privateKeyPkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign'])
    const jwk = await crypto.subtle.exportKey('jwk', key)
    const certJwk = await crypto.subtle.exportKey('jwk', await new x509.X509Certificate(first.certificateDer).publicKey.export())
    expect([jwk.x, jwk.y]).toEqual([certJwk.x, certJwk.y])
    const path = `certs/${first.certificate.id}`
    expect(vault.kv.get(path)).toHaveLength(1)
    expect(vault.kv.get(path)![0]!.data['serial_number']).toBe(first.certificate.serial.match(/../g)!.join(':'))
    const audit = await t.core.store.audit.list({ serial: first.certificate.serial, limit: 10 })
    expect(audit.map((a) => a.action)).toContain('certificate.key_escrowed')

    const renewed = await t.core.issuance.issueWithServerKey({
      csr: await parseCsr(client.der),
      profile: 'keygen',
      protocol: 'admin',
      requester: 'admin:test',
      replaces: first.certificate.id,
    })
    expect(vault.kv.get(path)).toHaveLength(2)
    const backend = t.core.backends.get('vault') as unknown as import('../../src/ca/backend.js').CanGenerateKey
    const old = await backend.escrowedKey(first.certificate.id, first.certificate.serial)
    const current = await backend.escrowedKey(first.certificate.id, renewed.certificate.serial)
    expect(old?.version).toBe(1)
    expect(current?.version).toBe(2)
    expect(Buffer.from(current!.privateKeyPkcs8)).toEqual(Buffer.from(renewed.privateKeyPkcs8))
  })

  it('fail/escrow: when KV refuses the key, the certificate is revoked (inventory and Vault) and the request fails', async () => {
    vault.fail(/^secret\/data\/certs\//, 403, ['permission denied'], 2)
    const client = await makeCsr({ subject: 'CN=m.example.com', dns: ['m.example.com'] })
    const { parseCsr } = await import('../../src/pki/csr.js')
    const e = (await t.core.issuance
      .issueWithServerKey({ csr: await parseCsr(client.der), profile: 'keygen', protocol: 'admin', requester: 'admin:test' })
      .catch((err: unknown) => err)) as IssuanceError
    expect(e.kind).toBe('backendUnavailable')
    expect(e.detail).toMatch(/key escrow failed/)
    const [revoked] = await t.core.store.certificates.list({ status: 'revoked', profile: 'keygen', limit: 1 })
    expect(revoked?.der).not.toBeNull()
    expect(vault.revoked.has(revoked!.serial)).toBe(true)
  })
})

describe('Vault token auth and renewal', () => {
  it('ok/renew: a token is renewed (renew-self) once two thirds of its TTL have passed', async () => {
    const v = await VaultDouble.start({ tokenTtlSeconds: 3 })
    const c = await openTestCore(postgresUrl, {
      backends: { v: vaultBackend(v) },
      profiles: { default: { backend: 'v', allow: anyName } },
    })
    try {
      const { req } = await issueRequest({ subject: 'CN=r.example.com', dns: ['r.example.com'] })
      await c.core.issuance.issue(req)
      await sleep(2_300)
      const again = await issueRequest({ subject: 'CN=s.example.com', dns: ['s.example.com'] })
      expect((await c.core.issuance.issue(again.req)).status).toBe('issued')
      expect(v.callsTo(/^auth\/token\/renew-self$/).filter((x) => x.status === 200).length).toBeGreaterThanOrEqual(1)
      expect(v.callsTo(/^auth\/approle\/login$/)).toHaveLength(1)
      expect(v.calls.filter((x) => x.status === 403)).toHaveLength(0)
    } finally {
      await c.close()
      await v.close()
    }
  })

  it('ok/static-token: token auth from the environment variable named in config', async () => {
    const v = await VaultDouble.start({ staticToken: 'hvs.static-test-token' })
    process.env['ENROLL_TEST_VAULT_TOKEN'] = 'hvs.static-test-token'
    const c = await openTestCore(postgresUrl, {
      backends: { v: vaultBackend(v, { auth: { method: 'token', tokenEnv: 'ENROLL_TEST_VAULT_TOKEN' } }) },
      profiles: { default: { backend: 'v', allow: anyName } },
    })
    try {
      const { req } = await issueRequest({ subject: 'CN=t.example.com', dns: ['t.example.com'] })
      expect((await c.core.issuance.issue(req)).status).toBe('issued')
      expect(v.callsTo(/^auth\/token\/lookup-self$/)).toHaveLength(1)
      expect(v.calls.every((x) => x.token === undefined || x.token === 'hvs.static-test-token')).toBe(true)
    } finally {
      delete process.env['ENROLL_TEST_VAULT_TOKEN']
      await c.close()
      await v.close()
    }
  })
})

describe('secrets stay out of the logs', () => {
  it('ok/no-secret-in-logs: AppRole secret_id and tokens never appear, through 403s, seals and errors', async () => {
    const v = await VaultDouble.start({ secretId: 'super-secret-approle-id-0001' })
    let text = ''
    const sink = new Writable({
      write(chunk, _enc, done) {
        text += String(chunk)
        done()
      },
    })
    const c = await openTestCore(postgresUrl, {
      backends: { v: vaultBackend(v, { auth: { method: 'approle', roleId: 'enroll-role-id', secretId: 'super-secret-approle-id-0001' } }) },
      profiles: { default: { backend: 'v', allow: anyName } },
      logger: pino({ level: 'trace' }, sink),
    })
    try {
      await c.core.issuance.issue((await issueRequest({ subject: 'CN=l1.example.com', dns: ['l1.example.com'] })).req)
      v.revokeAllTokens()
      await c.core.issuance.issue((await issueRequest({ subject: 'CN=l2.example.com', dns: ['l2.example.com'] })).req)
      v.sealed = true
      await c.core.issuance.issue((await issueRequest({ subject: 'CN=l3.example.com', dns: ['l3.example.com'] })).req).catch(() => undefined)
      expect(text).toMatch(/signing failed/)
      expect(text).toMatch(/vault answered 403/)
      expect(text).not.toContain('super-secret-approle-id-0001')
      for (const call of v.calls) if (call.token) expect(text).not.toContain(call.token)
    } finally {
      await c.close()
      await v.close()
    }
  })
})
