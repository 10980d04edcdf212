// dehydrated 0.7 (Debian) against the ACME server: register, issue with http-01 (its WELLKNOWN directory served
// by a webroot), revoke. Trusts our CA via CURL_CA_BUNDLE (dehydrated runs curl).
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { checkCertificate, inventoryStatus, revocationSeenBy, runClient, startWebrootRun } from './common.js'

t.test('dehydrated', async (t) => {
  const { acme, webroot, dir } = await startWebrootRun(t, 'dehydrated', '0.7')
  const config = join(dir, 'config')
  writeFileSync(config, [
    `CA="${acme.directory}"`,
    `BASEDIR="${dir}"`,
    `WELLKNOWN="${webroot.challengeDir}"`,
    'CHALLENGETYPE="http-01"',
    'CONTACT_EMAIL="ops@example.com"',
    '',
  ].join('\n'))
  const dehydrated = (args: string[]) => runClient(acme.enroll, 'dehydrated', ['-f', config, ...args], { CURL_CA_BUNDLE: acme.enroll.caBundle })
  const live = join(dir, 'certs', 'dehydrated.test')

  t.test('ok/register', async (t) => {
    t.match(await dehydrated(['--register', '--accept-terms']), /Done!/)
  })

  t.test('ok/issue-http-01', async (t) => {
    await dehydrated(['-c', '-d', 'dehydrated.test', '-d', 'www.dehydrated.test'])
    const got = checkCertificate(acme.enroll, join(live, 'fullchain.pem'))
    t.ok(got.verified, 'openssl verify -CAfile ca.pem')
    t.same(got.sans.sort(), ['dehydrated.test', 'www.dehydrated.test'])
  })

  t.test('ok/revoke', async (t) => {
    const certFile = join(live, 'cert.pem')
    const { serial } = checkCertificate(acme.enroll, certFile)
    const kept = join(dir, 'revoked.pem')
    copyFileSync(certFile, kept)
    t.match(await dehydrated(['-r', certFile]), /Done/)
    t.equal(await inventoryStatus(acme.enroll, serial), 'revoked')
    t.same(await revocationSeenBy(acme.enroll, kept, dir), { ocsp: 'revoked', crl: 'revoked' }, 'OCSP and CRL say revoked')
    t.ok(readdirSync(live).some((f) => f.endsWith('-revoked')))
  })
})
