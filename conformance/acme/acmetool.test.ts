// acmetool 0.2 (Debian; Go) against the ACME server: `want` a name, which registers an account (the email answered
// from a response file, --batch) and obtains a certificate with http-01 through a webroot. Go trusts our
// CA through SSL_CERT_FILE. Its self-test fetches http://<name>/ through the system resolver, which does not know
// the test names (our server resolves them through challtestsrv), so the target turns it off.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { checkCertificate, inventoryStatus, runClient, startWebrootRun } from './common.js'

t.test('acmetool', async (t) => {
  const { acme, webroot, dir: state } = await startWebrootRun(t, 'acmetool', '0.2')
  mkdirSync(join(state, 'conf'), { recursive: true })
  writeFileSync(join(state, 'conf', 'target'), [
    'request:',
    `  provider: ${acme.directory}`,
    '  key:',
    '    type: ecdsa',
    '  challenge:',
    '    http-self-test: false',
    '    webroot-paths:',
    `      - ${webroot.challengeDir}`,
    '',
  ].join('\n'))
  // The server names no terms of service, so the email is the only question.
  writeFileSync(join(state, 'conf', 'responses'), '"acme-enter-email": "ops@example.com"\n')
  const acmetool = (args: string[]) =>
    runClient(acme.enroll, 'acmetool', ['--state', join(state, ''), '--hooks', join(state, 'hooks'), '--batch', ...args], {
      SSL_CERT_FILE: acme.enroll.caBundle,
    })
  const name = 'acmetool.conformance.test'

  t.test('ok/want-obtains-a-certificate-over-http-01', async (t) => {
    const started = Date.now()
    await acmetool(['want', name])
    t.comment(`acmetool issuance wall time: ${Date.now() - started} ms`)
    const got = checkCertificate(acme.enroll, join(state, 'live', name, 'fullchain'))
    t.ok(got.verified, 'openssl verify -CAfile ca.pem')
    t.same(got.sans, [name])
    t.equal(await inventoryStatus(acme.enroll, got.serial), 'valid', 'recorded in the inventory')
  })
})
