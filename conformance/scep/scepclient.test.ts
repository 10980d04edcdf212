// micromdm scepclient (Debian `scep`) against the SCEP server: PKCSReq with the static and a dynamic challenge,
// RenewalReq with the issued certificate, a wrong challenge refused; every certificate checked with openssl verify.
// scepclient encrypts to every certificate GetCACert returns and cannot encrypt to an ECDSA CA, so it is pointed at
// the RA certificate with -ca-fingerprint (as with NDES); it always uses DES-CBC, answered in kind.
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { admin, attempt, CHALLENGE, opensslVerify, raFingerprint, run, startScepServer } from './common.js'

t.test('scepclient', async (t) => {
  const enroll = await startScepServer()
  t.teardown(() => enroll.stop())
  const fp = raFingerprint(enroll)
  const dir = (name: string) => mkdtempSync(join(enroll.dataDir, `scepclient-${name}-`))
  const scepclient = (d: string, url: string, extra: string[]) =>
    attempt('scepclient', ['-private-key', join(d, 'key.pem'), '-server-url', url, '-ca-fingerprint', fp, ...extra], { timeout: 60_000 })

  t.test('ok/pkcsreq-static-challenge-then-renewalreq', async (t) => {
    const d = dir('static')
    const first = scepclient(d, `${enroll.httpUrl}/scep`, ['-challenge', CHALLENGE, '-cn', 'scepclient.example.test'])
    t.equal(first.status, 0, first.output.slice(-800))
    t.match(opensslVerify(enroll, join(d, 'client.pem')), /OK/)
    const serial = run('openssl', ['x509', '-in', join(d, 'client.pem'), '-noout', '-serial'])
    const renewed = scepclient(d, `${enroll.httpUrl}/cgi-bin/pkiclient.exe`, ['-certificate', join(d, 'client.pem'), '-cn', 'scepclient.example.test'])
    t.equal(renewed.status, 0, renewed.output.slice(-800))
    t.match(opensslVerify(enroll, join(d, 'client.pem')), /OK/)
    t.not(run('openssl', ['x509', '-in', join(d, 'client.pem'), '-noout', '-serial']), serial, 'RenewalReq issued a new certificate')
    const oldSerial = serial.split('=')[1]!.trim().toLowerCase()
    const audit = admin(enroll, 'GET', `/audit?serial=${oldSerial}&action=certificate.superseded`)
    t.equal(audit.items.length, 1, 'the renewed certificate is marked superseded')
  })

  t.test('ok/pkcsreq-dynamic-challenge-single-use', async (t) => {
    const minted = admin(enroll, 'POST', '/scep/challenges', { label: 'mdm', commonName: 'mdm-device.example.test' })
    const d = dir('dynamic')
    const ok = scepclient(d, `${enroll.httpUrl}/scep/mdm`, ['-challenge', minted.challenge, '-cn', 'mdm-device.example.test'])
    t.equal(ok.status, 0, ok.output.slice(-800))
    t.match(opensslVerify(enroll, join(d, 'client.pem')), /OK/)
    const again = scepclient(dir('dynamic-again'), `${enroll.httpUrl}/scep/mdm`, ['-challenge', minted.challenge, '-cn', 'mdm-device.example.test'])
    t.not(again.status, 0)
    t.match(again.output, /badRequest/)
  })

  t.test('fail/wrong-challenge-is-badRequest', async (t) => {
    const r = scepclient(dir('wrong'), `${enroll.httpUrl}/scep`, ['-challenge', 'not-it', '-cn', 'wrong.example.test'])
    t.not(r.status, 0)
    t.match(r.output, /failInfo: badRequest/)
  })
})
