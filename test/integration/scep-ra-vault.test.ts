// The SCEP RA key in Vault KV v2 when SCEP issues from the Vault backend (issue #6: "its key stored 0600 in the data
// dir, or in Vault KV when the Vault backend is used"), against the Vault HTTP double: the RA certificate comes from
// Vault's PKI, key and certificate are written to KV and nothing to the data dir, a restart loads the same RA from KV,
// and a rotation keeps the replaced RA in the previous slot. The local backend keeps using the data dir.
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { canKeepSecrets } from '../../src/ca/backend.js'
import { toPem } from '../../src/pki/pem.js'
import { x509 } from '../../src/pki/x509.js'
import { secretRaKeyStore, startRaService } from '../../src/scep/ra.js'
import { startScep } from '../../src/scep/index.js'
import { VaultDouble } from '../doubles/vault.js'
import { anyName, logger, openTestCore, vaultBackend, type TestCore } from '../helpers/external-ca.js'

const postgresUrl = inject('postgresUrl')
const KV_RA = 'enroll/scep-ra/vault/ra'
const KV_PREVIOUS = 'enroll/scep-ra/vault/ra-previous'

let vault: VaultDouble
let t: TestCore

beforeAll(async () => {
  vault = await VaultDouble.start({ roles: { enroll: {} } })
  t = await openTestCore(postgresUrl, {
    backends: { local: { kind: 'local' }, vault: vaultBackend(vault, { signVerbatim: true }) },
    profiles: {
      default: { backend: 'local', allow: anyName },
      devices: { backend: 'vault', allow: anyName, subject: 'csr' },
    },
    overrides: {
      scep: { labels: { default: { profile: 'default', challenge: 'local-secret' }, mdm: { profile: 'devices', challenge: 'vault-secret' } } },
    },
  })
})

afterAll(async () => {
  await t?.close()
  await vault?.close()
})

const kvLatest = (path: string) => vault.kv.get(path)?.at(-1)?.data as Record<string, string> | undefined

describe('SCEP RA key in Vault KV v2', () => {
  it('ok/vault-backend-keeps-the-ra-in-kv-and-the-local-one-in-the-data-dir', async () => {
    const scep = await startScep({ config: t.config, store: t.core.store, issuance: t.core.issuance, logger, backends: t.core.backends })
    try {
      const ra = scep.ra.current('vault')
      // Issued by Vault's PKI, and written to KV (key and certificate), not to the data dir.
      expect(ra.certificate.issuer).toBe(vault.ca.issuing.subject)
      const stored = kvLatest(KV_RA)
      expect(stored?.['certificate']).toBe(toPem(ra.certificateDer, 'CERTIFICATE'))
      expect(stored?.['private_key']).toMatch(/^-----BEGIN PRIVATE KEY-----/)
      expect(existsSync(join(t.dataDir, 'scep', 'vault'))).toBe(false)
      expect(vault.callsTo(new RegExp(`^secret/data/${KV_RA}$`)).some((c) => c.method === 'POST')).toBe(true)
      // The local CA's RA stays a 0600 file in the data dir.
      const localKey = join(t.dataDir, 'scep', 'local', 'ra.key.pem')
      expect(statSync(localKey).mode & 0o777).toBe(0o600)
    } finally {
      scep.stop()
    }
  })

  it('ok/restart-loads-the-same-ra-from-kv', async () => {
    const versions = vault.kv.get(KV_RA)!.length
    const first = new x509.X509Certificate(kvLatest(KV_RA)!['certificate']!)
    const scep = await startScep({ config: t.config, store: t.core.store, issuance: t.core.issuance, logger, backends: t.core.backends })
    try {
      expect(scep.ra.current('vault').certificate.serialNumber).toBe(first.serialNumber)
      expect(vault.kv.get(KV_RA)!.length).toBe(versions)
      // The loaded key is the stored one: it signs what the stored certificate verifies.
      const sig = await scep.ra.current('vault').sign('sha256', new Uint8Array([1, 2, 3]))
      const { verify } = await import('node:crypto')
      expect(verify('sha256', new Uint8Array([1, 2, 3]), first.publicKey.toString('pem'), sig)).toBe(true)
    } finally {
      scep.stop()
    }
  })

  it('ok/rotation-keeps-the-replaced-ra-in-the-previous-slot', async () => {
    const backend = t.core.backends.get('vault')!
    if (!canKeepSecrets(backend)) throw new Error('the Vault backend keeps secrets')
    const before = new x509.X509Certificate(kvLatest(KV_RA)!['certificate']!)
    let clock = Date.now()
    const ra = await startRaService({
      dataDir: t.dataDir,
      backendIds: ['vault'],
      keyBits: 2048,
      issuance: t.core.issuance,
      logger,
      keyStoreFor: () => secretRaKeyStore(backend),
      now: () => clock,
    })
    try {
      expect(ra.current('vault').certificate.serialNumber).toBe(before.serialNumber)
      clock = before.notAfter.getTime() - 1000 // inside the last third of its life: due
      expect(await ra.rotateIfDue()).toEqual(['vault'])
      expect(ra.current('vault').certificate.serialNumber).not.toBe(before.serialNumber)
      expect(new x509.X509Certificate(kvLatest(KV_PREVIOUS)!['certificate']!).serialNumber).toBe(before.serialNumber)
      expect(ra.recipients('vault').map((r) => r.certificate.serialNumber)).toEqual([
        ra.current('vault').certificate.serialNumber,
        before.serialNumber,
      ])
    } finally {
      ra.stop()
    }
  })

  it('fail/sealed-vault-stops-the-start-instead-of-minting-a-new-ra', async () => {
    vault.sealed = true
    try {
      await expect(
        startScep({ config: t.config, store: t.core.store, issuance: t.core.issuance, logger, backends: t.core.backends }),
      ).rejects.toThrow(/sealed|unavailable/i)
    } finally {
      vault.sealed = false
    }
  })
})
