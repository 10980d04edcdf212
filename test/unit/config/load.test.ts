// src/config/load.ts: file + ENROLL_* environment → one validated config, failing fast with one line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../../src/config/load.js'
import type { Config } from '../../../src/config/schema.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'enroll-config-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const write = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

/** Names of the profiles offered to enrollment protocols. */
const exposed = (c: Config) =>
  Object.entries(c.profiles)
    .filter(([, p]) => p.exposed)
    .map(([name]) => name)
    .sort()

/** The ConfigError a load throws; fails the test when none is thrown. */
function configError(run: () => unknown): ConfigError {
  try {
    run()
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    const message = (e as ConfigError).message
    expect(message.split('\n')).toHaveLength(1)
    expect(message.startsWith('config: ')).toBe(true)
    return e as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig defaults', () => {
  it('ok/no-file-no-env', () => {
    const c = loadConfig({ env: {} })
    expect(c).toMatchObject({
      httpsPort: 8443,
      httpPort: 8080,
      dataDir: './data',
      listenHost: '0.0.0.0',
      databaseSchema: 'public',
      bodyLimitBytes: 1024 * 1024,
      logLevel: 'info',
      developmentDefaults: true,
    })
    expect(c.databaseUrl).toBeUndefined()
    expect(c.publicUrl).toBe(`https://${hostname()}:8443`)
    expect(c.publicHttpUrl).toBe(`http://${hostname()}:8080`)
    expect(Object.keys(c.backends)).toEqual(['local'])
    expect(c.backends).toMatchObject({
      local: {
        kind: 'local',
        keyAlgorithm: 'ecdsa-p256',
        commonName: 'Enroll Development CA',
        rootValidityDays: 3650,
        issuingValidityDays: 1825,
      },
    })
    // Only `default` is offered to clients; profiles the server adds for itself are never exposed.
    expect(exposed(c)).toEqual(['default'])
    expect(Object.keys(c.profiles)).toEqual(expect.arrayContaining(['default', 'server-tls']))
    expect(c.profiles['default']).toMatchObject({
      backend: 'local',
      validityDays: 90,
      maxValidityDays: 397,
    })
  })

  it('ok/public-urls-follow-ports', () => {
    const c = loadConfig({ env: { ENROLL_HTTPS_PORT: '9443', ENROLL_HTTP_PORT: '9080' } })
    expect(c.publicUrl).toBe(`https://${hostname()}:9443`)
    expect(c.publicHttpUrl).toBe(`http://${hostname()}:9080`)
  })

  it('ok/server-tls-profile-added', () => {
    const c = loadConfig({
      env: {},
      overrides: { profiles: { default: { allow: { dns: ['*.example.com'] } } } },
    })
    expect(c.profiles['server-tls']).toMatchObject({
      exposed: false,
      extKeyUsage: ['serverAuth'],
      backend: 'local',
    })
    expect(c.profiles['default']!.allow.dns).toEqual(['*.example.com'])
  })

  it('ok/server-tls-profile-uses-default-backend', () => {
    const c = loadConfig({
      env: {},
      overrides: {
        backends: { corp: { kind: 'local' } },
        profiles: { default: { backend: 'corp' } },
      },
    })
    expect(c.profiles['server-tls']!.backend).toBe('corp')
  })

  it('ok/server-tls-profile-from-config-kept', () => {
    const c = loadConfig({
      env: {},
      overrides: {
        profiles: { default: {}, 'server-tls': { description: 'mine', validityDays: 30 } },
      },
    })
    expect(c.profiles['server-tls']).toMatchObject({ description: 'mine', validityDays: 30 })
  })
})

describe('loadConfig ENROLL_* environment', () => {
  it('ok/every-override', () => {
    const c = loadConfig({
      env: {
        ENROLL_DATA_DIR: '/srv/enroll',
        ENROLL_LISTEN_HOST: '127.0.0.1',
        ENROLL_HTTPS_PORT: '1443',
        ENROLL_HTTP_PORT: '1080',
        ENROLL_PUBLIC_URL: 'https://pki.example.com/',
        ENROLL_PUBLIC_HTTP_URL: 'http://pki.example.com',
        DATABASE_URL: 'postgres://u@db.example.com:5432/enroll',
        ENROLL_DATABASE_SCHEMA: 'pki',
        ENROLL_LOG_LEVEL: 'warn',
        ENROLL_BODY_LIMIT_BYTES: '2048',
        ENROLL_CA_KEY_ALGORITHM: 'rsa-2048',
        ENROLL_ADMIN_API_KEY: 'k'.repeat(32),
      },
    })
    expect(c).toMatchObject({
      dataDir: '/srv/enroll',
      listenHost: '127.0.0.1',
      httpsPort: 1443,
      httpPort: 1080,
      publicUrl: 'https://pki.example.com',
      publicHttpUrl: 'http://pki.example.com',
      databaseUrl: 'postgres://u@db.example.com:5432/enroll',
      databaseSchema: 'pki',
      logLevel: 'warn',
      bodyLimitBytes: 2048,
      developmentDefaults: false,
    })
    expect(c.backends['local']).toMatchObject({ kind: 'local', keyAlgorithm: 'rsa-2048' })
    expect(c.admin.apiKeys).toEqual([{ name: 'env:ENROLL_ADMIN_API_KEY', key: 'k'.repeat(32) }])
  })

  it('ok/empty-variable-ignored', () => {
    expect(loadConfig({ env: { ENROLL_HTTPS_PORT: '' } }).httpsPort).toBe(8443)
  })

  it('ok/overrides-win-over-env', () => {
    const c = loadConfig({ env: { ENROLL_HTTPS_PORT: '1443' }, overrides: { httpsPort: 0 } })
    expect(c.httpsPort).toBe(0)
  })

  it('ok/process-env-untouched', () => {
    const before = { ...process.env }
    loadConfig({ env: { ENROLL_HTTPS_PORT: '1443', ENROLL_ADMIN_API_KEY: 'k'.repeat(32) } })
    expect(process.env).toEqual(before)
  })

  it.each([
    [
      'fail/https-port-not-a-number',
      { ENROLL_HTTPS_PORT: 'abc' },
      'config: httpsPort (from ENROLL_HTTPS_PORT): ',
    ],
    [
      'fail/http-port-out-of-range',
      { ENROLL_HTTP_PORT: '70000' },
      'config: httpPort (from ENROLL_HTTP_PORT): ',
    ],
    [
      'fail/body-limit-not-a-number',
      { ENROLL_BODY_LIMIT_BYTES: 'x' },
      'config: bodyLimitBytes (from ENROLL_BODY_LIMIT_BYTES): ',
    ],
    [
      'fail/log-level-unknown',
      { ENROLL_LOG_LEVEL: 'loud' },
      'config: logLevel (from ENROLL_LOG_LEVEL): ',
    ],
    [
      'fail/public-url-not-http',
      { ENROLL_PUBLIC_URL: 'ftp://pki.example.com' },
      'config: publicUrl (from ENROLL_PUBLIC_URL): ',
    ],
    [
      'fail/schema-not-an-identifier',
      { ENROLL_DATABASE_SCHEMA: 'Drop Table' },
      'config: databaseSchema (from ENROLL_DATABASE_SCHEMA): ',
    ],
    [
      'fail/database-url-not-a-url',
      { DATABASE_URL: 'localhost' },
      'config: databaseUrl (from DATABASE_URL): ',
    ],
    [
      'fail/ca-key-algorithm-unknown',
      { ENROLL_CA_KEY_ALGORITHM: 'dsa-1024' },
      'config: backends.local.keyAlgorithm (from ENROLL_CA_KEY_ALGORITHM): ',
    ],
    [
      'fail/admin-api-key-too-short',
      { ENROLL_ADMIN_API_KEY: 'short' },
      'config: admin.apiKeys.0.key (from ENROLL_ADMIN_API_KEY): ',
    ],
  ])('%s', (_name, env, prefix) => {
    expect(configError(() => loadConfig({ env })).message.startsWith(prefix)).toBe(true)
  })
})

describe('loadConfig files', () => {
  it('ok/yaml', () => {
    const path = write(
      'enroll.yaml',
      [
        'httpsPort: 9443',
        'dataDir: /var/lib/enroll',
        'admin:',
        '  apiKeys:',
        `    - { name: ops, sha256: ${'a'.repeat(64)} }`,
        'profiles:',
        '  default:',
        '    allow: { dns: ["**.corp.example"], ip: ["10.0.0.0/8"] }',
        '    validityDays: 30',
        '  web:',
        '    requireApproval: true',
        '    extKeyUsage: [serverAuth, 1.2.3.4]',
      ].join('\n'),
    )
    const c = loadConfig({ configPath: path, env: {} })
    expect(c.httpsPort).toBe(9443)
    expect(c.dataDir).toBe('/var/lib/enroll')
    expect(c.admin.apiKeys).toEqual([{ name: 'ops', sha256: 'a'.repeat(64) }])
    expect(c.profiles['default']).toMatchObject({
      validityDays: 30,
      allow: { dns: ['**.corp.example'], ip: ['10.0.0.0/8'] },
    })
    expect(c.profiles['web']).toMatchObject({
      requireApproval: true,
      extKeyUsage: ['serverAuth', '1.2.3.4'],
    })
    expect(exposed(c)).toEqual(['default', 'web'])
  })

  it('ok/json', () => {
    const path = write(
      'enroll.json',
      JSON.stringify({ httpPort: 9080, databaseSchema: 'pki', profiles: { default: {} } }),
    )
    const c = loadConfig({ configPath: path, env: {} })
    expect(c.httpPort).toBe(9080)
    expect(c.databaseSchema).toBe('pki')
  })

  it('ok/path-from-ENROLL_CONFIG', () => {
    const path = write('from-env.yaml', 'listenHost: 127.0.0.2\n')
    expect(loadConfig({ env: { ENROLL_CONFIG: path } }).listenHost).toBe('127.0.0.2')
  })

  it('ok/env-wins-over-file', () => {
    const path = write(
      'ports.yaml',
      'httpsPort: 9443\nbackends: { local: { kind: local, commonName: Corp CA } }\n',
    )
    const c = loadConfig({
      configPath: path,
      env: { ENROLL_HTTPS_PORT: '7443', ENROLL_CA_KEY_ALGORITHM: 'ecdsa-p384' },
    })
    expect(c.httpsPort).toBe(7443)
    expect(c.backends['local']).toMatchObject({ commonName: 'Corp CA', keyAlgorithm: 'ecdsa-p384' })
  })

  it('ok/empty-file', () => {
    expect(loadConfig({ configPath: write('empty.yaml', ''), env: {} }).httpsPort).toBe(8443)
  })

  it('fail/file-missing', () => {
    const e = configError(() => loadConfig({ configPath: join(dir, 'missing.yaml'), env: {} }))
    expect(e.message).toBe(`config: cannot read ${join(dir, 'missing.yaml')}: ENOENT`)
  })

  it('fail/not-yaml', () => {
    const path = write('broken.yaml', 'httpsPort: [1, 2\nfoo: {')
    expect(configError(() => loadConfig({ configPath: path, env: {} })).message).toMatch(
      /^config: .*broken\.yaml is not valid YAML\/JSON: /,
    )
  })

  it('fail/not-a-mapping', () => {
    const path = write('list.yaml', '- 1\n- 2\n')
    expect(configError(() => loadConfig({ configPath: path, env: {} })).message).toBe(
      `config: ${path} must hold a mapping`,
    )
  })

  it('fail/bad-value-names-nested-key', () => {
    const path = write('nested.yaml', 'profiles:\n  default:\n    keys:\n      rsaMinBits: lots\n')
    expect(configError(() => loadConfig({ configPath: path, env: {} })).message).toMatch(
      /^config: profiles\.default\.keys\.rsaMinBits: /,
    )
  })
})

describe('loadConfig refusals', () => {
  it('fail/unknown-top-level-key', () => {
    expect(configError(() => loadConfig({ env: {}, overrides: { httpPorts: 1 } })).message).toBe(
      'config: (root): Unrecognized key: "httpPorts"',
    )
  })

  it('fail/unknown-profile-key', () => {
    const e = configError(() =>
      loadConfig({ env: {}, overrides: { profiles: { default: { validity: 3 } } } }),
    )
    expect(e.message).toBe('config: profiles.default: Unrecognized key: "validity"')
  })

  it('fail/profile-names-missing-backend', () => {
    const e = configError(() =>
      loadConfig({
        env: {},
        overrides: { profiles: { default: {}, vpn: { backend: 'vault-prod' } } },
      }),
    )
    expect(e.message).toBe('config: profiles.vpn.backend: no backend "vault-prod" is configured')
  })

  it('fail/no-default-profile', () => {
    const e = configError(() => loadConfig({ env: {}, overrides: { profiles: { web: {} } } }))
    expect(e.message).toBe('config: profiles: a profile named "default" is required')
  })

  it('fail/validity-above-max', () => {
    const e = configError(() =>
      loadConfig({
        env: {},
        overrides: { profiles: { default: { validityDays: 400, maxValidityDays: 397 } } },
      }),
    )
    expect(e.message).toBe('config: profiles.default.validityDays: exceeds maxValidityDays')
  })

  it('fail/api-key-and-digest-both-set', () => {
    const e = configError(() =>
      loadConfig({
        env: {},
        overrides: {
          admin: { apiKeys: [{ name: 'x', key: 'k'.repeat(20), sha256: 'a'.repeat(64) }] },
        },
      }),
    )
    expect(e.message).toBe('config: admin.apiKeys.0: set exactly one of key, sha256')
  })

  it('fail/unknown-eku-name', () => {
    const e = configError(() =>
      loadConfig({ env: {}, overrides: { profiles: { default: { extKeyUsage: ['webServer'] } } } }),
    )
    expect(e.message).toMatch(/^config: profiles\.default\.extKeyUsage\.0: /)
  })
})

describe('loadConfig identifier patterns', () => {
  it.each([
    ['fail/bad-regex', { dns: ['re:[unclosed'] }, /^config: profiles\.default\.allow: Invalid regular expression/],
    ['fail/bad-cidr', { ip: ['10.0.0.0/99'] }, /^config: profiles\.default\.allow: /],
    ['fail/not-an-ip', { ip: ['example.com'] }, /^config: profiles\.default\.allow: "example.com" is not an IP address/],
  ])('%s is refused at load, naming the profile', (_name, allow, message) => {
    const load = () => loadConfig({ env: {}, overrides: { profiles: { default: { allow } } } })
    expect(load).toThrow(ConfigError)
    expect(load).toThrow(message)
  })
})
