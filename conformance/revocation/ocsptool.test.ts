// OCSP (RFC 6960) with GnuTLS ocsptool, and CRL signatures (RFC 5280 §5) with GnuTLS certtool: an
// implementation independent of OpenSSL against the built server.
// Quirk (gnutls 3.7): `--ask <url>` is refused ("Command line arguments are not allowed"); write `--ask=<url>`,
// or `--ask` alone to use the certificate's AIA OCSP URL.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startEnroll } from '../helpers/server.js'
import {
  cmd,
  crlUrl,
  foreignLeaf,
  issue,
  must,
  ocspUrl,
  revoke,
  run,
  unknownLeaf,
  waitFor,
  writeIssuing,
  type Leaf,
} from './common.js'

/** The `Certificate Status:` ocsptool printed, and whether it verified the response's signature. */
const statusOf = (out: string) => /Certificate Status: (\w+)/.exec(out)?.[1]
const verified = (out: string) => /Verifying OCSP Response: Success\./.test(out)

t.test('OCSP with gnutls ocsptool, CRLs with gnutls certtool', async (t) => {
  const enroll = await startEnroll()
  const work = mkdtempSync(join(tmpdir(), 'enroll-rev-gnutls-'))
  t.teardown(async () => {
    await enroll.stop()
    rmSync(work, { recursive: true, force: true })
  })
  const issuing = writeIssuing(enroll, join(work, 'issuing.pem'))
  const good = await issue(enroll, work, 'good', 'ec')
  const revoked = await issue(enroll, work, 'revoked', 'rsa')
  t.equal((await revoke(enroll, revoked, 'keyCompromise')).status, 'revoked')
  const never = await unknownLeaf(enroll, work, issuing)
  const foreign = await foreignLeaf(work)

  /** ocsptool --ask=<our URL> for a leaf of our issuing CA, trusting `trust` (default: the CA bundle). */
  const ask = (leaf: Leaf, { trust = enroll.caBundle, extra = [] as string[] } = {}) =>
    run(cmd`ocsptool --ask=${ocspUrl(enroll)} --load-issuer ${issuing} --load-cert ${leaf.file}
      --load-trust ${trust} ${extra}`)

  await t.test('ok/ocsptool-ask-good', async (t) => {
    const r = await ask(good)
    t.equal(r.code, 0)
    t.equal(statusOf(r.all), 'good')
    t.ok(verified(r.all), 'Verifying OCSP Response: Success.')
    t.match(r.all, /Responder Key ID: [0-9a-f]{40}/, 'ResponderID byKey')
  })

  await t.test('ok/ocsptool-ask-revoked', async (t) => {
    const r = await ask(revoked)
    t.equal(r.code, 0)
    t.equal(statusOf(r.all), 'revoked')
    t.match(r.all, /Revocation time: /)
    t.ok(verified(r.all), 'Verifying OCSP Response: Success.')
  })

  await t.test('ok/ocsptool-ask-unknown-serial', async (t) => {
    const r = await ask(never)
    t.equal(r.code, 0)
    t.equal(statusOf(r.all), 'unknown')
    t.ok(verified(r.all))
  })

  await t.test('ok/ocsptool-nonce-echoed', async (t) => {
    const r = await ask(good, { extra: ['--nonce'] })
    t.equal(r.code, 0)
    t.match(r.all, /Extensions:\s*\n\s*Nonce: [0-9a-f]+/, 'the response carries the nonce')
    t.ok(verified(r.all), 'ocsptool compares the nonce and verifies the signature')
  })

  await t.test('ok/ocsptool-ask-url-from-aia', async (t) => {
    const r = await run(
      cmd`ocsptool --ask --load-issuer ${issuing} --load-cert ${revoked.file} --load-trust ${enroll.caBundle}`,
    )
    t.equal(r.code, 0)
    t.match(r.all, `Connecting to OCSP server: ${new URL(enroll.httpUrl).hostname}`)
    t.equal(statusOf(r.all), 'revoked')
    t.ok(verified(r.all))
  })

  await t.test('ok/ocsptool-trusting-the-issuing-ca-alone', async (t) => {
    const r = await ask(good, { trust: issuing })
    t.equal(r.code, 0)
    t.ok(verified(r.all), 'the delegated responder chains to the issuing CA')
  })

  await t.test('ok/ocsptool-verifies-a-saved-response', async (t) => {
    const resp = join(work, 'revoked-response.der')
    t.equal((await ask(revoked, { extra: ['--outfile', resp] })).code, 0)
    const r = await run(cmd`ocsptool -e --load-trust ${enroll.caBundle} --load-response ${resp}`)
    t.equal(r.code, 0)
    t.equal(statusOf(r.all), 'revoked')
    t.ok(verified(r.all))
  })

  await t.test('fail/ocsptool-untrusted-anchor', async (t) => {
    const r = await ask(good, { trust: foreign.ca })
    t.not(r.code, 0)
    t.match(r.all, /Verifying OCSP Response: Failure, Signer cert is not trusted/)
  })

  await t.test('fail/ocsptool-foreign-issuer-unauthorized', async (t) => {
    const r = await run(cmd`ocsptool --ask=${ocspUrl(enroll)} --load-issuer ${foreign.ca}
      --load-cert ${foreign.leaf.file} --load-trust ${enroll.caBundle}`)
    t.not(r.code, 0)
    t.match(r.all, /Response Status: unauthorized/)
  })

  await t.test('ok/certtool-verifies-crl-and-chain-with-crl', async (t) => {
    const crl = join(work, 'crl.pem')
    // The revocation is published after a debounce.
    const listing = async () => {
      await must(cmd`curl -sS --fail -o ${crl} ${crlUrl(enroll)}/local.pem`)
      const info = await must(cmd`certtool --crl-info --infile ${crl}`)
      return info.includes(`Serial Number (hex): ${revoked.serial}`) ? info : undefined
    }
    const info = (await waitFor(listing, 10_000, 200)) ?? ''
    t.ok(info, 'the CRL lists the revoked serial')
    t.match(info, /CRL Number \(not critical\): /)
    t.match(info, /Authority Key Identifier \(not critical\)/)
    const signature = await run(
      cmd`certtool --verify-crl --load-ca-certificate ${issuing} --infile ${crl}`,
    )
    t.equal(signature.code, 0)
    t.match(signature.all, /Verification output: Verified\./)
    const wrongCa = await run(
      cmd`certtool --verify-crl --load-ca-certificate ${foreign.ca} --infile ${crl}`,
    )
    t.not(wrongCa.code, 0, 'not verified against a foreign CA')
    const chain = (leaf: Leaf) =>
      run(
        cmd`certtool --verify --load-ca-certificate ${enroll.caBundle} --load-crl ${crl} --infile ${leaf.file}`,
      )
    const goodChain = await chain(good)
    t.equal(goodChain.code, 0)
    t.match(goodChain.all, /Chain verification output: Verified\./)
    const revokedChain = await chain(revoked)
    t.not(revokedChain.code, 0)
    t.match(revokedChain.all, /The certificate chain is revoked/)
  })

  await t.test('ok/certtool-verifies-delta-crl', async (t) => {
    const delta = join(work, 'delta.pem')
    await must(cmd`curl -sS --fail -o ${delta} ${crlUrl(enroll)}/local/delta.pem`)
    const r = await run(
      cmd`certtool --verify-crl --load-ca-certificate ${issuing} --infile ${delta}`,
    )
    t.equal(r.code, 0)
    t.match(r.all, /Verification output: Verified\./)
    const info = await must(cmd`certtool --crl-info --infile ${delta}`)
    t.match(info, /2\.5\.29\.27 \(critical\)/, 'Delta CRL Indicator, critical')
  })
})
