// OCSP (RFC 6960, RFC 5019 GET and caching, RFC 8954 nonce) and CRLs (RFC 5280 §5: complete, delta,
// partitioned) checked with openssl 3.0 and curl against the built server.
// ENROLL_CAPTURE_FIXTURES=1 also writes the wire messages to fixtures/ocsp and fixtures/crl (see fixtures/README.md).
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { projectRoot, startEnroll, type Enroll } from '../helpers/server.js'
import {
  crlEntries,
  crlNumber,
  crlUrl,
  foreignLeaf,
  issue,
  must,
  normSerial,
  ocspStatuses,
  ocspUrl,
  revoke,
  run,
  unknownLeaf,
  waitFor,
  writeIssuing,
  type Leaf,
} from './common.js'

const capture = process.env['ENROLL_CAPTURE_FIXTURES'] === '1'
const fixtures = join(projectRoot, 'fixtures')
function keep(file: string, name: string) {
  if (!capture) return
  mkdirSync(join(fixtures, name.split('/')[0]!), { recursive: true })
  copyFileSync(file, join(fixtures, name))
}

/** openssl's CRL text for each RFC 5280 §5.3.1 reason (absent for unspecified, as §5.3.1 recommends). */
const crlReasonText: Record<string, string> = {
  keyCompromise: 'Key Compromise',
  superseded: 'Superseded',
  cessationOfOperation: 'Cessation Of Operation',
  unspecified: '',
}

/** GET /.well-known/pki/crl/... with curl into a file; returns the response headers, lowercased names. */
async function getCrl(url: string, file: string, headers: string[] = []): Promise<{ code: number; headers: Map<string, string> }> {
  const out = await must('curl', ['-sS', '-D', '-', '-o', file, ...headers.flatMap((h) => ['-H', h]), url])
  return parseHeaders(out)
}

function parseHeaders(raw: string): { code: number; headers: Map<string, string> } {
  const blocks = raw.trim().split(/\r?\n\r?\n/)
  const lines = blocks.at(-1)!.split(/\r?\n/)
  const code = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(lines[0]!)?.[1])
  const headers = new Map<string, string>()
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':')
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim())
  }
  return { code, headers }
}

const crlText = (file: string, der = true) => must('openssl', ['crl', ...(der ? ['-inform', 'DER'] : []), '-in', file, '-noout', '-text'])

t.test('OCSP and CRL with openssl', async (t) => {
  let enroll: Enroll = await startEnroll()
  const work = mkdtempSync(join(tmpdir(), 'enroll-rev-openssl-'))
  t.teardown(async () => {
    await enroll.stop()
    rmSync(work, { recursive: true, force: true })
  })
  const file = (name: string) => join(work, name)
  const issuing = writeIssuing(enroll, file('issuing.pem'))
  const ocsp = (...args: string[]) =>
    run('openssl', ['ocsp', '-issuer', issuing, ...args, '-url', ocspUrl(enroll), '-CAfile', enroll.caBundle])

  // Good: one EC and one RSA. Revoked: one per reason, both key types. Plus a serial we never issued and a
  // certificate of a foreign CA.
  const good = await issue(enroll, work, 'good', 'ec')
  const goodRsa = await issue(enroll, work, 'good-rsa', 'rsa')
  const revokedLeaves: [string, Leaf][] = [
    ['keyCompromise', await issue(enroll, work, 'key-compromise', 'ec')],
    ['superseded', await issue(enroll, work, 'superseded', 'rsa')],
    ['cessationOfOperation', await issue(enroll, work, 'cessation', 'rsa')],
    ['unspecified', await issue(enroll, work, 'unspecified', 'ec')],
  ]
  for (const [reason, leaf] of revokedLeaves) t.equal((await revoke(enroll, leaf, reason)).status, 'revoked', `revoked ${reason}`)
  const keyCompromise = revokedLeaves[0]![1]
  const never = await unknownLeaf(enroll, work, issuing)
  const foreign = await foreignLeaf(work)

  // What openssl prints as Reason: for each (none for unspecified: the response omits it, RFC 5280 §5.3.1).
  const expected: [string, Leaf, 'good' | 'revoked' | 'unknown', string | undefined][] = [
    ['good-ec', good, 'good', undefined],
    ['good-rsa', goodRsa, 'good', undefined],
    ...revokedLeaves.map(([reason, leaf]): [string, Leaf, 'revoked', string | undefined] => [
      `revoked-${reason}`, leaf, 'revoked', reason === 'unspecified' ? undefined : reason,
    ]),
    ['unknown-never-issued', never, 'unknown', undefined],
  ]

  for (const variant of [[], ['-no_nonce']] as const) {
    const label = variant.length ? 'no-nonce' : 'nonce'
    await t.test(`ok/ocsp-post-${label}`, async (t) => {
      for (const [name, leaf, status, reason] of expected) {
        const req = file(`req-${label}-${name}.der`)
        const resp = file(`resp-${label}-${name}.der`)
        const r = await ocsp(...variant, '-cert', leaf.file, '-reqout', req, '-respout', resp)
        t.equal(r.code, 0, `${name}: exit 0`)
        t.match(r.stderr, /Response verify OK/, `${name}: Response verify OK`)
        t.notMatch(r.all, /WARNING|Nonce Verify error/, `${name}: nonce ${variant.length ? 'absent and not expected' : 'echoed'}`)
        const answer = ocspStatuses(r.stdout).get(leaf.file)
        t.equal(answer?.status, status, `${name}: ${status}`)
        t.equal(answer?.reason, reason, `${name}: reason ${reason ?? '(none)'}`)
        if (status === 'revoked') t.ok(answer?.revocationTime, `${name}: revocation time`)
        t.ok(answer?.nextUpdate, `${name}: nextUpdate`)
      }
      if (label === 'nonce') {
        keep(file('req-nonce-good-ec.der'), 'ocsp/openssl-ocsp-request-nonce.der')
        keep(file('resp-nonce-good-ec.der'), 'ocsp/openssl-ocsp-response-good.der')
      } else {
        keep(file('req-no-nonce-good-ec.der'), 'ocsp/openssl-ocsp-request-no-nonce.der')
        keep(file('resp-no-nonce-revoked-keyCompromise.der'), 'ocsp/openssl-ocsp-response-revoked.der')
        keep(file('resp-no-nonce-unknown-never-issued.der'), 'ocsp/openssl-ocsp-response-unknown.der')
      }
    })
  }

  await t.test('ok/ocsp-sha256-certid', async (t) => {
    for (const [name, leaf, status] of [['good', good, 'good'], ['revoked', keyCompromise, 'revoked']] as const) {
      const req = file(`req-sha256-${name}.der`)
      const r = await ocsp('-sha256', '-cert', leaf.file, '-reqout', req, '-resp_text')
      t.equal(r.code, 0)
      t.match(r.stderr, /Response verify OK/)
      t.match(r.stdout, /Hash Algorithm: sha256/, 'the response echoes the SHA-256 CertID')
      t.equal(ocspStatuses(r.stdout).get(leaf.file)?.status, status, `${name}: ${status}`)
    }
    keep(file('req-sha256-good.der'), 'ocsp/openssl-ocsp-request-sha256.der')
  })

  await t.test('ok/ocsp-several-certids-in-one-request', async (t) => {
    const req = file('req-several.der')
    const r = await ocsp('-cert', good.file, '-cert', keyCompromise.file, '-cert', never.file, '-reqout', req)
    t.equal(r.code, 0)
    t.match(r.stderr, /Response verify OK/)
    const answers = ocspStatuses(r.stdout)
    t.equal(answers.get(good.file)?.status, 'good')
    t.equal(answers.get(keyCompromise.file)?.status, 'revoked')
    t.equal(answers.get(keyCompromise.file)?.reason, 'keyCompromise')
    t.equal(answers.get(never.file)?.status, 'unknown')
    // The fixture: two CertIDs (good + revoked), as RFC 6960 §4.1.1 requestList allows.
    const two = file('req-two.der')
    t.equal((await ocsp('-cert', good.file, '-cert', keyCompromise.file, '-reqout', two)).code, 0)
    keep(two, 'ocsp/openssl-ocsp-request-two-certids.der')
  })

  await t.test('fail/ocsp-foreign-issuer-is-unauthorized', async (t) => {
    const resp = file('resp-unauthorized.der')
    const r = await run('openssl', ['ocsp', '-issuer', foreign.ca, '-cert', foreign.leaf.file, '-url', ocspUrl(enroll),
      '-CAfile', enroll.caBundle, '-respout', resp])
    t.not(r.code, 0)
    t.match(r.all, /Responder Error: unauthorized \(6\)/)
    keep(resp, 'ocsp/openssl-ocsp-response-unauthorized.der')
  })

  await t.test('ok/ocsp-get-rfc5019-caching', async (t) => {
    const req = file('req-get.der')
    await must('openssl', ['ocsp', '-issuer', issuing, '-cert', good.file, '-no_nonce', '-reqout', req])
    const getUrl = `${ocspUrl(enroll)}/${encodeURIComponent(readFileSync(req).toString('base64'))}`
    const resp = file('resp-get.der')
    const { code, headers } = parseHeaders(await must('curl', ['-sS', '-D', '-', '-o', resp, getUrl]))
    t.equal(code, 200)
    t.equal(headers.get('content-type'), 'application/ocsp-response')
    const r = await run('openssl', ['ocsp', '-respin', resp, '-CAfile', enroll.caBundle, '-issuer', issuing, '-cert', good.file])
    t.equal(r.code, 0)
    t.match(r.stderr, /Response verify OK/)
    const answer = ocspStatuses(r.stdout).get(good.file)
    t.equal(answer?.status, 'good')

    // RFC 5019 §6.2: max-age within (thisUpdate, nextUpdate), Last-Modified = thisUpdate, Expires = nextUpdate.
    const maxAge = Number(/max-age=(\d+)/.exec(headers.get('cache-control') ?? '')?.[1])
    t.ok(maxAge > 0, `Cache-Control max-age=${maxAge}`)
    const date = Date.parse(headers.get('date') ?? '')
    const expires = Date.parse(headers.get('expires') ?? '')
    t.ok(date + maxAge * 1000 <= expires, 'max-age ends before nextUpdate')
    t.equal(Date.parse(headers.get('last-modified') ?? ''), Date.parse(answer!.thisUpdate), 'Last-Modified is thisUpdate')
    t.equal(expires, Date.parse(answer!.nextUpdate!), 'Expires is nextUpdate')
    const etag = headers.get('etag') ?? ''
    t.match(etag, /^"[^"]+"$/, 'strong ETag')

    const revalidated = parseHeaders(await must('curl', ['-sS', '-D', '-', '-o', '/dev/null', '-H', `If-None-Match: ${etag}`, getUrl]))
    t.equal(revalidated.code, 304, '304 on If-None-Match')
    t.equal(revalidated.headers.get('etag'), etag)
    const changed = parseHeaders(await must('curl', ['-sS', '-D', '-', '-o', '/dev/null', '-H', 'If-None-Match: "other"', getUrl]))
    t.equal(changed.code, 200, '200 on a different ETag')
  })

  /** Polls OCSP without a nonce (so a cached answer would be served) until it says revoked; ms, or undefined. */
  async function msUntilRevoked(leaf: Leaf, since: number): Promise<number | undefined> {
    return waitFor(async () => {
      const r = await ocsp('-no_nonce', '-cert', leaf.file)
      return ocspStatuses(r.stdout).get(leaf.file)?.status === 'revoked' && /Response verify OK/.test(r.stderr)
        ? Date.now() - since
        : undefined
    }, 5_000, 20)
  }

  const statusNow = async (leaf: Leaf) => ocspStatuses((await ocsp('-no_nonce', '-cert', leaf.file)).stdout).get(leaf.file)?.status

  const lateRevoked: Leaf[] = []
  await t.test('ok/ocsp-revocation-via-admin-api-visible-within-1s', async (t) => {
    const leaf = await issue(enroll, work, 'visible-admin', 'ec')
    t.equal(await statusNow(leaf), 'good', 'good before the revocation')
    t.equal(await statusNow(leaf), 'good', 'good again, from the cache')
    await revoke(enroll, leaf, 'keyCompromise')
    const ms = await msUntilRevoked(leaf, Date.now())
    lateRevoked.push(leaf)
    t.ok(ms !== undefined && ms < 1000, `revoked in OCSP ${ms} ms after the admin API answered`)
  })

  await t.test('ok/ocsp-revocation-via-cli-visible-within-1s', { skip: enroll.store !== 'postgres' && 'the CLI shares the store only with PostgreSQL' }, async (t) => {
    const leaf = await issue(enroll, work, 'visible-cli', 'rsa')
    t.equal(await statusNow(leaf), 'good', 'good before the revocation')
    t.equal(await statusNow(leaf), 'good', 'good again, from the cache')
    // Another process revokes: the server learns it only through PostgreSQL NOTIFY.
    const cli = spawn(process.execPath, [join(projectRoot, 'dist/src/cli/index.js'), 'certs', 'revoke', leaf.id, '--reason', 'keyCompromise'],
      { env: { ...process.env, ...enroll.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    cli.stdout.on('data', (d: Buffer) => (out += d))
    cli.stderr.on('data', (d: Buffer) => (out += d))
    const exited = new Promise<number | null>((done) => cli.once('close', done))
    const committed = await waitFor(async () => (/^revoked /m.test(out) ? Date.now() : undefined), 30_000, 5)
    t.ok(committed, `the CLI reported the revocation: ${out.trim()}`)
    const ms = await msUntilRevoked(leaf, committed ?? Date.now())
    t.equal(await exited, 0, 'CLI exit 0')
    lateRevoked.push(leaf)
    t.ok(ms !== undefined && ms < 1000, `revoked in the running server's OCSP ${ms} ms after the CLI committed`)
  })

  /** Fetches the complete CRL until it lists every serial given (revocations are published after a debounce). */
  async function crlListing(serials: string[], timeoutMs = 10_000) {
    const der = file('crl.der')
    const started = Date.now()
    const text = await waitFor(async () => {
      await getCrl(`${crlUrl(enroll)}/local`, der)
      const text = await crlText(der)
      const listed = crlEntries(text)
      return serials.every((s) => listed.has(normSerial(s))) ? text : undefined
    }, timeoutMs, 200)
    return { der, text, ms: Date.now() - started }
  }

  await t.test('ok/crl-der-verifies-and-lists-reasons', async (t) => {
    const all = [...revokedLeaves.map(([, l]) => l), ...lateRevoked]
    const { der, text } = await crlListing(all.map((l) => l.serial))
    const { headers } = await getCrl(`${crlUrl(enroll)}/local`, der)
    t.equal(headers.get('content-type'), 'application/pkix-crl')
    const verify = await run('openssl', ['crl', '-inform', 'DER', '-in', der, '-CAfile', enroll.caBundle, '-noout', '-verify'])
    t.equal(verify.code, 0)
    t.match(verify.all, /verify OK/)
    const entries = crlEntries(await crlText(der))
    for (const [reason, leaf] of revokedLeaves) {
      t.equal(entries.get(normSerial(leaf.serial)), crlReasonText[reason], `${reason}: listed with reason "${crlReasonText[reason]}"`)
    }
    for (const leaf of lateRevoked) t.equal(entries.get(normSerial(leaf.serial)), 'Key Compromise')
    t.notOk(entries.has(normSerial(good.serial)), 'the good leaf is not listed')
    t.match(text, /Authority Key Identifier/, 'Authority Key Identifier')
    t.match(text, /Freshest CRL:\s*\n\s*Full Name:\s*\n\s*URI:\S+\/crl\/local\/delta/, 'Freshest CRL names the delta')
    t.match(text, /Version 2/)
    keep(der, 'crl/curl-crl-full.der')
  })

  await t.test('ok/crl-pem-and-default-ca-path', async (t) => {
    const der = file('crl-default.der')
    const pem = file('crl-local.pem')
    await getCrl(crlUrl(enroll), der)
    const { headers } = await getCrl(`${crlUrl(enroll)}/local.pem`, pem)
    t.equal(headers.get('content-type'), 'application/x-pem-file')
    t.match(readFileSync(pem, 'utf8'), /^-----BEGIN X509 CRL-----/)
    const verify = await run('openssl', ['crl', '-in', pem, '-CAfile', enroll.caBundle, '-noout', '-verify'])
    t.match(verify.all, /verify OK/)
    t.equal(crlNumber(await crlText(pem, false)), crlNumber(await crlText(der)), '/crl and /crl/local.pem are the same CRL')
  })

  await t.test('ok/openssl-verify-crl-check', async (t) => {
    const pem = file('crl-check.pem')
    await getCrl(`${crlUrl(enroll)}/local.pem`, pem)
    for (const leaf of [good, goodRsa]) {
      const r = await run('openssl', ['verify', '-crl_check', '-CAfile', enroll.caBundle, '-CRLfile', pem, leaf.file])
      t.equal(r.code, 0)
      t.match(r.stdout, /: OK/, `${leaf.file}: OK`)
    }
    for (const [reason, leaf] of revokedLeaves) {
      const r = await run('openssl', ['verify', '-crl_check', '-CAfile', enroll.caBundle, '-CRLfile', pem, leaf.file])
      t.not(r.code, 0)
      t.match(r.all, /error 23 at 0 depth lookup: certificate revoked/, `${reason}: certificate revoked`)
    }
  })

  await t.test('ok/delta-crl-verifies-and-combines', async (t) => {
    const full = file('full.der')
    const delta = file('delta.der')
    await getCrl(`${crlUrl(enroll)}/local`, full)
    const { headers } = await getCrl(`${crlUrl(enroll)}/local/delta`, delta)
    t.equal(headers.get('content-type'), 'application/pkix-crl')
    const verify = await run('openssl', ['crl', '-inform', 'DER', '-in', delta, '-CAfile', enroll.caBundle, '-noout', '-verify'])
    t.match(verify.all, /verify OK/)
    const fullText = await crlText(full)
    const deltaText = await crlText(delta)
    const base = /Delta CRL Indicator: critical\s*\n\s*(\d+)/.exec(deltaText)?.[1]
    t.equal(base, String(crlNumber(fullText)), 'Delta CRL Indicator (critical) names the complete CRL it extends')
    t.ok(crlNumber(deltaText) > crlNumber(fullText), 'the delta is numbered after its base')
    const fullPem = file('full.pem')
    const deltaPem = file('delta.pem')
    await must('openssl', ['crl', '-inform', 'DER', '-in', full, '-out', fullPem])
    await must('openssl', ['crl', '-inform', 'DER', '-in', delta, '-out', deltaPem])
    const verifyLeaf = (leaf: Leaf) => run('openssl', ['verify', '-crl_check', '-use_deltas', '-CAfile', enroll.caBundle,
      '-CRLfile', fullPem, '-CRLfile', deltaPem, leaf.file])
    const ok = await verifyLeaf(good)
    t.equal(ok.code, 0)
    t.match(ok.stdout, /: OK/, 'good leaf: OK with full + delta')
    const revoked = await verifyLeaf(keyCompromise)
    t.match(revoked.all, /certificate revoked/, 'revoked leaf: certificate revoked with full + delta')
    keep(delta, 'crl/curl-crl-delta.der')
  })

  await t.test('ok/crl-304-on-if-none-match', async (t) => {
    const der = file('crl-etag.der')
    const first = await getCrl(`${crlUrl(enroll)}/local`, der)
    const etag = first.headers.get('etag') ?? ''
    t.match(etag, /^"[^"]+"$/)
    t.ok(first.headers.get('last-modified'), 'Last-Modified')
    const again = await getCrl(`${crlUrl(enroll)}/local`, file('crl-304'), [`If-None-Match: ${etag}`])
    t.equal(again.code, 304)
    const delta = await getCrl(`${crlUrl(enroll)}/local/delta`, file('delta-etag.der'))
    const deltaAgain = await getCrl(`${crlUrl(enroll)}/local/delta`, file('delta-304'), [`If-None-Match: ${delta.headers.get('etag')}`])
    t.equal(deltaAgain.code, 304, 'delta: 304 too')
  })

  const numbers = async () => {
    await getCrl(`${crlUrl(enroll)}/local`, file('n-full.der'))
    await getCrl(`${crlUrl(enroll)}/local/delta`, file('n-delta.der'))
    return { full: crlNumber(await crlText(file('n-full.der'))), delta: crlNumber(await crlText(file('n-delta.der'))) }
  }

  await t.test('ok/crl-number-increases-on-revocation', async (t) => {
    const before = await numbers()
    const leaf = await issue(enroll, work, 'crl-number', 'ec')
    await revoke(enroll, leaf, 'superseded')
    const { ms } = await crlListing([leaf.serial])
    const after = await numbers()
    t.comment(`new CRL listing the revocation after ${ms} ms (debounce included)`)
    t.ok(after.full > before.full, `complete CRL number ${before.full} → ${after.full}`)
    t.ok(after.delta > before.delta, `delta CRL number ${before.delta} → ${after.delta}`)
  })

  await t.test('ok/crl-number-persists-across-restart', async (t) => {
    const before = await numbers()
    const caBefore = readFileSync(enroll.caBundle, 'utf8')
    await enroll.stop({ keep: true })
    enroll = await startEnroll({ dataDir: enroll.dataDir, ...(enroll.schema ? { schema: enroll.schema } : {}) })
    t.equal(readFileSync(enroll.caBundle, 'utf8'), caBefore, 'same CA after the restart')
    const restarted = await numbers()
    t.ok(restarted.full >= before.full, `complete CRL number after restart ${restarted.full} ≥ ${before.full}`)
    const verify = await run('openssl', ['crl', '-inform', 'DER', '-in', file('n-full.der'), '-CAfile', enroll.caBundle, '-noout', '-verify'])
    t.match(verify.all, /verify OK/)
    const r = await ocsp('-no_nonce', '-cert', keyCompromise.file)
    t.equal(ocspStatuses(r.stdout).get(keyCompromise.file)?.status, 'revoked', 'OCSP still says revoked after the restart')
    const leaf = await issue(enroll, work, 'after-restart', 'rsa')
    await revoke(enroll, leaf, 'cessationOfOperation')
    await crlListing([leaf.serial])
    const after = await numbers()
    t.ok(after.full > restarted.full && after.full > before.full, `complete CRL number ${restarted.full} → ${after.full}`)
    t.ok(after.delta > before.delta, `delta CRL number ${before.delta} → ${after.delta}`)
  })
})

t.test('partitioned CRLs (crlShards: 4) with openssl', async (t) => {
  const shards = 4n
  const enroll = await startEnroll({ configText: 'backends:\n  local:\n    kind: local\n    crlShards: 4\n' })
  const work = mkdtempSync(join(tmpdir(), 'enroll-rev-shards-'))
  t.teardown(async () => {
    await enroll.stop()
    rmSync(work, { recursive: true, force: true })
  })
  const leaves: Leaf[] = []
  for (let i = 0; i < 6; i++) leaves.push(await issue(enroll, work, `shard-${i}`, i % 2 ? 'rsa' : 'ec'))
  const shardOf = (leaf: Leaf) => Number(BigInt(`0x${leaf.serial}`) % shards)
  const shardUrl = (shard: number) => `${crlUrl(enroll)}/local/${shard}`

  await t.test('ok/crl-dp-names-the-shard-of-the-serial', async (t) => {
    for (const leaf of leaves) {
      const text = await must('openssl', ['x509', '-in', leaf.file, '-noout', '-text'])
      const dp = /CRL Distribution Points:\s*\n\s*Full Name:\s*\n\s*URI:(\S+)/.exec(text)?.[1]
      t.equal(dp, shardUrl(shardOf(leaf)), `serial ${leaf.serial}: CRL DP ends in /crl/local/${shardOf(leaf)}`)
      const freshest = /Freshest CRL:\s*\n\s*Full Name:\s*\n\s*URI:(\S+)/.exec(text)?.[1]
      t.equal(freshest, `${shardUrl(shardOf(leaf))}/delta`, 'Freshest CRL names the shard delta')
    }
  })

  await t.test('ok/shard-crl-lists-its-revocation', async (t) => {
    const target = leaves[0]!
    const shard = shardOf(target)
    await revoke(enroll, target, 'keyCompromise')
    const der = join(work, 'shard.der')
    const text = await waitFor(async () => {
      await getCrl(shardUrl(shard), der)
      const text = await crlText(der)
      return crlEntries(text).has(normSerial(target.serial)) ? text : undefined
    }, 10_000, 200)
    t.ok(text, `shard ${shard} lists ${target.serial}`)
    const verify = await run('openssl', ['crl', '-inform', 'DER', '-in', der, '-CAfile', enroll.caBundle, '-noout', '-verify'])
    t.match(verify.all, /verify OK/)
    t.match(text ?? '', new RegExp(`Issuing Distribution Point: critical\\s*\\n\\s*Full Name:\\s*\\n\\s*URI:${shardUrl(shard).replace(/[.]/g, '\\.')}\\s`),
      'critical Issuing Distribution Point naming the shard URL')
    t.match(text ?? '', /Only User Certificates/, 'onlyContainsUserCerts')
    t.equal(crlEntries(text ?? '').get(normSerial(target.serial)), 'Key Compromise')

    for (let other = 0; other < Number(shards); other++) {
      if (other === shard) continue
      await getCrl(shardUrl(other), join(work, `shard-${other}.der`))
      t.notOk(crlEntries(await crlText(join(work, `shard-${other}.der`))).has(normSerial(target.serial)), `shard ${other} does not list it`)
    }

    const pem = join(work, 'shard.pem')
    await must('openssl', ['crl', '-inform', 'DER', '-in', der, '-out', pem])
    const revoked = await run('openssl', ['verify', '-crl_check', '-CAfile', enroll.caBundle, '-CRLfile', pem, target.file])
    t.match(revoked.all, /error 23 at 0 depth lookup: certificate revoked/, 'openssl verify -crl_check: certificate revoked')

    const sameShard = leaves.slice(1).find((l) => shardOf(l) === shard)
    if (sameShard) {
      const ok = await run('openssl', ['verify', '-crl_check', '-CAfile', enroll.caBundle, '-CRLfile', pem, sameShard.file])
      t.match(ok.stdout, /: OK/, 'a good leaf of the same shard: OK')
    }
    const otherShard = leaves.find((l) => shardOf(l) !== shard)!
    const scope = await run('openssl', ['verify', '-crl_check', '-CAfile', enroll.caBundle, '-CRLfile', pem, otherShard.file])
    t.match(scope.all, /different CRL scope/, "a leaf of another shard is out of this CRL's scope")
    const ownPem = join(work, 'own-shard.pem')
    await getCrl(`${shardUrl(shardOf(otherShard))}.pem`, ownPem)
    const own = await run('openssl', ['verify', '-crl_check', '-CAfile', enroll.caBundle, '-CRLfile', ownPem, otherShard.file])
    t.match(own.stdout, /: OK/, 'that leaf with its own shard CRL: OK')

    const deltaPem = join(work, 'shard-delta.pem')
    await getCrl(`${shardUrl(shard)}/delta.pem`, deltaPem)
    const deltaText = await crlText(deltaPem, false)
    t.match(deltaText, /Delta CRL Indicator: critical/)
    t.match(deltaText, /Issuing Distribution Point: critical/, 'the delta has the same scope (RFC 5280 §5.2.4)')
    const combined = await run('openssl', ['verify', '-crl_check', '-use_deltas', '-CAfile', enroll.caBundle, '-CRLfile', pem,
      '-CRLfile', deltaPem, target.file])
    t.match(combined.all, /certificate revoked/, 'full + delta shard CRLs: certificate revoked')
  })

  await t.test('fail/whole-ca-crl-of-a-partitioned-ca-is-404', async (t) => {
    const r = await must('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `${crlUrl(enroll)}/local`])
    t.equal(r, '404')
    const beyond = await must('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', shardUrl(Number(shards))])
    t.equal(beyond, '404', 'a shard beyond crlShards')
  })
})
