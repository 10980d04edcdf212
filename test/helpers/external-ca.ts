// A core (openCore: real store, PostgreSQL in a fresh schema or PGlite) whose profiles sign through the Vault and
// ACM-PCA doubles, for the external-backend integration tests. TEST ONLY credentials.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import postgres from 'postgres'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import { parseCsr } from '../../src/pki/csr.js'
import { openCore, type Core } from '../../src/server.js'
import { PCA_ACCESS_KEY_ID, PCA_REGION, PCA_SECRET_ACCESS_KEY, type PcaDouble } from '../doubles/acm-pca.js'
import type { VaultDouble } from '../doubles/vault.js'
import { makeCsr, type MakeCsrOptions } from './csr.js'

export const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' })

export function vaultBackend(vault: VaultDouble, extra: Record<string, unknown> = {}) {
  return {
    kind: 'vault',
    address: vault.url,
    auth: { method: 'approle', roleId: 'enroll-role-id', secretId: 'enroll-secret-id' },
    role: 'enroll',
    timeoutMs: 3000,
    ...extra,
  }
}

export function pcaBackend(pca: PcaDouble, extra: Record<string, unknown> = {}) {
  return {
    kind: 'pca',
    region: PCA_REGION,
    certificateAuthorityArn: pca.caArn,
    endpoint: pca.url,
    credentials: { accessKeyId: PCA_ACCESS_KEY_ID, secretAccessKey: PCA_SECRET_ACCESS_KEY },
    maxWaitSeconds: 4,
    pollMinDelaySeconds: 1,
    pollMaxDelaySeconds: 1,
    maxAttempts: 4,
    crlUrl: pca.crlUrl,
    ...extra,
  }
}

export const anyName = { dns: ['**.example.com'], ip: ['192.0.2.0/24'] }

export interface TestCore {
  core: Core
  config: Config
  dataDir: string
  close(): Promise<void>
}

/** openCore on a fresh store with the given backends and profiles (and overrides). */
export async function openTestCore(
  postgresUrl: string,
  o: { backends: Record<string, unknown>; profiles: Record<string, unknown>; overrides?: Record<string, unknown>; logger?: Logger },
): Promise<TestCore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'enroll-extca-'))
  const schema = postgresUrl ? `t_${randomBytes(6).toString('hex')}` : 'public'
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      databaseUrl: postgresUrl || undefined,
      databaseSchema: schema,
      publicUrl: 'https://enroll.test',
      publicHttpUrl: 'http://pki.test',
      backends: o.backends,
      profiles: o.profiles,
      ...o.overrides,
    },
  })
  const core = await openCore(config, o.logger ?? logger, { createCa: true })
  return {
    core,
    config,
    dataDir,
    async close() {
      core.backends.close?.()
      await core.store.close()
      if (postgresUrl) {
        const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} })
        await sql`drop schema if exists ${sql(schema)} cascade`
        await sql.end()
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** An admin-protocol issue request for a fresh key. */
export async function issueRequest(o: MakeCsrOptions, profile?: string) {
  const made = await makeCsr(o)
  return {
    made,
    req: { csr: await parseCsr(made.der), protocol: 'admin' as const, requester: 'admin:test', profile },
  }
}
