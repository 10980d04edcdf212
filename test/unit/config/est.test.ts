// src/config/est.ts: the `est` options validated at boot with the full path in every message, ENROLL_EST_BASIC,
// the scrypt password format, and trust anchors from PEM text or files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { hashPassword, verifyPassword } from '../../../src/config/est.js'
import { loadConfig } from '../../../src/config/load.js'
import { x509 } from '../../../src/pki/x509.js'
import { makeKeys } from '../../helpers/csr.js'

const dir = mkdtempSync(join(tmpdir(), 'enroll-est-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const load = (est: unknown, env: Record<string, string> = {}, profiles?: unknown) =>
  loadConfig({ env, overrides: { dataDir: dir, ...(est === undefined ? {} : { est }), ...(profiles ? { profiles } : {}) } })
const failure = (fn: () => unknown): string => {
  try {
    fn()
  } catch (e) {
    return (e as Error).message
  }
  throw new Error('expected a ConfigError')
}

async function caPem(): Promise<string> {
  const keys = await makeKeys('ecdsa-p256')
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Manufacturer (TEST ONLY)',
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  })
  return cert.toString('pem')
}

describe('est config (defaults)', () => {
  it('ok/one-default-label-on-the-default-profile', () => {
    expect(load(undefined).est).toEqual({
      enabled: true,
      retryAfterSeconds: 60,
      labels: {
        default: {
          profile: 'default',
          auth: 'either',
          users: [],
          externalCas: [],
          channelBinding: 'optional',
          serverKeygen: true,
          base64LineLength: 76,
        },
      },
    })
  })

  it('ok/enroll-est-basic-adds-a-user-to-the-default-label', () => {
    const est = load(undefined, { ENROLL_EST_BASIC: 'device:pa:ss' }).est
    expect(est.labels['default']!.users).toEqual([{ name: 'device', password: 'pa:ss' }])
  })
})

describe('est config (refused at boot)', () => {
  it.each([
    ['fail/label-named-like-an-operation', { labels: { cacerts: {} } }, /^config: est\.labels\.cacerts: a label cannot be an EST operation name/],
    ['fail/uppercase-label', { labels: { Devices: {} } }, /^config: est\.labels\.Devices: a label name is lowercase letters/],
    ['fail/unknown-auth-mode', { labels: { default: { auth: 'oauth' } } }, /^config: est\.labels\.default\.auth:/],
    ['fail/user-with-both-secrets', { labels: { default: { users: [{ name: 'a', password: 'x', scrypt: '$scrypt$ln=1,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }] } } }, /^config: est\.labels\.default\.users\.0: set exactly one of scrypt, password/],
    ['fail/malformed-scrypt-hash', { labels: { default: { users: [{ name: 'a', scrypt: 'md5$abc' }] } } }, /^config: est\.labels\.default\.users\.0\.scrypt: expected \$scrypt\$/],
    ['fail/user-name-with-colon', { labels: { default: { users: [{ name: 'a:b', password: 'x' }] } } }, /users\.0\.name: a Basic user name cannot contain ":"/],
    ['fail/missing-trust-anchor-file', { labels: { default: { externalCas: [join(dir, 'nope.pem')] } } }, /^config: est\.labels\.default\.externalCas\.0: cannot read .*nope\.pem: ENOENT/],
    ['fail/unknown-unknown-key', { labels: { default: { lineLength: 64 } } }, /^config: est\.labels\.default: Unrecognized key/],
    ['fail/line-length-over-76', { labels: { default: { base64LineLength: 80 } } }, /^config: est\.labels\.default\.base64LineLength:/],
  ])('%s', (_name, est, message) => {
    expect(failure(() => load(est))).toMatch(message)
  })

  it('fail/env-user-without-password-names-the-variable', () => {
    expect(failure(() => load(undefined, { ENROLL_EST_BASIC: 'nopassword' }))).toMatch(
      /^config: est\.labels\.default\.users\.0 \(from ENROLL_EST_BASIC\): set exactly one of scrypt, password/,
    )
  })

  it.each([
    ['fail/label-on-unknown-profile', { labels: { default: { profile: 'nope' } } }, /^config: est\.labels\.default\.profile: no profile "nope" is configured/],
    ['fail/label-on-unexposed-profile', { labels: { default: { profile: 'server-tls' } } }, /^config: est\.labels\.default\.profile: profile "server-tls" is not exposed/],
    ['fail/unknown-client-profile', { labels: { default: { clientProfiles: ['nope'] } } }, /^config: est\.labels\.default\.clientProfiles: no profile "nope" is configured/],
  ])('%s', (_name, est, message) => {
    expect(failure(() => load(est))).toMatch(message)
  })
})

describe('est config (trust anchors)', () => {
  it('ok/pem-text-and-pem-file', async () => {
    const pem = await caPem()
    const file = join(dir, 'ca.pem')
    writeFileSync(file, pem + pem)
    const label = load({ labels: { default: { externalCas: [pem, file] } } }).est.labels['default']!
    expect(label.externalCas.map((c) => c.length)).toEqual([1, 2])
  })

  it('fail/file-without-certificates', () => {
    const file = join(dir, 'empty.pem')
    writeFileSync(file, 'nothing here\n')
    expect(failure(() => load({ labels: { default: { externalCas: [file] } } }))).toMatch(/externalCas\.0: holds no PEM CERTIFICATE block/)
  })
})

describe('passwords (scrypt, RFC 7914)', () => {
  it('ok/hash-verifies-and-wrong-password-does-not', async () => {
    const scrypt = await hashPassword('correct horse', 10)
    expect(scrypt).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    expect(await verifyPassword({ name: 'a', scrypt }, 'correct horse')).toBe(true)
    expect(await verifyPassword({ name: 'a', scrypt }, 'correct horse ')).toBe(false)
    expect(await verifyPassword({ name: 'a', password: 'x' }, 'x')).toBe(true)
    expect(await verifyPassword({ name: 'a', password: 'x' }, 'y')).toBe(false)
  })

  it('ok/the-stored-hash-passes-the-schema', async () => {
    const scrypt = await hashPassword('pw', 10)
    expect(load({ labels: { default: { users: [{ name: 'a', scrypt }] } } }).est.labels['default']!.users[0]!.scrypt).toBe(scrypt)
  })
})
