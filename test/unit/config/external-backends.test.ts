// Config of the Vault and AWS Private CA backends: defaults, and boot-time errors naming the full path.
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config/load.js'

const ARN = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/0a1b2c3d-0000-0000-0000-000000000000'
const vault = { kind: 'vault', address: 'https://vault.test:8200/', auth: { method: 'approle', roleId: 'r' }, role: 'enroll' }
const pca = { kind: 'pca', region: 'eu-west-1', certificateAuthorityArn: ARN }
const load = (backends: Record<string, unknown>, profiles?: Record<string, unknown>) =>
  loadConfig({ env: {}, overrides: { dataDir: '/tmp/unused', backends, profiles: profiles ?? { default: { backend: Object.keys(backends)[0], allow: { dns: ['*'] } } } } })

describe('backends.<id> of kind vault and pca', () => {
  it('ok/defaults', () => {
    const c = load({ v: vault, p: pca }, { default: { backend: 'v', allow: { dns: ['*'] } }, acme: { backend: 'p', allow: { dns: ['*'] } } })
    expect(c.backends['v']).toMatchObject({
      address: 'https://vault.test:8200',
      mount: 'pki',
      kvMount: 'secret',
      kvPrefix: 'certs',
      signVerbatim: false,
      auth: { method: 'approle', mount: 'approle', secretIdEnv: 'VAULT_SECRET_ID' },
    })
    expect(c.backends['p']).toMatchObject({
      templateArn: 'arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1',
      ocspTemplateArn: 'arn:aws:acm-pca:::template/OCSPSigningCertificate_APIPassthrough/V1',
      maxWaitSeconds: 30,
      maxAttempts: 5,
    })
    // A delegated OCSP responder profile per backend, signed by that backend.
    expect(c.profiles['ocsp-responder-v']?.backend).toBe('v')
    expect(c.profiles['ocsp-responder-p']?.backend).toBe('p')
  })

  it.each([
    ['fail/pca-region', { p: { ...pca, region: 'europe' } }, /^config: backends\.p\.region: expected an AWS region/],
    ['fail/pca-arn', { p: { ...pca, certificateAuthorityArn: 'arn:aws:s3:::bucket' } }, /^config: backends\.p\.certificateAuthorityArn: expected an ACM PCA/],
    ['fail/pca-poll-delays', { p: { ...pca, pollMinDelaySeconds: 5, pollMaxDelaySeconds: 2 } }, /^config: backends\.p\.pollMaxDelaySeconds/],
    ['fail/vault-no-role', { v: { ...vault, role: undefined } }, /^config: backends\.v\.role:/],
    ['fail/vault-auth-method', { v: { ...vault, auth: { method: 'userpass' } } }, /^config: backends\.v\.auth\.method:/],
    ['fail/vault-unknown-key', { v: { ...vault, tokne: 'x' } }, /^config: backends\.v: .*tokne/],
  ])('%s', (_name, backends, message) => {
    expect(() => load(backends)).toThrow(message)
  })
})
