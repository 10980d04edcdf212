// EST (RFC 7030) with strongSwan's pki (Debian strongswan-pki 5.9.8 + libstrongswan-standard-plugins for ECDSA):
// --estca fetches the CA certificates, --est enrolls with HTTP Basic, re-enrolls with the existing certificate
// and key (simplereenroll over TLS client authentication), and polls through 202/Retry-After until an
// administrator approves. Each certificate is checked with `openssl verify` against the --estca output.
// pki 5.9.8 cannot decode line-wrapped base64 (it does not skip CR/LF), so the label sends one unbroken line
// (base64LineLength: 0); see docs/conformance.md. ENROLL_CAPTURE_FIXTURES=1 writes its requests to fixtures/est.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startEnroll, type Enroll } from '../helpers/server.js'
import { keepBytes, must, redactAuthorization, requestsFromPkiDebug, sh, splitPemScript } from './common.js'

const USERPASS = 'gateway-01:TEST-ONLY-est-password'

const configFor = (profile: string) => `
profiles:
  default:
    allow: { dns: ['**.example.test'] }
  held:
    requireApproval: true
    allow: { dns: ['**.example.test'] }
est:
  retryAfterSeconds: 1
  labels:
    default: { profile: ${profile}, base64LineLength: 0 }
`

/** pki's --cacert takes one certificate per option: the CA bundle split into files. */
async function trust(enroll: Enroll, work: string): Promise<string> {
  await must(splitPemScript(enroll.caBundle, 'tls-ca-'), work)
  return '--cacert tls-ca-1.pem --cacert tls-ca-2.pem'
}

const newRequest = (name: string, cn: string) =>
  `pki --gen --type ecdsa --size 256 --outform pem > ${name}.key
   pki --req --in ${name}.key --type ecdsa --dn "CN=${cn}" --san ${cn} --outform pem > ${name}.csr`

t.test('EST with strongSwan pki', async (t) => {
  const enroll = await startEnroll({ configText: configFor('default'), env: { ENROLL_EST_BASIC: USERPASS } })
  const work = mkdtempSync(join(tmpdir(), 'enroll-est-pki-'))
  t.teardown(async () => {
    await enroll.stop()
    rmSync(work, { recursive: true, force: true })
  })
  const cacert = await trust(enroll, work)
  const env = { URL: enroll.httpsUrl, USERPASS }
  const step = (script: string) => must(script, work, env)

  t.test('ok/estca-fetches-root-and-issuing-ca', async (t) => {
    const out = await step(`pki --estca --url "$URL" ${cacert} --caout cacert.pem --outform pem --force 2>&1`)
    t.match(out, /Root CA cert is trusted/)
    t.match(out, /Sub CA cert is trusted/)
    await step('cat cacert.pem cacert-1.pem > cacerts.pem')
    t.match(await step('openssl verify -CAfile cacert.pem cacert-1.pem'), /OK/)
  })

  t.test('ok/est-enrolls-with-basic', async (t) => {
    const log = await step(`${newRequest('gw', 'gw.example.test')}
      pki --est --url "$URL" ${cacert} --in gw.csr --userpass "$USERPASS" --outform pem --debug 2 2>&1 > gw.pem`)
    t.match(log, /Issued certificate is trusted/)
    t.match(await step('openssl verify -CAfile cacerts.pem gw.pem'), /gw.pem: OK/)
    const [request] = requestsFromPkiDebug(log)
    t.match(request?.toString('latin1') ?? '', /^POST \/.well-known\/est\/simpleenroll HTTP\/1.1\r\n/)
    keepBytes(redactAuthorization(request!), 'strongswan-pki-5.9.8-simpleenroll.http')
  })

  t.test('ok/est-reenrolls-with-the-existing-certificate', async (t) => {
    const log = await step(`${newRequest('gw2', 'gw.example.test')}
      pki --est --url "$URL" ${cacert} --in gw2.csr --cert gw.pem --key gw.key --outform pem --debug 2 2>&1 > gw2.pem`)
    t.match(log, /sending TLS client certificate 'CN=gw.example.test'/)
    t.match(await step('openssl verify -CAfile cacerts.pem gw2.pem'), /gw2.pem: OK/)
    t.not(await step('openssl x509 -in gw2.pem -noout -serial'), await step('openssl x509 -in gw.pem -noout -serial'))
    t.equal(await step('openssl x509 -in gw2.pem -noout -pubkey'), await step('openssl pkey -in gw2.key -pubout'))
    const [request] = requestsFromPkiDebug(log)
    t.match(request?.toString('latin1') ?? '', /^POST \/.well-known\/est\/simplereenroll HTTP\/1.1\r\n/)
    keepBytes(request!, 'strongswan-pki-5.9.8-simplereenroll.http')
    const again = await sh(`${newRequest('gw3', 'gw.example.test')}
      pki --est --url "$URL" ${cacert} --in gw3.csr --cert gw.pem --key gw.key 2>&1`, work, env)
    t.not(again.code, 0, 'the superseded certificate cannot renew again')
    t.match(again.all, /EST request failed: HTTP 403/)
  })

  t.test('fail/est-without-credentials-is-401', async (t) => {
    const r = await sh(`${newRequest('nocred', 'nocred.example.test')}
      pki --est --url "$URL" ${cacert} --in nocred.csr 2>&1`, work, env)
    t.not(r.code, 0)
    t.match(r.all, /EST request failed: HTTP 401/)
  })
})

t.test('EST with strongSwan pki: 202 Retry-After polling until approval (RFC 7030 §4.2.3)', async (t) => {
  const enroll = await startEnroll({ configText: configFor('held'), env: { ENROLL_EST_BASIC: USERPASS } })
  const work = mkdtempSync(join(tmpdir(), 'enroll-est-pki-held-'))
  t.teardown(async () => {
    await enroll.stop()
    rmSync(work, { recursive: true, force: true })
  })
  const cacert = await trust(enroll, work)
  const env = { URL: enroll.httpsUrl, USERPASS }
  await must(`${newRequest('held', 'held.example.test')}
    pki --estca --url "$URL" ${cacert} --caout cacert.pem --outform pem --force >/dev/null 2>&1
    cat cacert.pem cacert-1.pem > cacerts.pem`, work, env)

  const pki = spawn('bash', ['-c', `pki --est --url "$URL" ${cacert} --in held.csr --userpass "$USERPASS" --interval 1 --maxpolltime 90 --outform pem 2>&1 > held.pem`], {
    cwd: work,
    env: { ...process.env, ...env },
  })
  let log = ''
  pki.stdout.on('data', (d: Buffer) => (log += d))
  const exited = new Promise<number | null>((done) => pki.once('close', done))
  t.teardown(() => void pki.kill())

  const admin = (path: string, method = 'GET') =>
    must(`curl -sS --fail --cacert "${enroll.caBundle}" -X ${method} -H "Authorization: Bearer ${enroll.adminKey}" "$URL/api/v1${path}"`, work, env)
  let pending: { id: string }[] = []
  for (let i = 0; i < 200 && pending.length === 0; i++) {
    pending = (JSON.parse(await admin('/requests')) as { items: { id: string }[] }).items
    if (!pending.length) await new Promise((r) => setTimeout(r, 100))
  }
  t.equal(pending.length, 1, 'the request awaits approval')
  await new Promise((r) => setTimeout(r, 2500))
  t.match(log, /EST request pending, polling every 1 seconds/, 'pki took the 202 and polls')
  await admin(`/requests/${pending[0]!.id}/approve`, 'POST')
  t.equal(await exited, 0, 'pki received the certificate once approved')
  t.match(await must('openssl verify -CAfile cacerts.pem held.pem', work), /held.pem: OK/)
  t.match(readFileSync(join(work, 'held.pem'), 'utf8'), /BEGIN CERTIFICATE/)
})
