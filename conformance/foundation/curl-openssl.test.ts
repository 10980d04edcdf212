// The listeners with curl and openssl: TLS chain trusted via <data>/ca.pem, CA download, admin API auth.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startEnroll } from '../helpers/server.js'

const run = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] })

t.test('foundation with curl and openssl', async (t) => {
  const enroll = await startEnroll()
  t.teardown(() => enroll.stop())

  t.test('ok/https-health-trusting-ca-bundle', async (t) => {
    const body = run('curl', ['-sS', '--fail', '--cacert', enroll.caBundle, `${enroll.httpsUrl}/health`])
    t.same(JSON.parse(body), { status: 'ok' })
  })

  t.test('ok/tls-chain-verifies-with-openssl', async (t) => {
    const out = run('openssl', ['s_client', '-connect', `127.0.0.1:${enroll.httpsPort}`, '-servername', 'localhost',
      '-CAfile', enroll.caBundle, '-verify_return_error', '-verify_hostname', 'localhost'], '')
    t.match(out, /Verify return code: 0 \(ok\)/)
  })

  t.test('ok/ca-download-pem-and-der', async (t) => {
    const pem = run('curl', ['-sS', '--fail', `${enroll.httpUrl}/.well-known/pki/ca.pem`])
    t.equal(pem, run('cat', [enroll.caBundle]))
    const derFile = join(enroll.dataDir, 'issuing.der')
    execFileSync('curl', ['-sS', '--fail', '-o', derFile, `${enroll.httpUrl}/.well-known/pki/ca.der`])
    const subject = run('openssl', ['x509', '-inform', 'DER', '-in', derFile, '-noout', '-subject'])
    t.match(subject, /Issuing CA/)
  })

  t.test('ok/admin-issue-and-verify-chain', async (t) => {
    const key = join(enroll.dataDir, 'leaf.key')
    const csr = join(enroll.dataDir, 'leaf.csr')
    run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key,
      '-out', csr, '-subj', '/CN=conformance.example.test', '-addext', 'subjectAltName=DNS:conformance.example.test'])
    const body = run('curl', ['-sS', '--cacert', enroll.caBundle, '-H', `Authorization: Bearer ${enroll.adminKey}`,
      '-H', 'Content-Type: application/json', '--data-binary', '@-', `${enroll.httpsUrl}/api/v1/certificates`],
      JSON.stringify({ csr: run('cat', [csr]) }))
    const issued = JSON.parse(body) as { pem: string; status: string }
    t.equal(issued.status, 'valid')
    const leaf = join(enroll.dataDir, 'leaf.pem')
    writeFileSync(leaf, issued.pem)
    t.match(run('openssl', ['verify', '-CAfile', enroll.caBundle, leaf]), /leaf.pem: OK/)
  })

  t.test('fail/admin-without-key-is-401', async (t) => {
    const code = run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', enroll.caBundle,
      `${enroll.httpsUrl}/api/v1/certificates`])
    t.equal(code, '401')
  })
})
