// uacme 1.7 (Debian) against the ACME server: new account (starts with onlyReturnExisting), issue with http-01
// through its hook script and a webroot, revoke. uacme's libcurl trusts only the system bundle, so it runs in a
// private mount namespace where that bundle has our CA appended (no change to the host).
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { checkCertificate, inventoryStatus, revocationSeenBy, runClient, startWebrootRun } from './common.js'

const systemBundle = '/etc/ssl/certs/ca-certificates.crt'

/** A private mount namespace needs CAP_SYS_ADMIN (root on the CI machine); without it the cell is skipped. */
const canUnshare = (() => {
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

t.test('uacme', { skip: canUnshare ? false : 'unshare -m is not permitted here' }, async (t) => {
  const { acme, webroot, dir } = await startWebrootRun(t, 'uacme', '1.7')
  const bundle = join(dir, 'bundle.pem')
  let system = ''
  try {
    system = readFileSync(systemBundle, 'utf8')
  } catch {
    // no system bundle: ours alone
  }
  writeFileSync(bundle, system + readFileSync(acme.enroll.caBundle, 'utf8'))
  const hook = join(dir, 'hook.sh')
  writeFileSync(hook, [
    '#!/bin/sh',
    '# uacme hook: <begin|done|failed> <type> <ident> <token> <key_auth>; accepts http-01 only',
    '[ "$2" = "http-01" ] || exit 1',
    'case "$1" in',
    `  begin) printf '%s' "$5" > "${webroot.challengeDir}/$4" ;;`,
    `  done|failed) rm -f "${webroot.challengeDir}/$4" ;;`,
    'esac',
    '',
  ].join('\n'))
  chmodSync(hook, 0o755)
  const conf = join(dir, 'conf')
  const uacme = (args: string) =>
    runClient(acme.enroll, 'unshare', ['-m', 'sh', '-c',
      `mount --bind '${bundle}' ${systemBundle} && uacme -v -a '${acme.directory}' -c '${conf}' -y ${args}`])

  t.test('ok/new-account', async (t) => {
    const out = await uacme('new ops@example.com')
    t.match(out, /account created at/i)
  })

  t.test('ok/issue-http-01-hook', async (t) => {
    await uacme(`-h '${hook}' issue uacme.test www.uacme.test`)
    const got = checkCertificate(acme.enroll, join(conf, 'uacme.test', 'cert.pem'))
    t.ok(got.verified, 'openssl verify -CAfile ca.pem')
    t.same(got.sans.sort(), ['uacme.test', 'www.uacme.test'])
  })

  t.test('ok/revoke', async (t) => {
    const certFile = join(conf, 'uacme.test', 'cert.pem')
    const { serial } = checkCertificate(acme.enroll, certFile)
    const kept = join(dir, 'revoked.pem')
    copyFileSync(certFile, kept)
    await uacme(`revoke '${certFile}'`)
    t.equal(await inventoryStatus(acme.enroll, serial), 'revoked')
    t.same(await revocationSeenBy(acme.enroll, kept, dir), { ocsp: 'revoked', crl: 'revoked' }, 'OCSP and CRL say revoked')
  })

  t.test('ok/update-contact', async (t) => {
    t.match(await uacme('update ops2@example.com'), /updating account/i)
  })

  t.test('ok/newkey-key-change', async (t) => {
    t.match(await uacme('newkey'), /key.*(changed|rolled|saved)/i)
    t.match(await uacme('update ops3@example.com'), /updating account/i, 'the new key signs')
  })

  t.test('ok/deactivate', async (t) => {
    t.match(await uacme('deactivate'), /deactivat/i)
  })
})
