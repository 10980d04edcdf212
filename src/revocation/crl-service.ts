// Publishes complete and delta CRLs per CA (and per shard): built from the inventory, numbered from the store,
// stored for every instance, cached in memory, refreshed at half-life and soon after each revocation.
import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { canFetchCrl, canSignCrl, type CrlSigner } from '../ca/backend.js'
import { x509 } from '../pki/x509.js'
import type { BackendRegistry } from '../ca/registry.js'
import type { Config } from '../config/schema.js'
import type { EventBus } from '../events.js'
import { shardOf, type CrlKind, type Store, type StoredCrl } from '../store/index.js'
import { buildCrl } from './crl-builder.js'

export interface PublishedCrl {
  der: Uint8Array
  number: bigint
  thisUpdate: Date
  nextUpdate: Date
  etag: string
  entries: number
}

export interface CrlServiceDeps {
  config: Pick<Config, 'revocation'>
  store: Store
  backends: BackendRegistry
  events: EventBus
  logger: Logger
  now?: () => Date
}

/** Scope key: backend, shard (-1 = whole CA), kind. */
const keyOf = (backendId: string, shard: number, kind: CrlKind) => `${backendId}:${shard}:${kind}`

/** How long an expired certificate stays listed: one CRL period after its notAfter (RFC 5280 §3.3). */
const keepExpiredMs = (validitySeconds: number) => validitySeconds * 1000

/** Margin so a delta also repeats revocations committed while its base was being built. */
const DELTA_OVERLAP_MS = 5 * 60_000

const toPublished = (c: StoredCrl): PublishedCrl => ({
  der: c.der,
  number: c.number,
  thisUpdate: c.thisUpdate,
  nextUpdate: c.nextUpdate,
  etag: `"${createHash('sha256').update(c.der).digest('base64url').slice(0, 27)}"`,
  entries: c.entries,
})

export function createCrlService(deps: CrlServiceDeps) {
  const { store, logger } = deps
  const cfg = deps.config.revocation.crl
  const now = deps.now ?? (() => new Date())
  const cache = new Map<string, PublishedCrl>()
  const building = new Map<string, Promise<PublishedCrl>>()
  const pending = new Map<string, { timer: NodeJS.Timeout; since: number; due: number }>()
  const stops: (() => void | Promise<void>)[] = []

  function signerOf(backendId: string): CrlSigner | undefined {
    const b = deps.backends.get(backendId)
    return b && canSignCrl(b) ? b.crlSigner() : undefined
  }

  const validityOf = (kind: CrlKind) => (kind === 'full' ? cfg.validitySeconds : cfg.deltaValiditySeconds) * 1000
  /** Fresh until half of its validity has passed. */
  const isFresh = (c: PublishedCrl, kind: CrlKind) => now().getTime() < c.thisUpdate.getTime() + validityOf(kind) / 2

  async function build(backendId: string, shard: number, kind: CrlKind, signer: CrlSigner): Promise<PublishedCrl> {
    const started = performance.now()
    const thisUpdate = new Date(Math.floor(now().getTime() / 1000) * 1000)
    let base: StoredCrl | undefined
    if (kind === 'delta') {
      base = await store.revocation.loadCrl(backendId, shard, 'full')
      if (!base) await publish(backendId, shard, 'full')
      base = await store.revocation.loadCrl(backendId, shard, 'full')
      if (!base) throw new Error(`no complete CRL for ${backendId}/${shard} to base a delta on`)
    }
    const number = await store.revocation.nextCrlNumber(backendId, shard)
    const nextUpdate = new Date(thisUpdate.getTime() + validityOf(kind))
    const built = await buildCrl({
      signer,
      kind,
      shard: shard >= 0 ? shard : undefined,
      number,
      baseNumber: base?.number,
      thisUpdate,
      nextUpdate,
      entries: store.revocation.streamRevoked({
        backendId,
        notAfterAfter: new Date(thisUpdate.getTime() - keepExpiredMs(cfg.validitySeconds)),
        revokedSince: base ? new Date(base.thisUpdate.getTime() - DELTA_OVERLAP_MS) : undefined,
        shard: shard >= 0 ? { index: shard, count: signer.shards } : undefined,
      }),
    })
    const stored: StoredCrl = {
      backendId,
      shard,
      kind,
      number,
      baseNumber: base?.number ?? null,
      thisUpdate,
      nextUpdate,
      entries: built.entries,
      der: built.der,
    }
    await store.revocation.saveCrl(stored)
    logger.info(
      { backendId, shard, kind, number: number.toString(), entries: built.entries, ms: Math.round(performance.now() - started) },
      'CRL published',
    )
    const published = toPublished(stored)
    cache.set(keyOf(backendId, shard, kind), published)
    return published
  }

  /** Builds now (one build per scope at a time). */
  function publish(backendId: string, shard: number, kind: CrlKind): Promise<PublishedCrl> {
    const key = keyOf(backendId, shard, kind)
    const running = building.get(key)
    if (running) return running
    const signer = signerOf(backendId)
    if (!signer) return Promise.reject(new Error(`CA backend ${backendId} does not sign CRLs here`))
    const job = build(backendId, shard, kind, signer).finally(() => building.delete(key))
    building.set(key, job)
    return job
  }

  /** Called after revocations settle: publish unless another instance already did after `since`. */
  async function refreshAfterRevocation(backendId: string, shard: number, since: number): Promise<void> {
    for (const kind of ['full', 'delta'] as const) {
      const stored = await store.revocation.loadCrl(backendId, shard, kind)
      // thisUpdate is whole seconds and taken before the build reads the inventory, so a CRL whose
      // thisUpdate is strictly after the revocation instant certainly lists it.
      if (stored && stored.thisUpdate.getTime() > since) {
        cache.set(keyOf(backendId, shard, kind), toPublished(stored))
        continue
      }
      await publish(backendId, shard, kind)
    }
  }

  /**
   * Publishes the scope of a revoked serial `delayMs` from now, batching whatever else is revoked meanwhile.
   * A pending publication is never pushed later, so the first revocation bounds the delay.
   */
  function schedule(backendId: string, serial: string, delayMs: number) {
    const signer = signerOf(backendId)
    if (!signer) return
    const shard = signer.shards ? shardOf(serial, signer.shards) : -1
    const key = `${backendId}:${shard}`
    const due = Date.now() + delayMs
    const existing = pending.get(key)
    if (existing && existing.due <= due) return
    if (existing) clearTimeout(existing.timer)
    const since = existing?.since ?? now().getTime()
    const timer = setTimeout(() => {
      pending.delete(key)
      refreshAfterRevocation(backendId, shard, since).catch((err) =>
        logger.error({ err, backendId, shard }, 'CRL publication after revocation failed'),
      )
    }, delayMs)
    timer.unref()
    pending.set(key, { timer, since, due })
  }

  /** Parsed CRLs of backends that publish their own (CanFetchCrl), by the DER the backend handed out. */
  const fetched = new WeakMap<Uint8Array, PublishedCrl>()

  /** The CA's own complete CRL (Vault, AWS Private CA): the backend caches and refreshes it after revocations. */
  async function fetchedCrl(backendId: string, shard: number, kind: CrlKind): Promise<PublishedCrl | undefined> {
    const b = deps.backends.get(backendId)
    if (!b || !canFetchCrl(b) || shard !== -1 || kind !== 'full') return undefined
    const der = await b.fetchCrl()
    let published = fetched.get(der)
    if (!published) {
      const crl = new x509.X509Crl(der)
      const number = crl.getExtension('2.5.29.20')
      published = {
        der,
        number: number ? BigInt(`0x${Buffer.from(number.value).toString('hex').slice(4) || '0'}`) : 0n,
        thisUpdate: crl.thisUpdate,
        // A CRL without nextUpdate is served for the backend's cache time (RFC 5280 §5.1.2.5 says it should have one).
        nextUpdate: crl.nextUpdate ?? new Date(Date.now() + 300_000),
        etag: `"${createHash('sha256').update(der).digest('base64url').slice(0, 27)}"`,
        entries: crl.entries.length,
      }
      fetched.set(der, published)
    }
    return published
  }

  return {
    /** The current CRL of a scope; undefined when the backend does not sign CRLs here or the shard is unknown. */
    async get(backendId: string, shard: number, kind: CrlKind): Promise<PublishedCrl | undefined> {
      const signer = signerOf(backendId)
      if (!signer) return fetchedCrl(backendId, shard, kind)
      if (shard >= 0 ? shard >= signer.shards : signer.shards > 0) return undefined
      const key = keyOf(backendId, shard, kind)
      const cached = cache.get(key)
      if (cached && isFresh(cached, kind)) return cached
      const stored = await store.revocation.loadCrl(backendId, shard, kind)
      if (stored) {
        const published = toPublished(stored)
        if (isFresh(published, kind)) {
          cache.set(key, published)
          return published
        }
      }
      return publish(backendId, shard, kind)
    },

    /** Backend ids whose CRLs are built here, with their shard counts. */
    scopes(): { backendId: string; shards: number }[] {
      return deps.backends
        .all()
        .filter(canSignCrl)
        .map((b) => ({ backendId: b.id, shards: b.crlSigner().shards }))
    },

    /** Listens for revocations (this instance and, via NOTIFY, others) and starts the half-life refresh. */
    async start(): Promise<void> {
      // The instance that revoked publishes after the debounce; the others wait longer and usually find
      // the new CRL already stored (thisUpdate after the revocation), so they only reload it.
      stops.push(deps.events.on('revoked', (e) => schedule(e.backendId, e.serial, cfg.debounceMs)))
      const unlistenRevoked = await store.listen('enroll_revoked', (payload) => {
        const [backendId, serial] = payload.split(':')
        if (backendId && serial) schedule(backendId, serial, cfg.debounceMs + 3_000)
      })
      const unlistenCrl = await store.listen(
        'enroll_crl',
        (payload) => cache.delete(payload),
        () => cache.clear(),
      )
      stops.push(unlistenRevoked, unlistenCrl)
      const tick = setInterval(() => {
        for (const [key, c] of cache) {
          const [backendId, shard, kind] = key.split(':') as [string, string, CrlKind]
          if (!isFresh(c, kind)) {
            publish(backendId, Number(shard), kind).catch((err) => logger.error({ err, key }, 'CRL refresh failed'))
          }
        }
      }, 30_000)
      tick.unref()
      stops.push(() => clearInterval(tick))
    },

    async stop(): Promise<void> {
      for (const p of pending.values()) clearTimeout(p.timer)
      pending.clear()
      for (const stop of stops.splice(0)) await stop()
      await Promise.allSettled(building.values())
    },
  }
}

export type CrlService = ReturnType<typeof createCrlService>
