// RFC 8555 §6.5 anti-replay nonces: stored in PostgreSQL so any instance sharing the database accepts a nonce
// another issued; single use (DELETE … RETURNING) and expiring. Nonces are stored in batches and handed out from
// a small local pool, so answering a request costs no extra round trip; a pooled nonce is already valid
// everywhere, and its expiry counts from when its batch was stored.
import { randomBytes } from 'node:crypto'
import type { AcmeStore, NonceRead, Prefetch } from '../../src/store/index.js'

/** RFC 8555 §6.5.1: base64url, no padding; ours are 128 random bits. */
const nonceSyntax = /^[A-Za-z0-9_-]{16,64}$/
const BATCH = 32

export interface NonceSource {
  issue(): Promise<string>
  /** True once for a fresh nonce this cluster issued; false for unknown, reused, expired or malformed ones. */
  consume(nonce: unknown): Promise<boolean>
  /**
   * As `consume`, reading the signing account (by id or key thumbprint) in the same round trip, and with
   * `prefetch` the authorization the request is about.
   */
  consumeWithAccount(nonce: unknown, signer: { id: string } | { thumbprint: string }, prefetch?: Prefetch): Promise<NonceRead>
}

export function createNonceSource(store: Pick<AcmeStore, 'nonces'>, lifetimeSeconds: number): NonceSource {
  let pool: { values: string[]; storedAt: number } = { values: [], storedAt: 0 }
  let refill: Promise<void> | undefined
  let batches = 0
  // Hand out pooled nonces only while most of their lifetime remains.
  const freshFor = (lifetimeSeconds * 1000) / 2

  async function refillPool(): Promise<void> {
    const random = randomBytes(16 * BATCH)
    const values = Array.from({ length: BATCH }, (_, i) => random.toString('base64url', 16 * i, 16 * i + 16))
    const storedAt = Date.now()
    await store.nonces.issue(values, lifetimeSeconds)
    pool = { values, storedAt }
    // Expired nonces are swept now and then by whichever instance issues; no scheduler needed.
    if (++batches % 100 === 0) await store.nonces.purgeExpired()
  }

  return {
    async issue() {
      for (;;) {
        if (pool.values.length && Date.now() - pool.storedAt < freshFor) return pool.values.pop()!
        refill ??= refillPool().finally(() => (refill = undefined))
        await refill
      }
    },
    async consume(nonce) {
      if (typeof nonce !== 'string' || !nonceSyntax.test(nonce)) return false
      return store.nonces.consume(nonce)
    },
    async consumeWithAccount(nonce, signer, prefetch) {
      // A malformed nonce matches no row: the account is still read, for the checks that come before badNonce.
      return store.nonces.consumeWithAccount(typeof nonce === 'string' && nonceSyntax.test(nonce) ? nonce : '', signer, prefetch)
    },
  }
}
