// certbot 2.1 (Debian) against the ACME server: certonly --standalone (http-01, RSA account key), renew
// --force-renewal, revoke. Trusts our CA via REQUESTS_CA_BUNDLE; validation is real (challtestsrv as DNS).
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { acmeKind, checkCertificate, inventoryStatus, revocationSeenBy, runClient, startAcmeRun, writeFixtures } from './common.js'

t.test('certbot', async (t) => {
  const acme = await startAcmeRun({}, { capture: true })
  const dir = mkdtempSync(join(tmpdir(), 'certbot-'))
  t.teardown(async () => {
    writeFixtures('certbot', '2.1', acme.exchanges, acmeKind)
    await acme.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const env = { REQUESTS_CA_BUNDLE: acme.enroll.caBundle }
  const common = ['--config-dir', join(dir, 'config'), '--work-dir', join(dir, 'work'), '--logs-dir', join(dir, 'logs'),
    '--non-interactive', '--server', acme.directory]
  const name = 'certbot.conformance.test'
  const live = join(dir, 'config', 'live', name)
  const certbot = (args: string[]) => runClient(acme.enroll, 'certbot', [...args, ...common], env)

  let firstSerial = ''
  t.test('ok/certonly-standalone-http-01', async (t) => {
    const started = Date.now()
    await certbot(['certonly', '--standalone', '--http-01-port', String(acme.http01Port), '--http-01-address', '127.0.0.1',
      '-d', name, '-d', `www.${name}`, '--agree-tos', '-m', 'ops@example.com'])
    t.comment(`certbot issuance wall time: ${Date.now() - started} ms`)
    const got = checkCertificate(acme.enroll, join(live, 'fullchain.pem'))
    t.ok(got.verified, 'openssl verify -CAfile ca.pem')
    t.same(got.sans.sort(), [name, `www.${name}`].sort())
    firstSerial = got.serial
  })

  t.test('ok/renew-force-renewal', async (t) => {
    await certbot(['renew', '--force-renewal', '--no-random-sleep-on-renew', '--http-01-port', String(acme.http01Port), '--http-01-address', '127.0.0.1'])
    const got = checkCertificate(acme.enroll, join(live, 'fullchain.pem'))
    t.ok(got.verified)
    t.not(got.serial, firstSerial, 'a new certificate')
  })

  t.test('ok/revoke', async (t) => {
    const certPath = realpathSync(join(live, 'cert.pem'))
    const { serial } = checkCertificate(acme.enroll, certPath)
    await certbot(['revoke', '--cert-path', certPath, '--reason', 'superseded', '--no-delete-after-revoke'])
    t.equal(await inventoryStatus(acme.enroll, serial), 'revoked')
    t.same(await revocationSeenBy(acme.enroll, certPath, dir), { ocsp: 'revoked', crl: 'revoked' }, 'OCSP and CRL say revoked')
    t.ok(readFileSync(certPath, 'utf8').includes('BEGIN CERTIFICATE'))
  })
})

t.test('certbot with External Account Binding required', async (t) => {
  const acme = await startAcmeRun({ ENROLL_ACME_EXTERNAL_ACCOUNT_REQUIRED: 'true' })
  const dir = mkdtempSync(join(tmpdir(), 'certbot-eab-'))
  t.teardown(async () => {
    await acme.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const env = { REQUESTS_CA_BUNDLE: acme.enroll.caBundle }
  const common = ['--config-dir', join(dir, 'config'), '--work-dir', join(dir, 'work'), '--logs-dir', join(dir, 'logs'),
    '--non-interactive', '--server', acme.directory, '--agree-tos', '-m', 'ops@example.com']
  const created = JSON.parse(await runClient(acme.enroll, 'curl', ['-sS', '--cacert', acme.enroll.caBundle, '-H',
    `Authorization: Bearer ${acme.enroll.adminKey}`, '-H', 'Content-Type: application/json', '-d', '{"description":"certbot"}',
    `${acme.enroll.httpsUrl}/api/v1/acme/eab`])) as { keyId: string; hmacKey: string }

  t.test('fail/register-without-eab', async (t) => {
    await t.rejects(runClient(acme.enroll, 'certbot', ['register', ...common], env), /externalAccountRequired|external account/i)
  })

  t.test('ok/register-with-eab-then-certonly', async (t) => {
    await runClient(acme.enroll, 'certbot', ['register', '--eab-kid', created.keyId, '--eab-hmac-key', created.hmacKey, ...common], env)
    await runClient(acme.enroll, 'certbot', ['certonly', '--standalone', '--http-01-port', String(acme.http01Port),
      '--http-01-address', '127.0.0.1', '-d', 'eab.conformance.test', ...common], env)
    const got = checkCertificate(acme.enroll, join(dir, 'config', 'live', 'eab.conformance.test', 'fullchain.pem'))
    t.ok(got.verified)
  })
})
