// OCSP (RFC 6960, RFC 5019 GET and caching, RFC 8954 nonce) and CRLs (RFC 5280 §5: complete, delta,
// partitioned) checked with openssl 3.0 and curl against the built server.
// ENROLL_CAPTURE_FIXTURES=1 also copies the wire messages to fixtures/ (see fixtures/README.md).
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t from 'tap'
import { projectRoot, startEnroll, type Enroll } from '../helpers/server.js'
import {
  cmd,
  crlEntries,
  crlNumber,
  crlText,
  crlUrl,
  foreignLeaf,
  get,
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
function keep(file: string, fixture: string) {
  if (!capture) return
  const to = join(projectRoot, 'fixtures', fixture)
  mkdirSync(dirname(to), { recursive: true })
  copyFileSync(file, to)
}

/** openssl's CRL text for each RFC 5280 §5.3.1 reason (none for unspecified: the extension is left out). */
const crlReasonText: Record<string, string> = {
  keyCompromise: 'Key Compromise',
  superseded: 'Superseded',
  cessationOfOperation: 'Cessation Of Operation',
  unspecified: '',
}

/** `openssl crl -verify` of a CRL file against a CA bundle. */
const verifyCrl = (caBundle: string, file: string, form: 'DER' | 'PEM' = 'DER') =>
  run(cmd`openssl crl -inform ${form} -in ${file} -CAfile ${caBundle} -noout -verify`)

/** `openssl verify -crl_check` of a leaf with the given PEM CRLs (`-use_deltas` when asked). */
const verifyLeaf = (caBundle: string, leaf: Leaf, crls: string[], deltas = false) =>
  run(cmd`openssl verify -crl_check ${deltas ? ['-use_deltas'] : []} -CAfile ${caBundle}
    ${crls.flatMap((c) => ['-CRLfile', c])} ${leaf.file}`)

const toPem = (der: string, pem: string) =>
  must(cmd`openssl crl -inform DER -in ${der} -out ${pem}`)

t.test('OCSP and CRL with openssl', async (t) => {
  let enroll: Enroll = await startEnroll()
  const work = mkdtempSync(join(tmpdir(), 'enroll-rev-openssl-'))
  t.teardown(async () => {
    await enroll.stop()
    rmSync(work, { recursive: true, force: true })
  })
  const file = (name: string) => join(work, name)
  const issuing = writeIssuing(enroll, file('issuing.pem'))
  keep(issuing, 'pki/revocation-issuing-ca.pem') // signed the captured CRLs and the OCSP responder certificate
  const ocsp = (args: string[]) =>
    run(
      cmd`openssl ocsp -issuer ${issuing} ${args} -url ${ocspUrl(enroll)} -CAfile ${enroll.caBundle}`,
    )

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
  for (const [reason, leaf] of revokedLeaves) {
    t.equal((await revoke(enroll, leaf, reason)).status, 'revoked', `revoked ${reason}`)
  }
  const keyCompromise = revokedLeaves[0]![1]
  const never = await unknownLeaf(enroll, work, issuing)
  const foreign = await foreignLeaf(work)

  // What openssl prints as `Reason:` (nothing for unspecified: the response leaves it out, RFC 5280 §5.3.1).
  const expected: [string, Leaf, 'good' | 'revoked' | 'unknown', string | undefined][] = [
    ['good-ec', good, 'good', undefined],
    ['good-rsa', goodRsa, 'good', undefined],
    ...revokedLeaves.map(([reason, leaf]): [string, Leaf, 'revoked', string | undefined] => [
      `revoked-${reason}`,
      leaf,
      'revoked',
      reason === 'unspecified' ? undefined : reason,
    ]),
    ['unknown-never-issued', never, 'unknown', undefined],
  ]

  for (const nonce of [true, false]) {
    const label = nonce ? 'nonce' : 'no-nonce'
    await t.test(`ok/ocsp-post-${label}`, async (t) => {
      for (const [name, leaf, status, reason] of expected) {
        const [req, resp] = [file(`req-${label}-${name}.der`), file(`resp-${label}-${name}.der`)]
        const noNonce = nonce ? [] : ['-no_nonce']
        const r = await ocsp(cmd`${noNonce} -cert ${leaf.file} -reqout ${req} -respout ${resp}`)
        t.equal(r.code, 0, `${name}: exit 0`)
        t.match(r.stderr, /Response verify OK/, `${name}: Response verify OK`)
        t.notMatch(
          r.all,
          /WARNING|Nonce Verify error/,
          `${name}: ${nonce ? 'nonce echoed' : 'no nonce expected'}`,
        )
        const answer = ocspStatuses(r.stdout).get(leaf.file)
        t.equal(answer?.status, status, `${name}: ${status}`)
        t.equal(answer?.reason, reason, `${name}: reason ${reason ?? '(none)'}`)
        if (status === 'revoked') t.ok(answer?.revocationTime, `${name}: revocation time`)
        t.ok(answer?.nextUpdate, `${name}: nextUpdate`)
      }
      if (nonce) {
        keep(file('req-nonce-good-ec.der'), 'ocsp/openssl-ocsp-request-nonce.der')
        keep(file('resp-nonce-good-ec.der'), 'ocsp/openssl-ocsp-response-good.der')
      } else {
        keep(file('req-no-nonce-good-ec.der'), 'ocsp/openssl-ocsp-request-no-nonce.der')
        keep(
          file('resp-no-nonce-revoked-keyCompromise.der'),
          'ocsp/openssl-ocsp-response-revoked.der',
        )
        keep(
          file('resp-no-nonce-unknown-never-issued.der'),
          'ocsp/openssl-ocsp-response-unknown.der',
        )
      }
    })
  }

  await t.test('ok/ocsp-sha256-certid', async (t) => {
    for (const [leaf, status] of [
      [good, 'good'],
      [keyCompromise, 'revoked'],
    ] as const) {
      const req = file(`req-sha256-${status}.der`)
      const r = await ocsp(cmd`-sha256 -cert ${leaf.file} -reqout ${req} -resp_text`)
      t.equal(r.code, 0)
      t.match(r.stderr, /Response verify OK/)
      t.match(r.stdout, /Hash Algorithm: sha256/, 'the response echoes the SHA-256 CertID')
      t.equal(ocspStatuses(r.stdout).get(leaf.file)?.status, status, status)
    }
    keep(file('req-sha256-good.der'), 'ocsp/openssl-ocsp-request-sha256.der')
  })

  await t.test('ok/ocsp-several-certids-in-one-request', async (t) => {
    const r = await ocsp(cmd`-cert ${good.file} -cert ${keyCompromise.file} -cert ${never.file}`)
    t.equal(r.code, 0)
    t.match(r.stderr, /Response verify OK/)
    const answers = ocspStatuses(r.stdout)
    t.equal(answers.get(good.file)?.status, 'good')
    t.equal(answers.get(keyCompromise.file)?.status, 'revoked')
    t.equal(answers.get(keyCompromise.file)?.reason, 'keyCompromise')
    t.equal(answers.get(never.file)?.status, 'unknown')
    // The fixture: two CertIDs (good + revoked) in one requestList (RFC 6960 §4.1.1).
    const two = file('req-two.der')
    t.equal(
      (await ocsp(cmd`-cert ${good.file} -cert ${keyCompromise.file} -reqout ${two}`)).code,
      0,
    )
    keep(two, 'ocsp/openssl-ocsp-request-two-certids.der')
  })

  await t.test('fail/ocsp-foreign-issuer-is-unauthorized', async (t) => {
    const resp = file('resp-unauthorized.der')
    const r =
      await run(cmd`openssl ocsp -issuer ${foreign.ca} -cert ${foreign.leaf.file} -url ${ocspUrl(enroll)}
      -CAfile ${enroll.caBundle} -respout ${resp}`)
    t.not(r.code, 0)
    t.match(r.all, /Responder Error: unauthorized \(6\)/)
    keep(resp, 'ocsp/openssl-ocsp-response-unauthorized.der')
  })

  await t.test('ok/ocsp-get-rfc5019-caching', async (t) => {
    const req = file('req-get.der')
    await must(cmd`openssl ocsp -issuer ${issuing} -cert ${good.file} -no_nonce -reqout ${req}`)
    const url = `${ocspUrl(enroll)}/${encodeURIComponent(readFileSync(req).toString('base64'))}`
    const resp = file('resp-get.der')
    const { code, headers } = await get(url, resp)
    t.equal(code, 200)
    t.equal(headers.get('content-type'), 'application/ocsp-response')
    const r = await run(
      cmd`openssl ocsp -respin ${resp} -CAfile ${enroll.caBundle} -issuer ${issuing} -cert ${good.file}`,
    )
    t.equal(r.code, 0)
    t.match(r.stderr, /Response verify OK/)
    const answer = ocspStatuses(r.stdout).get(good.file)
    t.equal(answer?.status, 'good')

    // RFC 5019 §6.2: max-age within (thisUpdate, nextUpdate), Last-Modified = thisUpdate, Expires = nextUpdate.
    const maxAge = Number(/max-age=(\d+)/.exec(headers.get('cache-control') ?? '')?.[1])
    t.ok(maxAge > 0, `Cache-Control max-age=${maxAge}`)
    const expires = Date.parse(headers.get('expires') ?? '')
    t.ok(
      Date.parse(headers.get('date') ?? '') + maxAge * 1000 <= expires,
      'max-age ends before nextUpdate',
    )
    t.equal(
      Date.parse(headers.get('last-modified') ?? ''),
      Date.parse(answer!.thisUpdate),
      'Last-Modified',
    )
    t.equal(expires, Date.parse(answer!.nextUpdate!), 'Expires is nextUpdate')
    const etag = headers.get('etag') ?? ''
    t.match(etag, /^"[^"]+"$/, 'strong ETag')

    const revalidated = await get(url, '/dev/null', [`If-None-Match: ${etag}`])
    t.equal(revalidated.code, 304, '304 on If-None-Match')
    t.equal(revalidated.headers.get('etag'), etag)
    t.equal(
      (await get(url, '/dev/null', ['If-None-Match: "other"'])).code,
      200,
      '200 on another ETag',
    )
  })

  const statusNow = async (leaf: Leaf) =>
    ocspStatuses((await ocsp(cmd`-no_nonce -cert ${leaf.file}`)).stdout).get(leaf.file)?.status

  /** Polls OCSP without a nonce (a cached answer would be served) until it says revoked: ms, or undefined. */
  const msUntilRevoked = (leaf: Leaf, since: number) =>
    waitFor(
      async () => ((await statusNow(leaf)) === 'revoked' ? Date.now() - since : undefined),
      5_000,
      20,
    )

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

  const cliSkip =
    enroll.store !== 'postgres' && 'the CLI shares a running server’s store only on PostgreSQL'
  await t.test('ok/ocsp-revocation-via-cli-visible-within-1s', { skip: cliSkip }, async (t) => {
    const leaf = await issue(enroll, work, 'visible-cli', 'rsa')
    t.equal(await statusNow(leaf), 'good', 'good before the revocation')
    t.equal(await statusNow(leaf), 'good', 'good again, from the cache')
    // Another process revokes: the server learns of it only through PostgreSQL NOTIFY.
    const [node, ...args] = cmd`${process.execPath} ${join(projectRoot, 'dist/src/cli/index.js')}
      certs revoke ${leaf.id} --reason keyCompromise`
    const cli = spawn(node!, args, {
      env: { ...process.env, ...enroll.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    cli.stdout.on('data', (d: Buffer) => (out += d))
    cli.stderr.on('data', (d: Buffer) => (out += d))
    const exited = new Promise<number | null>((done) => cli.once('close', done))
    const committed = await waitFor(
      async () => (/^revoked /m.test(out) ? Date.now() : undefined),
      30_000,
      5,
    )
    t.ok(committed, `the CLI reported the revocation: ${out.trim()}`)
    const ms = await msUntilRevoked(leaf, committed ?? Date.now())
    t.equal(await exited, 0, 'CLI exit 0')
    lateRevoked.push(leaf)
    t.ok(
      ms !== undefined && ms < 1000,
      `revoked in the running server's OCSP ${ms} ms after the CLI committed`,
    )
  })

  /** Fetches the complete CRL until it lists every serial given (revocations are published after a debounce). */
  async function crlListing(serials: string[], timeoutMs = 10_000) {
    const der = file('crl.der')
    const started = Date.now()
    const text = await waitFor(
      async () => {
        await get(`${crlUrl(enroll)}/local`, der)
        const text = await crlText(der)
        const listed = crlEntries(text)
        return serials.every((s) => listed.has(normSerial(s))) ? text : undefined
      },
      timeoutMs,
      200,
    )
    return { der, text: text ?? '', ms: Date.now() - started }
  }

  await t.test('ok/crl-der-verifies-and-lists-reasons', async (t) => {
    const all = [...revokedLeaves.map(([, l]) => l), ...lateRevoked]
    const { der, text } = await crlListing(all.map((l) => l.serial))
    t.equal(
      (await get(`${crlUrl(enroll)}/local`, der)).headers.get('content-type'),
      'application/pkix-crl',
    )
    const verify = await verifyCrl(enroll.caBundle, der)
    t.equal(verify.code, 0)
    t.match(verify.all, /verify OK/)
    const entries = crlEntries(await crlText(der))
    for (const [reason, leaf] of revokedLeaves) {
      const text = crlReasonText[reason]
      t.equal(entries.get(normSerial(leaf.serial)), text, `${reason}: listed with reason "${text}"`)
    }
    for (const leaf of lateRevoked) t.equal(entries.get(normSerial(leaf.serial)), 'Key Compromise')
    t.notOk(entries.has(normSerial(good.serial)), 'the good leaf is not listed')
    t.match(text, /Version 2/)
    t.match(text, /Authority Key Identifier/, 'Authority Key Identifier')
    t.match(
      text,
      /Freshest CRL:\s*\n\s*Full Name:\s*\n\s*URI:\S+\/crl\/local\/delta/,
      'Freshest CRL: the delta',
    )
    keep(der, 'crl/curl-crl-full.der')
  })

  await t.test('ok/crl-pem-and-default-ca-path', async (t) => {
    const [der, pem] = [file('crl-default.der'), file('crl-local.pem')]
    await get(crlUrl(enroll), der)
    t.equal(
      (await get(`${crlUrl(enroll)}/local.pem`, pem)).headers.get('content-type'),
      'application/x-pem-file',
    )
    t.match(readFileSync(pem, 'utf8'), /^-----BEGIN X509 CRL-----/)
    t.match((await verifyCrl(enroll.caBundle, pem, 'PEM')).all, /verify OK/)
    const [fromPem, fromDefault] = [
      crlNumber(await crlText(pem, 'PEM')),
      crlNumber(await crlText(der)),
    ]
    t.equal(fromPem, fromDefault, '/crl and /crl/local.pem serve the same CRL')
  })

  await t.test('ok/openssl-verify-crl-check', async (t) => {
    const pem = file('crl-check.pem')
    await get(`${crlUrl(enroll)}/local.pem`, pem)
    for (const leaf of [good, goodRsa]) {
      const r = await verifyLeaf(enroll.caBundle, leaf, [pem])
      t.equal(r.code, 0)
      t.match(r.stdout, /: OK/, `${leaf.file}: OK`)
    }
    for (const [reason, leaf] of revokedLeaves) {
      const r = await verifyLeaf(enroll.caBundle, leaf, [pem])
      t.not(r.code, 0)
      t.match(
        r.all,
        /error 23 at 0 depth lookup: certificate revoked/,
        `${reason}: certificate revoked`,
      )
    }
  })

  await t.test('ok/delta-crl-verifies-and-combines', async (t) => {
    const [full, delta] = [file('full.der'), file('delta.der')]
    await get(`${crlUrl(enroll)}/local`, full)
    t.equal(
      (await get(`${crlUrl(enroll)}/local/delta`, delta)).headers.get('content-type'),
      'application/pkix-crl',
    )
    t.match((await verifyCrl(enroll.caBundle, delta)).all, /verify OK/)
    const [fullText, deltaText] = [await crlText(full), await crlText(delta)]
    const base = /Delta CRL Indicator: critical\s*\n\s*(\d+)/.exec(deltaText)?.[1]
    t.equal(
      base,
      String(crlNumber(fullText)),
      'Delta CRL Indicator (critical) names the complete CRL it extends',
    )
    t.ok(crlNumber(deltaText) > crlNumber(fullText), 'the delta is numbered after its base')
    const [fullPem, deltaPem] = [file('full.pem'), file('delta.pem')]
    await toPem(full, fullPem)
    await toPem(delta, deltaPem)
    const ok = await verifyLeaf(enroll.caBundle, good, [fullPem, deltaPem], true)
    t.equal(ok.code, 0)
    t.match(ok.stdout, /: OK/, 'good leaf: OK with full + delta')
    const revoked = await verifyLeaf(enroll.caBundle, keyCompromise, [fullPem, deltaPem], true)
    t.match(
      revoked.all,
      /certificate revoked/,
      'revoked leaf: certificate revoked with full + delta',
    )
    keep(delta, 'crl/curl-crl-delta.der')
  })

  await t.test('ok/crl-304-on-if-none-match', async (t) => {
    for (const path of ['local', 'local/delta']) {
      const first = await get(`${crlUrl(enroll)}/${path}`, file('crl-etag.der'))
      const etag = first.headers.get('etag') ?? ''
      t.match(etag, /^"[^"]+"$/, `${path}: ETag`)
      t.ok(first.headers.get('last-modified'), `${path}: Last-Modified`)
      const again = await get(`${crlUrl(enroll)}/${path}`, '/dev/null', [`If-None-Match: ${etag}`])
      t.equal(again.code, 304, `${path}: 304 on If-None-Match`)
    }
  })

  const numbers = async () => {
    await get(`${crlUrl(enroll)}/local`, file('n-full.der'))
    await get(`${crlUrl(enroll)}/local/delta`, file('n-delta.der'))
    return {
      full: crlNumber(await crlText(file('n-full.der'))),
      delta: crlNumber(await crlText(file('n-delta.der'))),
    }
  }

  await t.test('ok/crl-number-increases-on-revocation', async (t) => {
    const before = await numbers()
    const leaf = await issue(enroll, work, 'crl-number', 'ec')
    await revoke(enroll, leaf, 'superseded')
    const { ms } = await crlListing([leaf.serial])
    const after = await numbers()
    t.comment(`a new CRL listed the revocation after ${ms} ms (debounce included)`)
    t.ok(after.full > before.full, `complete CRL number ${before.full} → ${after.full}`)
    t.ok(after.delta > before.delta, `delta CRL number ${before.delta} → ${after.delta}`)
  })

  await t.test('ok/crl-number-persists-across-restart', async (t) => {
    const before = await numbers()
    const caBefore = readFileSync(enroll.caBundle, 'utf8')
    await enroll.stop({ keep: true })
    enroll = await startEnroll({
      dataDir: enroll.dataDir,
      ...(enroll.schema ? { schema: enroll.schema } : {}),
    })
    t.equal(readFileSync(enroll.caBundle, 'utf8'), caBefore, 'same CA after the restart')
    const restarted = await numbers()
    t.ok(
      restarted.full >= before.full,
      `complete CRL number after the restart ${restarted.full} ≥ ${before.full}`,
    )
    t.match((await verifyCrl(enroll.caBundle, file('n-full.der'))).all, /verify OK/)
    t.equal(await statusNow(keyCompromise), 'revoked', 'OCSP still says revoked after the restart')
    const leaf = await issue(enroll, work, 'after-restart', 'rsa')
    await revoke(enroll, leaf, 'cessationOfOperation')
    await crlListing([leaf.serial])
    const after = await numbers()
    t.ok(after.full > restarted.full, `complete CRL number ${restarted.full} → ${after.full}`)
    t.ok(after.delta > before.delta, `delta CRL number ${before.delta} → ${after.delta}`)
  })
})

t.test('partitioned CRLs (crlShards: 4) with openssl', async (t) => {
  const shards = 4
  const enroll = await startEnroll({
    configText: `backends:\n  local:\n    kind: local\n    crlShards: ${shards}\n`,
  })
  const work = mkdtempSync(join(tmpdir(), 'enroll-rev-shards-'))
  t.teardown(async () => {
    await enroll.stop()
    rmSync(work, { recursive: true, force: true })
  })
  const leaves: Leaf[] = []
  for (let i = 0; i < 6; i++)
    leaves.push(await issue(enroll, work, `shard-${i}`, i % 2 ? 'rsa' : 'ec'))
  // A power-of-two shard count: the server's shard (low 32 bits mod N) is the whole serial mod N.
  const shardOf = (leaf: Leaf) => Number(BigInt(`0x${leaf.serial}`) % BigInt(shards))
  const shardUrl = (shard: number) => `${crlUrl(enroll)}/local/${shard}`

  await t.test('ok/crl-dp-names-the-shard-of-the-serial', async (t) => {
    for (const leaf of leaves) {
      const text = await must(cmd`openssl x509 -in ${leaf.file} -noout -text`)
      const uri = (ext: string) =>
        new RegExp(`${ext}:\\s*\\n\\s*Full Name:\\s*\\n\\s*URI:(\\S+)`).exec(text)?.[1]
      const url = shardUrl(shardOf(leaf))
      t.equal(uri('CRL Distribution Points'), url, `serial ${leaf.serial}: CRL DP ${url}`)
      t.equal(uri('Freshest CRL'), `${url}/delta`, 'Freshest CRL names the shard delta')
    }
  })

  await t.test('ok/shard-crl-lists-its-revocation', async (t) => {
    const target = leaves[0]!
    const shard = shardOf(target)
    // A good leaf in the target's shard and one in another shard, whatever serials the six got: more are issued
    // until both exist (each lands in a shard with probability 1/4), so this test always asserts the same things.
    const pick = async (wanted: (l: Leaf) => boolean, tag: string) => {
      let found = leaves.slice(1).find(wanted)
      for (let i = 0; !found && i < 64; i++) {
        const extra = await issue(enroll, work, `shard-${tag}-${i}`, 'ec')
        if (wanted(extra)) found = extra
      }
      if (!found) throw new Error(`no leaf issued into the wanted shard (${tag})`)
      return found
    }
    const sameShard = await pick((l) => shardOf(l) === shard, 'same')
    const otherShard = await pick((l) => shardOf(l) !== shard, 'other')
    await revoke(enroll, target, 'keyCompromise')
    const der = join(work, 'shard.der')
    const listed = async () => {
      await get(shardUrl(shard), der)
      const text = await crlText(der)
      return crlEntries(text).has(normSerial(target.serial)) ? text : undefined
    }
    const text = (await waitFor(listed, 10_000, 200)) ?? ''
    t.ok(text, `shard ${shard} lists ${target.serial}`)
    t.match((await verifyCrl(enroll.caBundle, der)).all, /verify OK/)
    const idp = /Issuing Distribution Point: critical\s*\n\s*Full Name:\s*\n\s*URI:(\S+)/.exec(
      text,
    )?.[1]
    t.equal(idp, shardUrl(shard), 'critical Issuing Distribution Point naming the shard URL')
    t.match(text, /Only User Certificates/, 'onlyContainsUserCerts')
    t.equal(crlEntries(text).get(normSerial(target.serial)), 'Key Compromise')
    for (let other = 0; other < shards; other++) {
      if (other === shard) continue
      await get(shardUrl(other), join(work, `shard-${other}.der`))
      const entries = crlEntries(await crlText(join(work, `shard-${other}.der`)))
      t.notOk(entries.has(normSerial(target.serial)), `shard ${other} does not list it`)
    }

    const pem = join(work, 'shard.pem')
    await toPem(der, pem)
    const revoked = await verifyLeaf(enroll.caBundle, target, [pem])
    t.match(
      revoked.all,
      /error 23 at 0 depth lookup: certificate revoked/,
      'verify -crl_check: certificate revoked',
    )
    t.match(
      (await verifyLeaf(enroll.caBundle, sameShard, [pem])).stdout,
      /: OK/,
      'same shard, good: OK',
    )
    const scope = await verifyLeaf(enroll.caBundle, otherShard, [pem])
    t.match(scope.all, /different CRL scope/, "a leaf of another shard is out of this CRL's scope")
    const ownPem = join(work, 'own-shard.pem')
    await get(`${shardUrl(shardOf(otherShard))}.pem`, ownPem)
    t.match(
      (await verifyLeaf(enroll.caBundle, otherShard, [ownPem])).stdout,
      /: OK/,
      'with its own shard CRL: OK',
    )

    const deltaPem = join(work, 'shard-delta.pem')
    await get(`${shardUrl(shard)}/delta.pem`, deltaPem)
    const deltaText = await crlText(deltaPem, 'PEM')
    t.match(deltaText, /Delta CRL Indicator: critical/)
    t.match(
      deltaText,
      /Issuing Distribution Point: critical/,
      'the delta has the same scope (RFC 5280 §5.2.4)',
    )
    const combined = await verifyLeaf(enroll.caBundle, target, [pem, deltaPem], true)
    t.match(combined.all, /certificate revoked/, 'full + delta shard CRLs: certificate revoked')
  })

  await t.test('fail/whole-ca-crl-of-a-partitioned-ca-is-404', async (t) => {
    const status = (url: string) => must(cmd`curl -sS -o /dev/null -w %{http_code} ${url}`)
    t.equal(await status(`${crlUrl(enroll)}/local`), '404')
    t.equal(await status(shardUrl(shards)), '404', 'a shard beyond crlShards')
  })
})
