// Answers OCSP queries from the inventory (RFC 6960 §2.2, RFC 5019). Nonce-less answers are signed once and
// cached by request bytes until half of their validity has passed; a revocation — here, or at another
// instance through NOTIFY enroll_revoked — drops the cached answers of that serial at once.
import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import type { BackendRegistry } from '../ca/registry.js'
import type { Config } from '../config/schema.js'
import type { EventBus } from '../events.js'
import { publicKeyBits } from '../pki/key-identifier.js'
import { x509 } from '../pki/x509.js'
import type { Store } from '../store/index.js'
import { errorResponse, signedResponse, type CertStatus, type OcspResponseStatus } from './ocsp-response.js'
import type { ResponderPool } from './ocsp-responder.js'

export type CertIdHash = 'sha1' | 'sha256'

/** One RFC 6960 CertID as parsed by the protocol layer. */
export interface CertIdQuery {
  hashAlgorithm: CertIdHash
  issuerNameHash: Uint8Array
  issuerKeyHash: Uint8Array
  /** Normalized lowercase hex. */
  serial: string
  /** The CertID's DER, echoed in the response. */
  der: Uint8Array
}

export interface OcspQuery {
  certIds: CertIdQuery[]
  /** The nonce extension's extnValue content (RFC 8954), when the request has one. */
  nonce?: Uint8Array | undefined
}

export interface OcspAnswer {
  status: OcspResponseStatus
  der: Uint8Array
  /** For HTTP caching (RFC 5019 §6.2); absent on error and nonce answers. */
  cache?: { thisUpdate: Date; nextUpdate: Date; etag: string; staleAt: Date } | undefined
}

interface CachedAnswer {
  answer: OcspAnswer
  serials: string[]
  refreshAt: number
}

interface Issuer {
  backendId: string
  nameHash: Record<CertIdHash, string>
  keyHash: Record<CertIdHash, string>
}

export interface OcspServiceDeps {
  config: Pick<Config, 'revocation'>
  store: Store
  backends: BackendRegistry
  responders: ResponderPool
  events: EventBus
  logger: Logger
  now?: () => Date
}

const digest = (alg: CertIdHash, data: Uint8Array) => createHash(alg).update(data).digest('hex')
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

export function createOcspService(deps: OcspServiceDeps) {
  const { store, logger } = deps
  const cfg = deps.config.revocation.ocsp
  const now = deps.now ?? (() => new Date())
  // The cache-hit check runs per request: no Date object unless a test clock is set.
  const nowMs = deps.now ? () => deps.now!().getTime() : Date.now
  const cache = new Map<string, CachedAnswer>()
  const keysBySerial = new Map<string, Set<string>>()
  const stops: (() => void | Promise<void>)[] = []
  let issuers: Promise<Issuer[]> | undefined

  /** CertID matching data of every CA served: hashes of the issuing CA's subject DN and key, both algorithms. */
  function loadIssuers(): Promise<Issuer[]> {
    issuers ??= Promise.all(
      deps.backends.all().map(async (b) => {
        const [issuing] = await b.chain()
        const cert = new x509.X509Certificate(issuing!)
        const name = new Uint8Array(cert.subjectName.toArrayBuffer())
        const key = publicKeyBits(new Uint8Array(cert.publicKey.rawData))
        return {
          backendId: b.id,
          nameHash: { sha1: digest('sha1', name), sha256: digest('sha256', name) },
          keyHash: { sha1: digest('sha1', key), sha256: digest('sha256', key) },
        }
      }),
    )
    return issuers
  }

  function forget(serial: string) {
    for (const key of keysBySerial.get(serial) ?? []) cache.delete(key)
    keysBySerial.delete(serial)
  }

  function remember(key: string, entry: CachedAnswer) {
    if (cfg.cacheEntries === 0) return
    if (cache.size >= cfg.cacheEntries) {
      const oldest = cache.keys().next().value
      if (oldest !== undefined) {
        for (const s of cache.get(oldest)!.serials) keysBySerial.get(s)?.delete(oldest)
        cache.delete(oldest)
      }
    }
    cache.set(key, entry)
    for (const s of entry.serials) {
      let keys = keysBySerial.get(s)
      if (!keys) keysBySerial.set(s, (keys = new Set()))
      keys.add(key)
    }
  }

  async function statusOf(backendId: string, serial: string): Promise<CertStatus> {
    const record = await store.certificates.getBySerial(serial)
    if (!record || record.backendId !== backendId) return { kind: 'unknown' }
    if (record.status === 'revoked' && record.revokedAt) {
      return { kind: 'revoked', revokedAt: record.revokedAt, reason: record.revocationReason }
    }
    // Reserved, pending, failed or rejected serials were never issued: unknown (RFC 6960 §2.2).
    return record.status === 'valid' ? { kind: 'good' } : { kind: 'unknown' }
  }

  return {
    /** A cached answer for these exact request bytes, while fresh. */
    cached(requestKey: string): OcspAnswer | undefined {
      const hit = cache.get(requestKey)
      if (!hit) return undefined
      if (nowMs() >= hit.refreshAt) {
        cache.delete(requestKey)
        return undefined
      }
      return hit.answer
    },

    async respond(query: OcspQuery, requestKey?: string): Promise<OcspAnswer> {
      const all = await loadIssuers()
      const matched = query.certIds.map((id) =>
        all.find(
          (i) => i.nameHash[id.hashAlgorithm] === hex(id.issuerNameHash) && i.keyHash[id.hashAlgorithm] === hex(id.issuerKeyHash),
        ),
      )
      const backendId = matched[0]?.backendId
      // One response has one signer: every CertID must name the same CA we serve.
      if (!backendId || matched.some((m) => m?.backendId !== backendId)) {
        return { status: 'unauthorized', der: errorResponse('unauthorized') }
      }
      const responder = await deps.responders.get(backendId)
      const t = now()
      const thisUpdate = new Date(Math.floor(t.getTime() / 1000) * 1000)
      const validityMs = cfg.validitySeconds * 1000
      const nextUpdate = new Date(Math.min(thisUpdate.getTime() + validityMs, responder.notAfter.getTime()))
      const statuses = await Promise.all(query.certIds.map((id) => statusOf(backendId, id.serial)))
      const der = await signedResponse(
        responder,
        thisUpdate,
        query.certIds.map((id, i) => ({ certIdDer: id.der, status: statuses[i]!, thisUpdate, nextUpdate })),
        query.nonce,
      )
      if (query.nonce) return { status: 'successful', der }
      const anyUnknown = statuses.some((s) => s.kind === 'unknown')
      const lifetimeMs = anyUnknown
        ? Math.min(cfg.unknownCacheSeconds * 1000, (nextUpdate.getTime() - thisUpdate.getTime()) / 2)
        : (nextUpdate.getTime() - thisUpdate.getTime()) / 2
      const answer: OcspAnswer = {
        status: 'successful',
        der,
        cache: {
          thisUpdate,
          nextUpdate,
          etag: `"${createHash('sha256').update(der).digest('base64url').slice(0, 27)}"`,
          staleAt: new Date(thisUpdate.getTime() + lifetimeMs),
        },
      }
      if (requestKey && lifetimeMs > 0) {
        remember(requestKey, { answer, serials: query.certIds.map((id) => id.serial), refreshAt: thisUpdate.getTime() + lifetimeMs })
      }
      return answer
    },

    /** Drops cached answers on revocation: this instance's events and other instances' NOTIFY. */
    async start(): Promise<void> {
      stops.push(deps.events.on('revoked', (e) => forget(e.serial)))
      stops.push(
        await store.listen(
          'enroll_revoked',
          (payload) => forget(payload.slice(payload.indexOf(':') + 1)),
          () => {
            logger.warn('OCSP cache cleared: the notification connection was re-established')
            cache.clear()
            keysBySerial.clear()
          },
        ),
      )
    },

    async stop(): Promise<void> {
      for (const stop of stops.splice(0)) await stop()
    },

    /** Number of cached answers (metrics, tests). */
    size: () => cache.size,
  }
}

export type OcspService = ReturnType<typeof createOcspService>
