// certbot 2.1 (Debian) against the ACME server: certonly --standalone (http-01, RSA account key), renew
// --force-renewal, revoke. Trusts our CA via REQUESTS_CA_BUNDLE; validation is real (challtestsrv as DNS).
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { acmeKind, checkCertificate, inventoryStatus, runClient, startAcmeRun, writeFixtures } from './common.js'

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
    t.ok(readFileSync(certPath, 'utf8').includes('BEGIN CERTIFICATE'))
  })
})
