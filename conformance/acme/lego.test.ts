// lego 4.9 (Debian) against the ACME server: run with http-01, tls-alpn-01 and dns-01 (exec provider setting TXT
// records in pebble-challtestsrv), renew, revoke. Trusts our CA via LEGO_CA_CERTIFICATES; validation is real.
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { acmeKind, checkCertificate, inventoryStatus, revocationSeenBy, runClient, startAcmeRun, writeFixtures } from './common.js'

t.test('lego', async (t) => {
  const acme = await startAcmeRun({}, { capture: true })
  const dir = mkdtempSync(join(tmpdir(), 'lego-'))
  t.teardown(async () => {
    writeFixtures('lego', '4.9', acme.exchanges, acmeKind)
    await acme.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const hook = join(dir, 'dns-hook.sh')
  writeFileSync(hook, [
    '#!/bin/sh',
    '# lego exec provider: present|cleanup <fqdn> <value>; sets TXT records in pebble-challtestsrv',
    'case "$1" in',
    `  present) curl -sS -X POST -d "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" ${acme.dns.management}/set-txt ;;`,
    `  cleanup) curl -sS -X POST -d "{\\"host\\":\\"$2\\"}" ${acme.dns.management}/clear-txt ;;`,
    'esac',
    '',
  ].join('\n'))
  chmodSync(hook, 0o755)
  const env = { LEGO_CA_CERTIFICATES: acme.enroll.caBundle, EXEC_PATH: hook, EXEC_PROPAGATION_TIMEOUT: '30', EXEC_POLLING_INTERVAL: '1', EXEC_SEQUENCE_INTERVAL: '1' }
  const common = ['--server', acme.directory, '--email', 'ops@example.com', '--accept-tos', '--path', dir]
  const lego = (args: string[]) => runClient(acme.enroll, 'lego', [...common, ...args], env)
  const cert = (name: string) => join(dir, 'certificates', `${name}.crt`)

  t.test('ok/run-http-01', async (t) => {
    const started = Date.now()
    await lego(['--domains', 'lego-http.test', '--http', '--http.port', `127.0.0.1:${acme.http01Port}`, 'run'])
    t.comment(`lego http-01 issuance wall time: ${Date.now() - started} ms`)
    const got = checkCertificate(acme.enroll, cert('lego-http.test'))
    t.ok(got.verified, 'openssl verify -CAfile ca.pem')
    t.same(got.sans, ['lego-http.test'])
  })

  t.test('ok/run-tls-alpn-01', async (t) => {
    await lego(['--domains', 'lego-tls.test', '--tls', '--tls.port', `127.0.0.1:${acme.tlsAlpn01Port}`, 'run'])
    const got = checkCertificate(acme.enroll, cert('lego-tls.test'))
    t.ok(got.verified)
    t.same(got.sans, ['lego-tls.test'])
  })

  t.test('ok/run-dns-01-exec-with-wildcard', async (t) => {
    await lego(['--domains', 'lego-dns.test', '--domains', '*.lego-dns.test', '--dns', 'exec', '--dns.resolvers', acme.dns.dns,
      '--dns.disable-cp', 'run'])
    const got = checkCertificate(acme.enroll, cert('lego-dns.test'))
    t.ok(got.verified)
    t.same(got.sans.sort(), ['*.lego-dns.test', 'lego-dns.test'])
  })

  t.test('ok/renew', async (t) => {
    const before = checkCertificate(acme.enroll, cert('lego-http.test')).serial
    await lego(['--domains', 'lego-http.test', '--http', '--http.port', `127.0.0.1:${acme.http01Port}`, 'renew', '--days', '3650',
      '--no-random-sleep'])
    const after = checkCertificate(acme.enroll, cert('lego-http.test'))
    t.ok(after.verified)
    t.not(after.serial, before, 'a new certificate')
  })

  t.test('ok/revoke', async (t) => {
    const { serial } = checkCertificate(acme.enroll, cert('lego-tls.test'))
    const kept = join(dir, 'revoked.crt')
    copyFileSync(cert('lego-tls.test'), kept)
    await lego(['--domains', 'lego-tls.test', 'revoke', '--reason', '4'])
    t.equal(await inventoryStatus(acme.enroll, serial), 'revoked')
    t.same(await revocationSeenBy(acme.enroll, kept, dir), { ocsp: 'revoked', crl: 'revoked' }, 'OCSP and CRL say revoked')
  })
})
