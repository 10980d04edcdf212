// SCEP challengePassword checks (RFC 8894 §2.3, §3.3.1): a static secret per label, compared in constant time,
// and one-time dynamic challenges minted by an administrator (admin API, `enroll scep challenge`) as MDM products
// (Intune, Jamf) expect — random, stored as SHA-256 only, expiring, single use, optionally bound to the CSR's CN.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { AuditAction } from '../audit/events.js'
import type { ScepConfig } from '../config/scep.js'
import { IssuanceError } from '../errors.js'
import type { ScepChallenge, Store } from '../store/index.js'

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest()

export type ChallengeCheck = { ok: true; kind: 'static' } | { ok: true; kind: 'dynamic'; id: string } | { ok: false }

export interface MintedChallenge {
  id: string
  /** The secret; shown once, never stored. */
  challenge: string
  label: string
  commonName: string | null
  expiresAt: Date
}

export function createChallengeService(deps: { config: { scep: ScepConfig }; store: Pick<Store, 'scep' | 'audit'> }) {
  const { scep } = deps.config
  const statics = new Map<string, Buffer>()
  for (const [name, label] of Object.entries(scep.labels)) {
    if (label.challenge !== undefined) statics.set(name, sha256(label.challenge))
    else if (label.challengeSha256 !== undefined) statics.set(name, Buffer.from(label.challengeSha256, 'hex'))
  }

  function labelOf(name: string) {
    const label = scep.labels[name]
    if (!label) throw new IssuanceError('notFound', `no SCEP label "${name}" is configured`)
    return label
  }

  return {
    /**
     * Checks a CSR's challengePassword for a label: the static secret first (constant time over SHA-256 digests,
     * so neither content nor length leaks), then — if the label accepts them — a dynamic challenge, used up here.
     */
    async verify(labelName: string, password: string | undefined, commonName: string | undefined, usedBy: string): Promise<ChallengeCheck> {
      const label = labelOf(labelName)
      if (password === undefined || password === '') return { ok: false }
      const digest = sha256(password)
      const expected = statics.get(labelName)
      if (expected && timingSafeEqual(expected, digest)) return { ok: true, kind: 'static' }
      if (!label.dynamicChallenges) return { ok: false }
      const used = await deps.store.scep.redeemChallenge({
        label: labelName,
        secretSha256: digest.toString('hex'),
        commonName,
        usedBy,
      })
      return used ? { ok: true, kind: 'dynamic', id: used.id } : { ok: false }
    },

    /** Mints a one-time challenge for a label that accepts dynamic challenges. */
    async mint(o: {
      label?: string | undefined
      commonName?: string | undefined
      ttlSeconds?: number | undefined
      actor: string
      requestId?: string | undefined
    }): Promise<MintedChallenge> {
      const labelName = o.label ?? 'default'
      const label = labelOf(labelName)
      if (!label.dynamicChallenges) {
        throw new IssuanceError('badRequest', `SCEP label "${labelName}" does not accept dynamic challenges (scep.labels.${labelName}.dynamicChallenges)`)
      }
      const ttl = o.ttlSeconds ?? scep.challengeTtlSeconds
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > scep.challengeTtlSeconds) {
        throw new IssuanceError('badRequest', `ttlSeconds must be an integer from 1 to ${scep.challengeTtlSeconds} (scep.challengeTtlSeconds)`)
      }
      // 24 random octets, base64url: 32 printable characters, within PrintableString-safe challengePassword limits.
      const challenge = randomBytes(24).toString('base64url')
      const created = await deps.store.scep.createChallenge({
        label: labelName,
        secretSha256: sha256(challenge).toString('hex'),
        commonName: o.commonName,
        expiresAt: new Date(Date.now() + ttl * 1000),
        createdBy: o.actor,
      })
      await deps.store.audit.append({
        action: AuditAction.scepChallengeCreated,
        actor: o.actor,
        protocol: 'scep',
        requestId: o.requestId,
        detail: { id: created.id, label: labelName, commonName: o.commonName ?? null, expiresAt: created.expiresAt.toISOString() },
      })
      return { id: created.id, challenge, label: labelName, commonName: created.commonName, expiresAt: created.expiresAt }
    },

    list: (label?: string, limit = 100): Promise<ScepChallenge[]> => deps.store.scep.listChallenges({ label, limit }),

    async revoke(id: string, actor: string, requestId?: string): Promise<void> {
      if (!(await deps.store.scep.deleteChallenge(id))) {
        throw new IssuanceError('notFound', `no unused SCEP challenge ${id}`)
      }
      await deps.store.audit.append({ action: AuditAction.scepChallengeRevoked, actor, protocol: 'scep', requestId, detail: { id } })
    },
  }
}
export type ChallengeService = ReturnType<typeof createChallengeService>
