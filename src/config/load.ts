// Reads the config file and ENROLL_* environment once, validates it, and fails fast with one line.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { addEstBasicUser, estConfigProblem } from './est.js'
import { scepConfigProblem, scepRaProfileName, setScepChallenge } from './scep.js'
import { compilePatterns } from '../policy/patterns.js'
import { configSchema, profileSchema, type Config, type ProfileConfig } from './schema.js'

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** Environment variables and the config path each one sets. Documented in README. */
export const envOverrides: Record<string, string> = {
  ENROLL_DATA_DIR: 'dataDir',
  ENROLL_LISTEN_HOST: 'listenHost',
  ENROLL_HTTPS_PORT: 'httpsPort',
  ENROLL_HTTP_PORT: 'httpPort',
  ENROLL_PUBLIC_URL: 'publicUrl',
  ENROLL_PUBLIC_HTTP_URL: 'publicHttpUrl',
  DATABASE_URL: 'databaseUrl',
  ENROLL_DATABASE_URL: 'databaseUrl',
  ENROLL_DATABASE_SCHEMA: 'databaseSchema',
  ENROLL_LOG_LEVEL: 'logLevel',
  ENROLL_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  ENROLL_CA_KEY_ALGORITHM: 'backends.local.keyAlgorithm',
  ENROLL_ACME_DNS_RESOLVER: 'acme.dnsResolver',
  ENROLL_ACME_HTTP01_PORT: 'acme.http01Port',
  ENROLL_ACME_TLSALPN01_PORT: 'acme.tlsAlpn01Port',
  ENROLL_ACME_EXTERNAL_ACCOUNT_REQUIRED: 'acme.externalAccountRequired',
}
const numericPaths = new Set(['bodyLimitBytes'])

type Env = Record<string, string | undefined>
type Json = Record<string, unknown>

/** Applies env overrides onto the raw (unvalidated) config object; returns which env var set which path. */
function applyEnv(raw: Json, env: Env): Map<string, string> {
  const origin = new Map<string, string>()
  for (const [name, path] of Object.entries(envOverrides)) {
    const value = env[name]
    if (value === undefined || value === '') continue
    const keys = path.split('.')
    let node = raw
    for (const key of keys.slice(0, -1)) node = (node[key] ??= key === 'local' ? { kind: 'local' } : {}) as Json
    node[keys.at(-1)!] = numericPaths.has(path) ? Number(value) : value
    origin.set(path, name)
  }
  const apiKey = env['ENROLL_ADMIN_API_KEY']
  if (apiKey) {
    const admin = (raw['admin'] ??= {}) as Json
    const keys = (admin['apiKeys'] ??= []) as Json[]
    keys.push({ name: 'env:ENROLL_ADMIN_API_KEY', key: apiKey })
    origin.set(`admin.apiKeys.${keys.length - 1}.key`, 'ENROLL_ADMIN_API_KEY')
  }
  const estBasic = env['ENROLL_EST_BASIC']
  if (estBasic) origin.set(addEstBasicUser(raw, estBasic), 'ENROLL_EST_BASIC')
  const scepChallenge = env['ENROLL_SCEP_CHALLENGE']
  if (scepChallenge) origin.set(setScepChallenge(raw, scepChallenge), 'ENROLL_SCEP_CHALLENGE')
  return origin
}

function firstIssue(error: z.ZodError, origin: Map<string, string>): string {
  const issue = error.issues[0]!
  const path = issue.path.join('.') || '(root)'
  const from = origin.get(path)
  return `config: ${path}${from ? ` (from ${from})` : ''}: ${issue.message}`
}

const anyIdentifier = { dns: ['*'], ip: ['0.0.0.0/0', '::/0'], email: [], uri: [], commonName: [] }

/** Profiles used when the config names none: permissive, for development only. */
function defaultProfiles(): Record<string, ProfileConfig> {
  return {
    default: profileSchema.parse({
      description: 'TLS server and client certificates for any DNS name or IP (development default)',
      allow: anyIdentifier,
    }),
  }
}

/**
 * The profile for this server's own TLS certificate; added unless the config defines one. Signed by the
 * default profile's backend, which need not be called `local`.
 */
function serverTlsProfile(backend: string): ProfileConfig {
  return profileSchema.parse({
    backend,
    description: "This server's own TLS certificate",
    allow: anyIdentifier,
    extKeyUsage: ['serverAuth'],
    exposed: false,
  })
}

export const ocspResponderProfileName = (backendId: string) => `ocsp-responder-${backendId}`

/** Delegated OCSP responder certificates (RFC 6960 §4.2.2.2), one profile per CA backend: short-lived. */
function ocspResponderProfile(backend: string): ProfileConfig {
  return profileSchema.parse({
    backend,
    description: `Delegated OCSP responder certificates for CA backend ${backend}`,
    allow: { dns: [], ip: [], email: [], uri: [], commonName: ['*'] },
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['OCSPSigning'],
    validityDays: 4,
    maxValidityDays: 4,
    exposed: false,
  })
}

/**
 * SCEP RA certificates (RFC 8894 §2.2), one profile per CA backend: RSA, key transport and signing, never offered
 * to enrollment protocols. Renewed by src/scep/ra.ts when a third of the validity is left.
 */
function scepRaProfile(backend: string, days: number): ProfileConfig {
  return profileSchema.parse({
    backend,
    description: `SCEP RA certificates for CA backend ${backend}`,
    allow: { dns: [], ip: [], email: [], uri: [], commonName: ['*'] },
    subject: 'csr',
    keys: { rsaMinBits: 2048, rsaMaxBits: 4096, ecdsaCurves: [], ed25519: false },
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: [],
    validityDays: days,
    maxValidityDays: days,
    exposed: false,
  })
}

export interface LoadOptions {
  configPath?: string | undefined
  env?: Env
  /** Values that win over file and environment (tests, CLI flags). */
  overrides?: Json
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env
  const path = options.configPath ?? env['ENROLL_CONFIG']
  let raw: Json = {}
  if (path) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (e) {
      throw new ConfigError(`config: cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`)
    }
    try {
      raw = (parseYaml(text) as Json | null) ?? {}
    } catch (e) {
      throw new ConfigError(`config: ${path} is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`)
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config: ${path} must hold a mapping`)
  }
  const origin = applyEnv(raw, env)
  Object.assign(raw, options.overrides ?? {})
  const parsed = configSchema.safeParse(raw)
  if (!parsed.success) throw new ConfigError(firstIssue(parsed.error, origin))
  const c = parsed.data

  const profiles = c.profiles ?? defaultProfiles()
  if (!profiles['default']) throw new ConfigError('config: profiles: a profile named "default" is required')
  profiles['server-tls'] ??= serverTlsProfile(profiles['default'].backend)
  for (const id of Object.keys(c.backends)) profiles[ocspResponderProfileName(id)] ??= ocspResponderProfile(id)
  for (const id of Object.keys(c.backends)) profiles[scepRaProfileName(id)] ??= scepRaProfile(id, c.scep.raValidityDays)
  for (const [name, profile] of Object.entries(profiles)) {
    if (!c.backends[profile.backend]) {
      throw new ConfigError(`config: profiles.${name}.backend: no backend "${profile.backend}" is configured`)
    }
    try {
      compilePatterns(profile.allow)
    } catch (e) {
      throw new ConfigError(`config: profiles.${name}.allow: ${(e as Error).message}`)
    }
    if (profile.validityDays > profile.maxValidityDays) {
      throw new ConfigError(`config: profiles.${name}.validityDays: exceeds maxValidityDays`)
    }
  }
  const estProblem = estConfigProblem(c.est, profiles)
  if (estProblem) throw new ConfigError(estProblem)
  const scepProblem = scepConfigProblem(c.scep, profiles)
  if (scepProblem) throw new ConfigError(scepProblem)
  const host = hostname()
  return {
    ...c,
    profiles,
    publicUrl: c.publicUrl ?? `https://${host}:${c.httpsPort}`,
    publicHttpUrl: c.publicHttpUrl ?? `http://${host}:${c.httpPort}`,
    developmentDefaults: c.databaseUrl === undefined,
  }
}
