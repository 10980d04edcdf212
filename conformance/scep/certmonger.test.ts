// certmonger (Debian certmonger 0.79) against the SCEP server: its scep-submit helper directly (GetCACaps -c,
// GetCACert/GetCAChain -C), and the certmonger session daemon driving scep-submit for a real enrollment (PKCSReq by
// GET with certmonger's own pkiMessages) and a PENDING request that is approved and then fetched on resubmission.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { approveNewest, attempt, CHALLENGE, certmongerHelper, opensslVerify, run, startScepServer } from './common.js'

const submit = certmongerHelper('scep-submit')
const session = certmongerHelper('certmonger-session')

t.test('certmonger scep-submit', { skip: !submit && 'certmonger is not installed' }, async (t) => {
  const enroll = await startScepServer()
  t.teardown(() => enroll.stop())
  const url = `${enroll.httpUrl}/cgi-bin/pkiclient.exe`

  t.test('ok/getcacaps', async (t) => {
    const caps = run(submit!, ['-u', url, '-c']).trim().split('\n')
    t.ok(caps.includes('Renewal') && caps.includes('AES') && caps.includes('POSTPKIOperation'), caps.join(','))
  })

  t.test('ok/getcacert-ra-first', async (t) => {
    const pem = run(submit!, ['-u', url, '-C'])
    const first = pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 25)
    t.match(run('openssl', ['x509', '-noout', '-subject'], { input: first }), /SCEP RA/)
    t.equal(pem.split('BEGIN CERTIFICATE').length - 1, 3)
  })

  t.test('ok/daemon-enrollment-and-pending', { skip: !session && 'certmonger-session is missing' }, async (t) => {
    const home = join(enroll.dataDir, 'certmonger')
    mkdirSync(join(home, 'run'), { recursive: true })
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: join(home, 'run') }
    const script = [
      `${session} -n &`,
      'CM=$!; sleep 1',
      `getcert add-scep-ca -s -c enroll -u ${url}`,
      `getcert add-scep-ca -s -c held -u ${enroll.httpUrl}/scep/held`,
      'sleep 1',
      `getcert request -s -c enroll -f ${home}/cert.pem -k ${home}/key.pem -L ${CHALLENGE} -N CN=certmonger.example.test -D certmonger.example.test -w`,
      `getcert request -s -c held -I held -f ${home}/held.pem -k ${home}/held.key -L ${CHALLENGE} -N CN=cm-held.example.test -D cm-held.example.test`,
      // wait for the PENDING answer, then let the test approve (it creates this file), then resubmit
      `for i in $(seq 1 100); do getcert list -s -i held | grep -q CA_WORKING && break; sleep 0.2; done; touch ${home}/pending`,
      `for i in $(seq 1 150); do [ -e ${home}/approved ] && break; sleep 0.2; done`,
      'getcert resubmit -s -i held',
      `for i in $(seq 1 100); do [ -s ${home}/held.pem ] && break; sleep 0.2; done`,
      'getcert list -s',
      'kill $CM',
    ].join('\n')
    const child = spawn('dbus-run-session', ['--', 'bash', '-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const exited = new Promise<number | null>((done) => child.once('exit', done))
    for (let i = 0; i < 300 && !existsSync(join(home, 'pending')); i++) await new Promise((r) => setTimeout(r, 100))
    t.ok(existsSync(join(home, 'pending')), out)
    approveNewest(enroll, 'held')
    run('touch', [join(home, 'approved')])
    await exited
    t.match(opensslVerify(enroll, join(home, 'cert.pem')), /OK/, out)
    t.match(opensslVerify(enroll, join(home, 'held.pem')), /OK/, out)
    t.match(attempt('openssl', ['x509', '-in', join(home, 'held.pem'), '-noout', '-subject']).output, /cm-held\.example\.test/)
  })
})
