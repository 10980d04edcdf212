// The `acme` config section (src/config/acme.ts): defaults, environment overrides, validation messages.
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../../src/config/load.js'

describe('acme config', () => {
  it('ok/defaults', () => {
    const { acme } = loadConfig({ env: {} })
    expect(acme).toMatchObject({
      caaIdentities: [],
      externalAccountRequired: false,
      eabPreauthorization: false,
      http01Port: 80,
      tlsAlpn01Port: 443,
      validation: { attempts: 3, retryDelaySeconds: 2, timeoutSeconds: 10 },
      rateLimits: { newAccountsPerIpPerHour: 0, newOrdersPerAccountPerHour: 0 },
    })
    expect(acme.dnsResolver).toBeUndefined()
  })

  it('ok/env-overrides-for-test-ports-resolver-and-eab', () => {
    const { acme } = loadConfig({
      env: {
        ENROLL_ACME_DNS_RESOLVER: '127.0.0.1:8053',
        ENROLL_ACME_HTTP01_PORT: '5002',
        ENROLL_ACME_TLSALPN01_PORT: '5001',
        ENROLL_ACME_EXTERNAL_ACCOUNT_REQUIRED: 'true',
      },
    })
    expect(acme).toMatchObject({ dnsResolver: '127.0.0.1:8053', http01Port: 5002, tlsAlpn01Port: 5001, externalAccountRequired: true })
  })

  it('fail/bad-resolver-names-the-env-variable', () => {
    expect(() => loadConfig({ env: { ENROLL_ACME_DNS_RESOLVER: 'not a host:port' } })).toThrow(ConfigError)
    expect(() => loadConfig({ env: { ENROLL_ACME_DNS_RESOLVER: 'not a host:port' } })).toThrow(/acme\.dnsResolver \(from ENROLL_ACME_DNS_RESOLVER\)/)
  })

  it('fail/unknown-acme-key', () => {
    expect(() => loadConfig({ env: {}, overrides: { acme: { nonsense: 1 } } })).toThrow(/acme/)
  })
})
