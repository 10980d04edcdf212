// strongSwan `pki --scepca` / `pki --scep` (Debian strongswan-pki, with the curl plugin from
// libstrongswan-extra-plugins) against the SCEP server: GetCACert, PKCSReq with AES and DES3, a dynamic challenge,
// RenewalReq with a new key, and PENDING → approval via the admin API → CertPoll with --interval.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import t from 'tap'
import { admin, approveNewest, attempt, CHALLENGE, opensslVerify, run, startScepServer } from './common.js'

t.test('strongSwan pki --scep', async (t) => {
  const enroll = await startScepServer()
  t.teardown(() => enroll.stop())
  const dir = enroll.dataDir
  const file = (name: string) => join(dir, `sw-${name}`)
  const key = (name: string) => {
    writeFileSync(file(`${name}.key`), run('pki', ['--gen', '--type', 'rsa', '--size', '2048', '--outform', 'pem']))
    return file(`${name}.key`)
  }
  const certs = () => ['--cacert-enc', file('ra.der'), '--cacert-sig', file('ra.der'), '--cacert', file('ca.der'), '--cacert', file('ca-1.der')]
  const scep = (url: string, args: string[], out: string) => {
    const r = attempt('pki', ['--scep', '--url', url, ...certs(), '--outform', 'pem', ...args], { timeout: 90_000 })
    if (r.status === 0) writeFileSync(out, r.stdout.slice(r.stdout.indexOf('-----BEGIN CERTIFICATE-----')))
    return r
  }

  t.test('ok/scepca-ra-and-ca', async (t) => {
    const r = attempt('pki', ['--scepca', '--url', `${enroll.httpUrl}/scep`, '--caout', file('ca.der'), '--raout', file('ra.der'), '--force'])
    t.equal(r.status, 0, r.output.slice(-800))
    t.match(r.output, /RA cert is trusted/)
    t.match(run('openssl', ['x509', '-inform', 'DER', '-in', file('ra.der'), '-noout', '-subject']), /SCEP RA/)
  })

  for (const cipher of ['aes', 'des3']) {
    t.test(`ok/pkcsreq-${cipher}-static-challenge`, async (t) => {
      const r = scep(`${enroll.httpUrl}/scep`, ['--in', key(cipher), '--dn', `CN=sw-${cipher}.example.test`, '--san', `sw-${cipher}.example.test`, '--password', CHALLENGE, '--cipher', cipher], file(`${cipher}.pem`))
      t.equal(r.status, 0, r.output.slice(-800))
      t.match(opensslVerify(enroll, file(`${cipher}.pem`)), /OK/)
    })
  }

  t.test('ok/pkcsreq-dynamic-challenge', async (t) => {
    const minted = admin(enroll, 'POST', '/scep/challenges', { label: 'mdm', ttlSeconds: 300 })
    const r = scep(`${enroll.httpUrl}/scep/mdm`, ['--in', key('dyn'), '--dn', 'CN=sw-mdm.example.test', '--password', minted.challenge], file('dyn.pem'))
    t.equal(r.status, 0, r.output.slice(-800))
    t.match(opensslVerify(enroll, file('dyn.pem')), /OK/)
  })

  t.test('ok/renewalreq-with-new-key', async (t) => {
    const r = scep(`${enroll.httpUrl}/scep`, ['--in', key('renewed'), '--dn', 'CN=sw-aes.example.test', '--san', 'sw-aes.example.test', '--cert', file('aes.pem'), '--key', file('aes.key')], file('renewed.pem'))
    t.equal(r.status, 0, r.output.slice(-800))
    t.match(opensslVerify(enroll, file('renewed.pem')), /OK/)
  })

  t.test('ok/pending-approve-certpoll', async (t) => {
    const args = ['--scep', '--url', `${enroll.httpUrl}/scep/held`, ...certs(), '--outform', 'pem', '--in', key('held'), '--dn', 'CN=sw-held.example.test', '--password', CHALLENGE, '--interval', '1', '--maxpolltime', '60']
    const child = spawn('pki', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const exited = new Promise<number | null>((done) => child.once('exit', done))
    for (let i = 0; i < 100 && !/pending/i.test(out); i++) await new Promise((r) => setTimeout(r, 100))
    t.match(out, /SCEP request pending/)
    approveNewest(enroll, 'held')
    t.equal(await exited, 0, out)
    writeFileSync(file('held.pem'), out.slice(out.indexOf('-----BEGIN CERTIFICATE-----')))
    t.match(opensslVerify(enroll, file('held.pem')), /OK/)
  })
})
