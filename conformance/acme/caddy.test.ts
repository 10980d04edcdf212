// Caddy 2.6 (Debian; its ACME client is certmagic) against the ACME server: automatic HTTPS for a site, with our
// directory as `acme_ca` and our root as `acme_ca_root`. Caddy answers the challenge itself (http-01 on its HTTP
// port, tls-alpn-01 on its HTTPS port: the two test ports the server validates against), stores the certificate,
// serves it, and staples an OCSP answer it fetches from our responder; then again on a server requiring External
// Account Binding, with a key from the admin API as `acme_eab`. Validation is real (challtestsrv as DNS).
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { acmeKind, checkCertificate, inventoryStatus, runClient, startAcmeRun, writeFixtures, type AcmeRun } from './common.js'

/** Every file under `dir` whose name is `name`. */
function findFiles(dir: string, name: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...findFiles(path, name))
    else if (entry.name === name) found.push(path)
  }
  return found
}

/**
 * Runs Caddy for `site` against the server until it has stored a certificate (or 90 s pass): `certFile` is that
 * certificate, undefined with Caddy's log in the error otherwise. `globals`: more lines of the global options.
 */
async function runCaddy(acme: AcmeRun, dir: string, site: string, globals: string[] = []) {
  const storage = join(dir, 'storage')
  writeFileSync(
    join(dir, 'Caddyfile'),
    [
      '{',
      '  admin off',
      `  http_port ${acme.http01Port}`,
      `  https_port ${acme.tlsAlpn01Port}`,
      `  acme_ca ${acme.directory}`,
      `  acme_ca_root ${acme.enroll.caBundle}`,
      '  email ops@example.com',
      `  storage file_system ${storage}`,
      '  skip_install_trust',
      ...globals.map((l) => `  ${l}`),
      '}',
      `${site} {`,
      '  bind 127.0.0.1',
      '  respond "served by caddy"',
      '}',
      '',
    ].join('\n'),
  )
  let log = ''
  const caddy = spawn('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
    // Caddy's own files (autosave, locks) stay in the test's directory.
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  caddy.stdout!.on('data', (d) => (log = (log + d).slice(-20_000)))
  caddy.stderr!.on('data', (d) => (log = (log + d).slice(-20_000)))
  const started = Date.now()
  let certFile: string | undefined
  while (!certFile && Date.now() - started < 90_000 && caddy.exitCode === null) {
    await new Promise((r) => setTimeout(r, 250))
    try {
      certFile = findFiles(storage, `${site}.crt`)[0]
    } catch {
      // storage not created yet
    }
  }
  return {
    certFile,
    ms: Date.now() - started,
    failure: () => `caddy stored no certificate for ${site} (exit ${caddy.exitCode}):\n${log}\n--- server\n${acme.enroll.output().slice(-4000)}`,
    async stop() {
      if (caddy.exitCode === null) {
        caddy.kill('SIGTERM')
        await new Promise((r) => caddy.once('exit', r))
      }
    },
  }
}

t.test('caddy', async (t) => {
  const acme = await startAcmeRun({}, { capture: true })
  const dir = mkdtempSync(join(tmpdir(), 'caddy-'))
  const site = 'caddy.conformance.test'
  const caddy = await runCaddy(acme, dir, site)
  t.teardown(async () => {
    await caddy.stop()
    writeFixtures('caddy', '2.6', acme.exchanges, acmeKind)
    await acme.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  t.test('ok/automatic-https-obtains-a-certificate', async (t) => {
    if (!caddy.certFile) throw new Error(caddy.failure())
    t.comment(`caddy issuance wall time: ${caddy.ms} ms`)
    const got = checkCertificate(acme.enroll, caddy.certFile)
    t.ok(got.verified, 'openssl verify -CAfile ca.pem')
    t.same(got.sans, [site])
    const stored = readFileSync(caddy.certFile, 'utf8').match(/-----BEGIN CERTIFICATE-----/g) ?? []
    t.equal(stored.length, 2, 'Caddy stored leaf + issuing CA, nothing fetched twice')
    t.equal(await inventoryStatus(acme.enroll, got.serial), 'valid', 'recorded in the inventory')
  })

  t.test('ok/serves-the-certificate-with-an-ocsp-staple', async (t) => {
    if (!caddy.certFile) throw new Error('no certificate')
    const url = `https://${site}:${acme.tlsAlpn01Port}/`
    const body = await runClient(acme.enroll, 'curl', ['-sS', '--cacert', acme.enroll.caBundle, '--resolve',
      `${site}:${acme.tlsAlpn01Port}:127.0.0.1`, url])
    t.equal(body, 'served by caddy', `curl ${url} trusts the served chain`)
    // Caddy fetches the staple in the background after loading the certificate: retried briefly.
    let status = ''
    for (let i = 0; i < 40 && !/Cert Status: good/.test(status); i++) {
      if (i) await new Promise((r) => setTimeout(r, 250))
      status = await runClient(acme.enroll, 'sh', ['-c', `openssl s_client -connect 127.0.0.1:${acme.tlsAlpn01Port} ` +
        `-servername ${site} -status -CAfile ${acme.enroll.caBundle} < /dev/null 2>&1`])
    }
    t.match(status, /OCSP Response Status: successful/, 'a stapled OCSP response')
    t.match(status, /Cert Status: good/, 'saying good')
    t.match(status, /Verify return code: 0 \(ok\)/, 'the chain verifies')
  })
})

t.test('caddy with External Account Binding required', async (t) => {
  const acme = await startAcmeRun({ ENROLL_ACME_EXTERNAL_ACCOUNT_REQUIRED: 'true' })
  const dir = mkdtempSync(join(tmpdir(), 'caddy-eab-'))
  const admin = ['-sS', '--cacert', acme.enroll.caBundle, '-H', `Authorization: Bearer ${acme.enroll.adminKey}`]
  const created = JSON.parse(await runClient(acme.enroll, 'curl', [...admin, '-H', 'Content-Type: application/json', '-d',
    '{"description":"caddy"}', `${acme.enroll.httpsUrl}/api/v1/acme/eab`])) as { keyId: string; hmacKey: string }
  const site = 'eab.caddy.conformance.test'
  const caddy = await runCaddy(acme, dir, site, ['acme_eab {', `  key_id ${created.keyId}`, `  mac_key ${created.hmacKey}`, '}'])
  t.teardown(async () => {
    await caddy.stop()
    await acme.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  t.test('ok/account-bound-to-the-key-then-a-certificate', async (t) => {
    if (!caddy.certFile) throw new Error(caddy.failure())
    const got = checkCertificate(acme.enroll, caddy.certFile)
    t.ok(got.verified, 'openssl verify -CAfile ca.pem')
    t.same(got.sans, [site])
    const listed = JSON.parse(await runClient(acme.enroll, 'curl', [...admin, `${acme.enroll.httpsUrl}/api/v1/acme/eab`])) as {
      items: { keyId: string; accountId?: string }[]
    }
    t.ok(listed.items.find((k) => k.keyId === created.keyId)?.accountId, 'the EAB key is bound to the account Caddy made')
  })
})
