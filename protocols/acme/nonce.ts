// RFC 8555 §6.5 anti-replay nonces: stored in PostgreSQL so any instance sharing the database accepts a nonce
// another issued; single use (DELETE … RETURNING) and expiring.
import { randomBytes } from 'node:crypto'
import type { AcmeStore } from '../../src/store/index.js'

/** RFC 8555 §6.5.1: base64url, no padding; ours are 128 random bits. */
const nonceSyntax = /^[A-Za-z0-9_-]{16,64}$/

export interface NonceSource {
  issue(): Promise<string>
  /** True once for a fresh nonce this cluster issued; false for unknown, reused, expired or malformed ones. */
  consume(nonce: unknown): Promise<boolean>
}

export function createNonceSource(store: Pick<AcmeStore, 'nonces'>, lifetimeSeconds: number): NonceSource {
  let issued = 0
  return {
    async issue() {
      const nonce = randomBytes(16).toString('base64url')
      await store.nonces.issue(nonce, lifetimeSeconds)
      // Expired nonces are swept now and then by whichever instance issues; no scheduler needed.
      if (++issued % 1000 === 0) await store.nonces.purgeExpired()
      return nonce
    },
    async consume(nonce) {
      if (typeof nonce !== 'string' || !nonceSyntax.test(nonce)) return false
      return store.nonces.consume(nonce)
    },
  }
}
