// Admin API keys: from config/env, or generated once into <dataDir>/admin-api-key (0600).
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../config/schema.js'
import { hashKey, type ApiKey } from './auth.js'

export function resolveApiKeys(config: Pick<Config, 'admin' | 'dataDir'>): { keys: ApiKey[]; generatedFile?: string } {
  const configured = config.admin.apiKeys.map((k) => ({
    name: k.name,
    sha256: k.sha256 ? Buffer.from(k.sha256, 'hex') : hashKey(k.key!),
  }))
  if (configured.length) return { keys: configured }
  const file = join(config.dataDir, 'admin-api-key')
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
  const key = readFileSync(file, 'utf8').trim()
  return { keys: [{ name: 'generated', sha256: hashKey(key) }], generatedFile: file }
}
