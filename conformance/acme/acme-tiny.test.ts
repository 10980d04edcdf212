// acme-tiny 5.0 (Debian) against the ACME server: one run with an RSA account key and an openssl CSR naming two
// DNS names, http-01 through its --acme-dir (served by a webroot), the signed chain printed on stdout. Python's
// ssl trusts our CA through SSL_CERT_FILE. Its own pre-check fetches http://<name>/ through the system resolver,
// which does not know the test names (our server resolves them through challtestsrv), so it runs --disable-check.
// Keys are made per run in a temporary directory (TEST ONLY).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { checkCertificate, inventoryStatus, run, runClient, startWebrootRun } from './common.js'

t.test('acme-tiny', async (t) => {
  const { acme, webroot, dir } = await startWebrootRun(t, 'acme-tiny', '5.0')
  const accountKey = join(dir, 'account.key')
  const domainKey = join(dir, 'domain.key')
  const csr = join(dir, 'domain.csr')
  run('openssl', ['genrsa', '-out', accountKey, '2048'])
  run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', domainKey, '-subj',
    '/CN=tiny.conformance.test', '-addext', 'subjectAltName=DNS:tiny.conformance.test,DNS:www.tiny.conformance.test', '-out', csr])

  t.test('ok/issue-http-01', async (t) => {
    const started = Date.now()
    const chain = await runClient(acme.enroll, 'sh', ['-c', `acme-tiny --account-key ${accountKey} --csr ${csr} --acme-dir ` +
      `${webroot.challengeDir} --directory-url ${acme.directory} --contact mailto:ops@example.com --disable-check --quiet`],
    { SSL_CERT_FILE: acme.enroll.caBundle })
    t.comment(`acme-tiny issuance wall time: ${Date.now() - started} ms`)
    const file = join(dir, 'signed_chain.crt')
    writeFileSync(file, chain)
    t.equal(chain.match(/-----BEGIN CERTIFICATE-----/g)?.length, 2, 'leaf + issuing CA on stdout')
    const got = checkCertificate(acme.enroll, file)
    t.ok(got.verified, 'openssl verify -CAfile ca.pem')
    t.same(got.sans.sort(), ['tiny.conformance.test', 'www.tiny.conformance.test'])
    t.equal(await inventoryStatus(acme.enroll, got.serial), 'valid', 'recorded in the inventory')
  })
})
