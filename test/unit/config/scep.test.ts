// SCEP configuration: ENROLL_SCEP_CHALLENGE, label checks, the internal RA profile, and "no challenge → disabled".
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../../src/config/load.js'
import { acceptsChallenges, scepRaProfileName } from '../../../src/config/scep.js'

describe('scep config', () => {
  it('ok/defaults-leave-enrollment-disabled', () => {
    const c = loadConfig({ env: {} })
    expect(c.scep.labels['default']).toMatchObject({ profile: 'default', dynamicChallenges: false })
    expect(acceptsChallenges(c.scep.labels['default']!)).toBe(false)
    expect(c.scep.caps).toEqual({ des3: true, renewal: true })
  })

  it('ok/ENROLL_SCEP_CHALLENGE-sets-the-default-label', () => {
    const c = loadConfig({ env: { ENROLL_SCEP_CHALLENGE: 'secret' } })
    expect(c.scep.labels['default']!.challenge).toBe('secret')
    expect(acceptsChallenges(c.scep.labels['default']!)).toBe(true)
  })

  it('ok/internal-ra-profile-per-backend', () => {
    const c = loadConfig({ env: {} })
    expect(c.profiles[scepRaProfileName('local')]).toMatchObject({ exposed: false, subject: 'csr', extKeyUsage: [], keyUsage: ['digitalSignature', 'keyEncipherment'] })
  })

  it.each([
    ['fail/unknown-profile', { labels: { x: { profile: 'nope' } } }, /scep\.labels\.x\.profile: no profile "nope"/],
    ['fail/unexposed-profile', { labels: { x: { profile: 'server-tls' } } }, /scep\.labels\.x\.profile: profile "server-tls" is not exposed/],
    ['fail/both-challenge-forms', { labels: { x: { challenge: 'a', challengeSha256: 'a'.repeat(64) } } }, /set at most one of challenge, challengeSha256/],
    ['fail/bad-label-name', { labels: { 'Bad Label': {} } }, /scep\.labels/],
    ['fail/ra-key-size', { raKeyBits: 1024 }, /scep\.raKeyBits/],
  ])('%s', (_name, scep, message) => {
    expect(() => loadConfig({ env: {}, overrides: { scep } })).toThrow(ConfigError)
    expect(() => loadConfig({ env: {}, overrides: { scep } })).toThrow(message)
  })
})
