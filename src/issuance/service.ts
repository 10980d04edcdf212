// The one issuance path: policy → write-ahead reservation → CA backend → inventory → audit.
// Every protocol and the admin API call this; nothing else signs certificates.
import { createHash } from 'node:crypto'
import { x509 } from '../pki/x509.js'
import type { Logger } from 'pino'
import { AuditAction } from '../audit/events.js'
import type { CaBackend, CanGenerateKey, EscrowedKey, KeyedSignResult, SignRequest, SignResult } from '../ca/backend.js'
import { canGenerateKey, canRecover, SignOutcomeUnknown } from '../ca/backend.js'
import type { BackendRegistry } from '../ca/registry.js'
import type { Config } from '../config/schema.js'
import { IssuanceError } from '../errors.js'
import type { EventBus } from '../events.js'
import type { Identifier } from '../pki/csr.js'
import type { Der } from '../pki/pem.js'
import { requestableReasons } from '../pki/revocation-reason.js'
import { newSerial, normalizeSerial } from '../pki/serial.js'
import { BACKDATE_MS, compileProfile, evaluate, requireAllowedIdentifiers, type CompiledProfile, type Decision } from '../policy/evaluate.js'
import type { CertificateRecord, Store } from '../store/index.js'
import { requireRenewable } from './renewal.js'
import { requestWithServerKey } from './server-keygen.js'
import type { IssueOptions, IssueOutcome, IssueRequest, Protocol, RevokeInput } from './types.js'

export interface IssuanceMetrics {
  observeIssuance(outcome: 'issued' | 'pending' | 'denied' | 'failed', profile: string, protocol: string, seconds: number): void
}

export interface IssuanceDeps {
  config: Pick<Config, 'profiles' | 'reconcileAfterSeconds'>
  store: Store
  backends: BackendRegistry
  logger: Logger
  metrics?: IssuanceMetrics | undefined
  /** Revocations are announced here (OCSP and CRL caches listen). */
  events?: EventBus | undefined
  now?: () => Date
}

interface PlanJson {
  subjectDer: string
  publicKeyDer: string
  sans: Identifier[]
  notBefore: string
  notAfter: string
  keyUsage: Decision['keyUsage']
  extKeyUsage: string[]
  /** Inventory id of the certificate this one renews (IssueRequest.replaces). */
  replaces?: string
}

const b64 = (d: Uint8Array) => Buffer.from(d).toString('base64')
const unb64 = (s: string): Der => new Uint8Array(Buffer.from(s, 'base64'))

const toPlanJson = (d: Decision, publicKeyDer: Der, replaces?: string): PlanJson => ({
  subjectDer: b64(d.subjectDer),
  publicKeyDer: b64(publicKeyDer),
  sans: d.sans,
  notBefore: d.notBefore.toISOString(),
  notAfter: d.notAfter.toISOString(),
  keyUsage: d.keyUsage,
  extKeyUsage: d.extKeyUsage,
  ...(replaces ? { replaces } : {}),
})

function signRequestFromRecord(record: CertificateRecord): SignRequest {
  const plan = record.plan as unknown as PlanJson
  return {
    reservationId: record.id,
    serial: record.serial,
    profile: record.profile,
    subjectDer: unb64(plan.subjectDer),
    publicKeyDer: unb64(plan.publicKeyDer),
    sans: plan.sans,
    notBefore: new Date(plan.notBefore),
    notAfter: new Date(plan.notAfter),
    keyUsage: plan.keyUsage,
    extKeyUsage: plan.extKeyUsage,
    csrDer: record.csrDer ?? undefined,
    reservedAt: record.createdAt,
  }
}

export const fingerprint = (der: Uint8Array) => createHash('sha256').update(der).digest('hex')

export function createIssuanceService(deps: IssuanceDeps) {
  const { store, backends, logger } = deps
  const now = deps.now ?? (() => new Date())
  const profiles = new Map<string, CompiledProfile>(
    Object.entries(deps.config.profiles).map(([name, cfg]) => [name, compileProfile(name, cfg)]),
  )
  const issuerNotAfter = new Map<string, number>()

  function profileOf(name: string): CompiledProfile {
    const p = profiles.get(name)
    if (!p) throw new IssuanceError('unknownProfile', `profile "${name}" does not exist`)
    return p
  }

  function backendOf(id: string): CaBackend {
    const b = backends.get(id)
    if (!b) throw new IssuanceError('backendUnavailable', `CA backend "${id}" is not configured`)
    return b
  }

  /** A certificate may not outlive its issuer (RFC 5280 §6 path validation would reject it). */
  async function issuerLimit(backend: CaBackend): Promise<number> {
    let limit = issuerNotAfter.get(backend.id)
    if (limit === undefined) {
      const [issuing] = await backend.chain()
      limit = issuing ? new x509.X509Certificate(issuing).notAfter.getTime() : Infinity
      issuerNotAfter.set(backend.id, limit)
    }
    return limit
  }

  async function capToIssuer(backend: CaBackend, decision: Decision): Promise<Decision> {
    const limit = await issuerLimit(backend)
    if (decision.notAfter.getTime() <= limit) return decision
    return { ...decision, notAfter: new Date(limit) }
  }


  /**
   * An approved request is signed later than it was decided: its validity starts now (backdated as usual) and
   * keeps the decided length, capped at the issuer's notAfter.
   */
  async function startingNow(record: CertificateRecord): Promise<CertificateRecord> {
    const plan = record.plan as unknown as PlanJson
    const notBefore = new Date(now().getTime() - BACKDATE_MS)
    const length = new Date(plan.notAfter).getTime() - new Date(plan.notBefore).getTime()
    let notAfter = new Date(notBefore.getTime() + length)
    const limit = await issuerLimit(backendOf(record.backendId))
    if (notAfter.getTime() > limit) notAfter = new Date(limit)
    return { ...record, plan: { ...plan, notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString() } }
  }

  /**
   * Signs a reserved record and records the result; the inventory holds every certificate signed. `withKey`: the
   * CA generates the key pair (CanGenerateKey) and the result carries the private key.
   */
  async function signReserved(
    record: CertificateRecord,
    actor: string,
    protocol: string,
    requestId?: string,
    withKey = false,
    replyWhileRecording?: IssueOptions['replyWhileRecording'],
  ) {
    const backend = backendOf(record.backendId)
    const signReq = signRequestFromRecord(record)
    let signed: SignResult | KeyedSignResult
    try {
      signed = withKey && canGenerateKey(backend) ? await backend.issueWithKey(signReq) : await backend.sign(signReq)
    } catch (e) {
      const detail =
        e instanceof IssuanceError || e instanceof SignOutcomeUnknown ? (e instanceof IssuanceError ? e.detail : e.message) : `CA backend "${backend.id}" failed to sign`
      logger.error({ err: e, serial: record.serial, backend: backend.id }, 'signing failed')
      if (e instanceof SignOutcomeUnknown && canRecover(backend)) {
        // The CA may still issue: the reservation stays open and the reconciler completes or voids it.
        await store.audit.append({
          action: AuditAction.failed,
          actor,
          protocol,
          requestId,
          certificateId: record.id,
          serial: record.serial,
          detail: { reason: detail, outcome: 'unknown', reservation: 'left for the reconciler' },
        })
        throw new IssuanceError('backendUnavailable', detail, { cause: e })
      }
      await store.certificates.fail(record.id, detail, {
        action: AuditAction.failed,
        actor,
        protocol,
        requestId,
        detail: { reason: detail },
      })
      throw e instanceof IssuanceError ? e : new IssuanceError('backendUnavailable', detail, { cause: e })
    }
    const validity =
      signed.notBefore && signed.notAfter
        ? { notBefore: signed.notBefore, notAfter: signed.notAfter }
        : new x509.X509Certificate(signed.certificateDer)
    // The protocol's reply is built while the certificate is recorded (two waits overlapped); a reply that fails to
    // build is dropped, never the issuance.
    const replying = replyWhileRecording?.(signed.certificateDer, signed.chainDer).catch((err: unknown) => {
      logger.warn({ err, serial: record.serial }, 'the early reply failed; the protocol builds it again')
      return undefined
    })
    const done = await store.certificates.complete(
      record.id,
      {
        der: signed.certificateDer,
        notBefore: validity.notBefore,
        notAfter: validity.notAfter,
        fingerprintSha256: fingerprint(signed.certificateDer),
        serial: signed.serial === undefined ? undefined : normalizeSerial(signed.serial),
      },
      { action: AuditAction.issued, actor, protocol, requestId, detail: { profile: record.profile } },
    )
    const replaces = (record.plan as unknown as PlanJson).replaces
    if (replaces) {
      const audit = { action: AuditAction.superseded, actor, protocol, requestId, detail: { by: done.serial } }
      if (!(await store.certificates.supersede(replaces, done.id, audit))) {
        logger.warn({ replaces, serial: done.serial }, 'renewed certificate was no longer valid or already superseded')
      }
    }
    const issued = {
      status: 'issued' as const,
      certificate: done,
      certificateDer: signed.certificateDer,
      chainDer: signed.chainDer,
      reply: await replying,
    }
    if (!withKey || !('privateKeyPkcs8' in signed) || !canGenerateKey(backend)) return issued
    const keyed = signed as KeyedSignResult
    await escrow(backend, record, done, keyed, actor, protocol, requestId)
    return { ...issued, privateKeyPkcs8: keyed.privateKeyPkcs8 }
  }

  /** The escrow record of a certificate: that of the first certificate of its renewal line. */
  async function escrowIdOf(record: CertificateRecord): Promise<string> {
    let current = record
    for (let hops = 0; hops < 1000; hops++) {
      const replaces = (current.plan as unknown as PlanJson).replaces
      const older = replaces ? await store.certificates.getById(replaces) : undefined
      if (!older) return current.id
      current = older
    }
    return current.id
  }

  /**
   * Keeps a CA-generated key in the backend's escrow. Should that fail, the certificate (already recorded) is
   * revoked, so no certificate is left whose key nobody holds in escrow, and the request fails.
   */
  async function escrow(
    backend: CaBackend & CanGenerateKey,
    record: CertificateRecord,
    done: CertificateRecord,
    signed: KeyedSignResult,
    actor: string,
    protocol: string,
    requestId?: string,
  ): Promise<void> {
    const escrowId = await escrowIdOf(record)
    try {
      const version = await backend.escrowKey(escrowId, {
        certificateDer: signed.certificateDer,
        privateKeyPkcs8: signed.privateKeyPkcs8,
        chainDer: signed.chainDer,
        serial: done.serial,
        certificateId: done.id,
        notAfter: done.notAfter!,
      })
      await store.audit.append({
        action: AuditAction.keyEscrowed,
        actor,
        protocol,
        requestId,
        certificateId: done.id,
        serial: done.serial,
        detail: { backend: backend.id, escrowId, version },
      })
    } catch (e) {
      const detail = e instanceof IssuanceError ? e.detail : `CA backend "${backend.id}" failed to escrow the key`
      logger.error({ err: e, serial: done.serial }, 'key escrow failed; revoking the certificate')
      const at = now()
      const reason = 5 // cessationOfOperation: the certificate is not going to be used
      await store.certificates.revoke(done.id, { reason, at }, {
        action: AuditAction.revoked,
        actor: 'system',
        protocol,
        requestId,
        detail: { reason, why: `key escrow failed: ${detail}` },
      })
      deps.events?.emit('revoked', { backendId: backend.id, serial: done.serial })
      await backend.revoke({ serial: done.serial, reason, revokedAt: at }).catch((err: unknown) =>
        logger.error({ err, serial: done.serial }, 'CA backend revocation after failed escrow failed'),
      )
      throw new IssuanceError('backendUnavailable', `key escrow failed: ${detail}`, { cause: e })
    }
  }

  return {
    /** Profiles offered to enrollment protocols. */
    exposedProfiles(): { name: string; description: string }[] {
      return [...profiles.values()]
        .filter((p) => p.config.exposed)
        .map((p) => ({ name: p.name, description: p.config.description }))
    },

    hasProfile: (name: string) => profiles.has(name),

    /**
     * Checks identifiers against a profile before any work is done for them (ACME newOrder); throws
     * IssuanceError('policyDenied' | 'unknownProfile') as issue() would for the same identifiers.
     */
    checkIdentifiers(profile: string | undefined, identifiers: Identifier[]): void {
      requireAllowedIdentifiers(identifiers, undefined, profileOf(profile ?? 'default').patterns, false)
    },

    /** CA chain (issuing first) that signs for a profile. */
    async chainFor(profile = 'default'): Promise<Der[]> {
      return backendOf(profileOf(profile).config.backend).chain()
    },

    /** CA chain of one backend, or undefined when no such backend is configured. */
    async chainForBackend(id: string): Promise<Der[] | undefined> {
      return backends.get(id)?.chain()
    },

    /** Looks a certificate up by inventory id (short decimal) or serial (hex, colons allowed). */
    async find(ref: string): Promise<CertificateRecord> {
      let found: CertificateRecord | undefined
      if (/^\d{1,18}$/.test(ref)) found = await store.certificates.getById(ref)
      if (!found) {
        let serial: string | undefined
        try {
          serial = normalizeSerial(ref)
        } catch {
          serial = undefined
        }
        if (serial) found = await store.certificates.getBySerial(serial)
      }
      if (!found) throw new IssuanceError('notFound', `certificate ${ref} not found`)
      return found
    },

    /** `options.caGeneratesKey`: the backend generates the key (CanGenerateKey); the result carries it. */
    async issue(req: IssueRequest, options: IssueOptions = {}): Promise<IssueOutcome> {
      const started = performance.now()
      const profileName = req.profile ?? 'default'
      let outcome: 'issued' | 'pending' | 'denied' | 'failed' = 'failed'
      try {
        const profile = profileOf(profileName)
        const backend = backendOf(profile.config.backend)
        const decision = await capToIssuer(backend, evaluate(req, profile, now()))
        if (req.replaces) {
          const old = await store.certificates.getById(req.replaces)
          if (!old) throw new IssuanceError('notFound', `certificate ${req.replaces} to renew does not exist`)
          requireRenewable(old, profileName, decision)
        }
        const pending = profile.config.requireApproval
        const record = await store.certificates.reserve(
          {
            serial: newSerial(),
            status: pending ? 'pending' : 'reserved',
            profile: profileName,
            backendId: backend.id,
            protocol: req.protocol,
            requester: req.requester,
            subject: decision.subject,
            sans: decision.sans,
            csrDer: req.csr.der,
            plan: toPlanJson(decision, req.csr.publicKeyDer, req.replaces) as unknown as Record<string, unknown>,
            notBefore: decision.notBefore,
            notAfter: decision.notAfter,
            requestRef: req.requestRef,
          },
          pending
            ? {
                action: AuditAction.requested,
                actor: req.requester,
                protocol: req.protocol,
                requestId: req.requestId,
                detail: { profile: profileName, awaiting: 'approval' },
              }
            : undefined,
        )
        if (pending) {
          outcome = 'pending'
          return { status: 'pending', certificate: record }
        }
        const result = await signReserved(
          record,
          req.requester,
          req.protocol,
          req.requestId,
          options.caGeneratesKey,
          options.replyWhileRecording,
        )
        outcome = 'issued'
        return result
      } catch (e) {
        if (e instanceof IssuanceError && e.kind !== 'backendUnavailable') outcome = 'denied'
        throw e
      } finally {
        deps.metrics?.observeIssuance(outcome, profileName, req.protocol, (performance.now() - started) / 1000)
      }
    },

    /**
     * Server-side key generation (RFC 7030 §4.4): issues for a key the server generates — per profile, see
     * server-keygen.ts — keeping the request's subject and SANs. Refused for profiles that hold requests for
     * approval, since the private key would have to be stored until then.
     */
    async issueWithServerKey(req: IssueRequest): Promise<IssueOutcome & { status: 'issued'; privateKeyPkcs8: Der }> {
      const profile = profileOf(req.profile ?? 'default')
      if (profile.config.requireApproval) {
        throw new IssuanceError('policyDenied', `profile "${profile.name}" requires approval: server-side key generation is not offered`)
      }
      const generated = await requestWithServerKey(req.csr, profile.config.keys)
      if (canGenerateKey(backendOf(profile.config.backend))) {
        // The CA generates the key (and escrows it); the request made here carries the subject and SANs through policy.
        const outcome = await this.issue({ ...req, csr: generated.csr }, { caGeneratesKey: true })
        if (outcome.status !== 'issued' || !('privateKeyPkcs8' in outcome)) throw new Error('the CA returned no key')
        return outcome as IssueOutcome & { status: 'issued'; privateKeyPkcs8: Der }
      }
      const outcome = await this.issue({ ...req, csr: generated.csr })
      if (outcome.status !== 'issued') throw new Error('issuance held a request of a profile without approval')
      return { ...outcome, privateKeyPkcs8: generated.privateKeyPkcs8 }
    },

    /** Whether a profile's CA generates keys itself and keeps them in escrow (CanGenerateKey: Vault). */
    escrowsKeys(profile = 'default'): boolean {
      return canGenerateKey(backendOf(profileOf(profile).config.backend))
    },

    /**
     * The escrowed key of a certificate with its certificate and chain, for an administrator; every read is
     * audited. notFound when its CA keeps no escrow or holds no key for it.
     */
    async keyBundle(ref: string, actor: string, requestId?: string): Promise<EscrowedKey & { certificate: CertificateRecord }> {
      const record = await this.find(ref)
      const backend = backends.get(record.backendId)
      if (!backend || !canGenerateKey(backend) || !record.der) {
        throw new IssuanceError('notFound', `no escrowed key is held for certificate ${record.id}`)
      }
      const escrowId = await escrowIdOf(record)
      const key = await backend.escrowedKey(escrowId, record.serial)
      if (!key) throw new IssuanceError('notFound', `no escrowed key is held for certificate ${record.id}`)
      await store.audit.append({
        action: AuditAction.keyBundleRead,
        actor,
        protocol: 'admin',
        requestId,
        certificateId: record.id,
        serial: record.serial,
        detail: { backend: backend.id, escrowId, version: key.version },
      })
      return { ...key, certificate: record }
    },

    /**
     * What became of the request a client repeats while it awaits approval (RFC 7030 §4.2.3: the client polls by
     * sending the same request again): the newest request for exactly this CSR, profile and requester — still
     * pending, or issued since. Rejected requests answer with policyDenied. Undefined when there is none, it failed,
     * its certificate is no longer current, or the profile holds nothing for approval.
     */
    async heldOutcome(req: { csrDer: Der; profile?: string | undefined; requester: string }): Promise<IssueOutcome | undefined> {
      const profileName = req.profile ?? 'default'
      if (!profileOf(profileName).config.requireApproval) return undefined
      const record = await store.certificates.latestForCsr(req.csrDer, profileName, req.requester)
      switch (record?.status) {
        case 'pending':
        case 'reserved':
          return { status: 'pending', certificate: record }
        case 'rejected':
          throw new IssuanceError('policyDenied', `request ${record.id} was rejected: ${record.failure ?? 'no reason given'}`)
        case 'valid': {
          const current = record.der && !record.supersededBy && (record.notAfter?.getTime() ?? 0) > now().getTime()
          if (!current) return undefined
          return { status: 'issued', certificate: record, certificateDer: record.der!, chainDer: await backendOf(record.backendId).chain() }
        }
        default:
          return undefined
      }
    },

    /** An administrator approves a pending request: it is signed now. */
    async approve(id: string, actor: string, requestId?: string) {
      const existing = await store.certificates.getById(id)
      if (!existing) throw new IssuanceError('notFound', `request ${id} does not exist`)
      const record = await store.certificates.decide(id, 'reserved', actor, {
        action: AuditAction.approved,
        actor,
        protocol: 'admin',
        requestId,
      })
      if (!record) throw new IssuanceError('conflict', `request ${id} is ${existing.status}, not pending`)
      return signReserved(await startingNow(record), actor, existing.protocol, requestId)
    },

    async reject(id: string, actor: string, reason: string, requestId?: string): Promise<CertificateRecord> {
      const existing = await store.certificates.getById(id)
      if (!existing) throw new IssuanceError('notFound', `request ${id} does not exist`)
      const record = await store.certificates.decide(
        id,
        'rejected',
        actor,
        { action: AuditAction.rejected, actor, protocol: 'admin', requestId, detail: { reason } },
        reason,
      )
      if (!record) throw new IssuanceError('conflict', `request ${id} is ${existing.status}, not pending`)
      return record
    },

    /** Revokes through the one revocation path: inventory first (OCSP/CRL read it), then the CA backend. */
    async revoke(input: RevokeInput): Promise<CertificateRecord> {
      if (!requestableReasons.has(input.reason)) {
        throw new IssuanceError('badRequest', `revocation reason ${input.reason} cannot be requested`)
      }
      const existing = input.serial
        ? await store.certificates.getBySerial(input.serial)
        : await store.certificates.getById(input.id ?? '')
      if (!existing) throw new IssuanceError('notFound', 'certificate not found')
      if (existing.status === 'revoked') throw new IssuanceError('alreadyRevoked', 'certificate is already revoked')
      const at = now()
      const revoked = await store.certificates.revoke(existing.id, { reason: input.reason, at, invalidityDate: input.invalidityDate }, {
        action: AuditAction.revoked,
        actor: input.actor,
        protocol: input.protocol,
        requestId: input.requestId,
        detail: { reason: input.reason },
      })
      if (!revoked) {
        const again = await store.certificates.getById(existing.id)
        if (again?.status === 'revoked') throw new IssuanceError('alreadyRevoked', 'certificate is already revoked')
        throw new IssuanceError('conflict', `certificate is ${again?.status ?? existing.status}, not valid`)
      }
      deps.events?.emit('revoked', { backendId: revoked.backendId, serial: revoked.serial })
      try {
        await backendOf(revoked.backendId).revoke({ serial: revoked.serial, reason: input.reason, revokedAt: at })
      } catch (e) {
        logger.error({ err: e, serial: revoked.serial }, 'CA backend revocation failed; inventory is revoked')
        await store.audit.append({
          action: AuditAction.revokeBackendFailed,
          actor: input.actor,
          protocol: input.protocol,
          certificateId: revoked.id,
          serial: revoked.serial,
          detail: { error: (e as Error).message },
        })
      }
      return revoked
    },

    /**
     * Completes or voids reservations left without a result (a crash between reservation and record).
     * Backends that can recover an interrupted sign (idempotency) complete it; otherwise no certificate
     * left the process, and the reservation is voided.
     */
    async reconcile(olderThanSeconds = deps.config.reconcileAfterSeconds): Promise<{ completed: number; voided: number }> {
      let completed = 0
      let voided = 0
      // Backends whose recovery works only for a while (AWS Private CA's idempotency window) ask to be reconciled sooner.
      const afterOf = (b: CaBackend | undefined) =>
        b && canRecover(b) && b.recoverAfterSeconds !== undefined ? Math.min(b.recoverAfterSeconds, olderThanSeconds) : olderThanSeconds
      const soonest = Math.min(olderThanSeconds, ...backends.all().map(afterOf))
      for (const record of await store.certificates.staleReservations(soonest)) {
        const backend = backends.get(record.backendId)
        if (now().getTime() - record.updatedAt.getTime() < afterOf(backend) * 1000) continue
        let recovered: SignResult | undefined
        let why = 'signing was interrupted; no certificate was issued'
        if (backend && canRecover(backend)) {
          try {
            recovered = await backend.recover(signRequestFromRecord(record))
          } catch (e) {
            if (!(e instanceof IssuanceError)) {
              logger.warn({ err: e, serial: record.serial, backend: backend.id }, 'recovery failed; retried next round')
              continue
            }
            why = e.detail
          }
        }
        // One reservation that cannot be settled now (CA unreachable, recorded meanwhile by another instance)
        // must not stop the pass — at start it would stop the server. It stays reserved for the next round.
        try {
          if (recovered) {
            const cert = new x509.X509Certificate(recovered.certificateDer)
            await store.certificates.complete(
              record.id,
              {
                der: recovered.certificateDer,
                notBefore: cert.notBefore,
                notAfter: cert.notAfter,
                fingerprintSha256: fingerprint(recovered.certificateDer),
                serial: recovered.serial === undefined ? undefined : normalizeSerial(recovered.serial),
              },
              { action: AuditAction.issued, actor: 'reconciler', protocol: record.protocol, detail: { recovered: true } },
            )
            completed++
          } else {
            const done = await store.certificates.fail(record.id, why, {
              action: AuditAction.voided,
              actor: 'reconciler',
              protocol: record.protocol,
              detail: { reason: why },
            })
            if (done) voided++
          }
        } catch (e) {
          logger.warn({ err: e, serial: record.serial }, 'reservation left for the next reconcile round')
        }
      }
      if (completed || voided) logger.warn({ completed, voided }, 'reconciled interrupted issuances')
      return { completed, voided }
    },
  }
}

export type IssuanceService = ReturnType<typeof createIssuanceService>
export type { IssueOptions, IssueOutcome, IssueRequest, Protocol, RevokeInput }
