#!/usr/bin/env node
// The `enroll` command line: serve, ca init, certs list/show/revoke, audit tail.
import { userInfo } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { Command, Option } from 'commander'
import { createEabKey, toEabResource } from '../admin/acme.js'
import { toAuditResource, toCertificateResource, toCertificateSummary } from '../admin/resources.js'
import { hashPassword } from '../config/est.js'
import { ConfigError, loadConfig } from '../config/load.js'
import { IssuanceError } from '../errors.js'
import { createLogger } from '../logging.js'
import { serve } from '../main.js'
import { parseReason } from '../pki/revocation-reason.js'
import { openCore, StartupError, type Core } from '../server.js'
import { StoreUnavailableError } from '../store/index.js'
import { createChallengeService } from '../scep/challenges.js'

const program = new Command('enroll')
  .description('Certificate enrollment server: ACME, EST, SCEP, OCSP and CRL over one issuance service')
  .option('-c, --config <file>', 'config file (YAML or JSON); also ENROLL_CONFIG')

const configPath = () => program.opts<{ config?: string }>().config

/** Runs a command against the store and CA without serving. */
async function withCore<T>(fn: (core: Core) => Promise<T>, createCa = false): Promise<T> {
  const config = loadConfig({ configPath: configPath() })
  const core = await openCore(config, createLogger('warn'), { createCa })
  try {
    return await fn(core)
  } finally {
    core.backends.close?.()
    await core.store.close()
  }
}

const actor = () => `cli:${userInfo().username}`
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)

program
  .command('serve')
  .description('run the HTTPS and HTTP listeners (default command of `npm start`)')
  .action(async () => serve(configPath()))

const ca = program.command('ca').description('certificate authorities')
ca.command('init')
  .description('generate the embedded CA in the data directory if it does not exist yet')
  .action(() =>
    withCore(async (core) => {
      for (const b of core.backends.all()) {
        const [issuing] = await b.chain()
        const state = core.backends.generated.includes(b.id) ? 'generated' : 'exists'
        process.stdout.write(`${b.id} (${b.kind}): ${state}, issuing CA ${issuing ? issuing.byteLength : 0} bytes DER\n`)
      }
    }, true),
  )

const certs = program.command('certs').description('the certificate inventory')
certs
  .command('list')
  .description('list certificates, newest first')
  .addOption(new Option('--status <status>').choices(['pending', 'reserved', 'valid', 'expired', 'revoked', 'failed', 'rejected']))
  .option('--profile <name>')
  .option('--san <text>', 'SAN value contains')
  .option('--expiring-before <iso-date>')
  .option('--limit <n>', 'at most n rows', '50')
  .option('--json', 'JSON output')
  .action((o: { status?: 'valid'; profile?: string; san?: string; expiringBefore?: string; limit: string; json?: boolean }) =>
    withCore(async ({ store }) => {
      const expiring = o.expiringBefore ? new Date(o.expiringBefore) : undefined
      if (expiring && Number.isNaN(expiring.getTime())) throw new IssuanceError('badRequest', '--expiring-before is not a date')
      const rows = await store.certificates.list({
        status: o.status,
        profile: o.profile,
        sanContains: o.san,
        expiringBefore: expiring,
        limit: Math.min(Math.max(Number(o.limit) || 50, 1), 10_000),
      })
      if (o.json) {
        print(rows.map(toCertificateSummary))
        return
      }
      for (const r of rows.map(toCertificateSummary)) {
        const names = r.sans.map((s) => s.value).join(',') || r.subject
        process.stdout.write(`${r.id}\t${r.serial}\t${r.status}\t${r.notAfter ?? '-'}\t${r.profile}\t${names}\n`)
      }
    }),
  )
certs
  .command('show <ref>')
  .description('one certificate by id or serial')
  .option('--pem', 'print only the PEM')
  .action((ref: string, o: { pem?: boolean }) =>
    withCore(async ({ issuance }) => {
      const resource = toCertificateResource(await issuance.find(ref))
      if (o.pem) process.stdout.write(resource.pem ?? '')
      else print(resource)
    }),
  )
certs
  .command('revoke <ref>')
  .description('revoke a certificate by id or serial')
  .option('--reason <reason>', 'RFC 5280 CRLReason name or code', 'unspecified')
  .action((ref: string, o: { reason: string }) =>
    withCore(async ({ issuance }) => {
      const reason = parseReason(o.reason)
      if (reason === undefined) throw new IssuanceError('badRequest', `--reason ${o.reason} is not an RFC 5280 CRLReason`)
      const found = await issuance.find(ref)
      const revoked = await issuance.revoke({ id: found.id, reason, actor: actor(), protocol: 'cli' })
      process.stdout.write(`revoked ${revoked.serial} (${o.reason}) at ${revoked.revokedAt?.toISOString()}\n`)
    }),
  )

program
  .command('audit')
  .description('the audit log')
  .command('tail')
  .description('print the newest audit events')
  .option('-n, --lines <n>', 'number of events', '20')
  .option('-f, --follow', 'keep printing new events')
  .action((o: { lines: string; follow?: boolean }) =>
    withCore(async ({ store }) => {
      const newest = await store.audit.list({ limit: Math.max(Number(o.lines) || 20, 1) })
      const line = (e: ReturnType<typeof toAuditResource>) =>
        process.stdout.write(`${JSON.stringify(e)}\n`)
      for (const e of newest.reverse()) line(toAuditResource(e))
      let last = newest.at(-1)?.id ?? '0'
      while (o.follow) {
        await sleep(1000)
        const more = await store.audit.list({ afterId: last, limit: 500, order: 'asc' })
        for (const e of more) line(toAuditResource(e))
        last = more.at(-1)?.id ?? last
      }
    }),
  )

const acme = program.command('acme').description('ACME server state')
const eab = acme.command('eab').description('External Account Binding keys (RFC 8555 §7.3.4)')
eab
  .command('create')
  .description('create an EAB key; prints its key id and HMAC key (shown once)')
  .option('--description <text>', 'what the key is for', '')
  .option('--domain <pattern...>', 'pre-validated DNS patterns (only with acme.eabPreauthorization)')
  .action((o: { description: string; domain?: string[] }) =>
    withCore(async ({ store }) => {
      print(await createEabKey(store, { description: o.description, domains: o.domain ?? [] }))
    }),
  )
eab
  .command('list')
  .description('EAB keys and the accounts they are bound to (never the secret)')
  .action(() =>
    withCore(async ({ store }) => {
      print((await store.acme.eabKeys.list()).map(toEabResource))
    }),
  )
eab
  .command('delete <keyId>')
  .description('withdraw an unbound EAB key')
  .action((keyId: string) =>
    withCore(async ({ store }) => {
      if (!(await store.acme.eabKeys.delete(keyId))) throw new IssuanceError('conflict', `EAB key ${keyId} is bound or does not exist`)
      process.stdout.write(`deleted ${keyId}\n`)
    }),
  )

const requests = program.command('requests').description('requests held for approval (profiles with requireApproval)')
requests
  .command('list')
  .description('pending requests, newest first')
  .option('--profile <name>')
  .action((o: { profile?: string }) =>
    withCore(async ({ store }) => {
      const rows = await store.certificates.list({ status: 'pending', profile: o.profile, limit: 500 })
      for (const r of rows.map(toCertificateSummary)) {
        process.stdout.write(`${r.id}\t${r.profile}\t${r.requester}\t${r.sans.map((n) => n.value).join(',') || r.subject}\n`)
      }
    }),
  )
requests
  .command('approve <id>')
  .description('approve a pending request: it is signed now (audited as request.approved)')
  .action((id: string) =>
    withCore(async ({ issuance }) => {
      const issued = await issuance.approve(id, actor())
      process.stdout.write(`approved ${id}: issued ${issued.certificate.serial}\n`)
    }),
  )
requests
  .command('reject <id>')
  .description('reject a pending request (audited as request.rejected)')
  .option('--reason <text>', 'told to the client', 'rejected by an administrator')
  .action((id: string, o: { reason: string }) =>
    withCore(async ({ issuance }) => {
      await issuance.reject(id, actor(), o.reason)
      process.stdout.write(`rejected ${id}\n`)
    }),
  )

program
  .command('est')
  .description('EST server (RFC 7030)')
  .command('hash-password')
  .description('read a password on stdin; print its scrypt hash for est.labels.<label>.users[].scrypt')
  .action(async () => {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
    if (!password) throw new IssuanceError('badRequest', 'no password on stdin')
    process.stdout.write(`${await hashPassword(password)}\n`)
  })

const scep = program.command('scep').description('SCEP server state (RFC 8894)')
scep
  .command('challenge')
  .description('mint a one-time challengePassword for a SCEP label with dynamicChallenges (printed once, stored hashed)')
  .option('--label <name>', 'SCEP label', 'default')
  .option('--cn <common-name>', 'only a CSR with this common name may use it')
  .option('--ttl <seconds>', 'lifetime in seconds (at most scep.challengeTtlSeconds)')
  .option('--json', 'JSON output')
  .action((o: { label: string; cn?: string; ttl?: string; json?: boolean }) =>
    withCore(async ({ config, store }) => {
      const ttlSeconds = o.ttl === undefined ? undefined : Number(o.ttl)
      const minted = await createChallengeService({ config, store }).mint({ label: o.label, commonName: o.cn, ttlSeconds, actor: actor() })
      if (o.json) print({ ...minted, expiresAt: minted.expiresAt.toISOString() })
      else process.stdout.write(`${minted.challenge}\n`)
    }),
  )

/** Known failures are one line on stderr, no stack trace. */
function fail(e: unknown): never {
  const known =
    e instanceof ConfigError ||
    e instanceof StoreUnavailableError ||
    e instanceof StartupError ||
    e instanceof IssuanceError ||
    (e instanceof Error && /^ca: /.test(e.message))
  const message = e instanceof IssuanceError ? `${e.kind}: ${e.detail}` : e instanceof Error ? e.message : String(e)
  process.stderr.write(`enroll: ${message}\n`)
  if (!known && process.env['ENROLL_DEBUG']) process.stderr.write(`${(e as Error).stack}\n`)
  process.exit(e instanceof ConfigError ? 2 : 1)
}

program.parseAsync(process.argv).catch(fail)
