// What every ACME handler receives: dependencies from src/, the URL builder, nonce source and validation
// settings — built once per acmeApp() (no module-level state).
import type { Context } from 'hono'
import type { Logger } from 'pino'
import type { Config } from '../../src/config/schema.js'
import type { AppEnv } from '../../src/http/middleware.js'
import type { IssuanceService } from '../../src/issuance/service.js'
import type { AcmeAccount, AcmeAuthorization, Store } from '../../src/store/index.js'
import { knownAccounts } from './accounts.js'
import { createResolver, type ValidationNetwork, type ValidationPolicy } from './challenges/index.js'
import { accountKeyCache, type ProtectedHeader, type PublicJwk } from './codec/jws.js'
import { createLinks, type Links } from './links.js'
import { createNonceSource, type NonceSource } from './nonce.js'

export interface AcmeDeps {
  config: Pick<Config, 'publicUrl' | 'acme'>
  store: Pick<Store, 'acme'>
  issuance: IssuanceService
  logger: Logger
}

/** A request whose JWS verified (set by verifyJws in routes.ts). */
export interface VerifiedJws {
  header: ProtectedHeader
  /** undefined: POST-as-GET (empty payload). */
  payload: Record<string, unknown> | undefined
  /** kid mode: the account that signed. */
  account: AcmeAccount | undefined
  /** jwk mode: the key that signed. */
  jwk: PublicJwk | undefined
  /** jwk mode: the account holding that key, if any (read with the nonce; newAccount answers with it). */
  keyAccount: AcmeAccount | undefined
  /** RFC 7638 thumbprint of the signing key. */
  thumbprint: string
  url: string
  /**
   * Routes that prefetch (authorization, challenge): the authorization read with the nonce, current as of this
   * request; undefined when there is no such authorization or the route does not prefetch.
   */
  authz?: AcmeAuthorization | undefined
}

export type AcmeEnv = { Variables: AppEnv['Variables'] & { jws: VerifiedJws } }
export type AcmeHandler = (c: Context<AcmeEnv>) => Promise<Response>

export interface AcmeContext extends AcmeDeps {
  links: Links
  nonces: NonceSource
  accountKeys: ReturnType<typeof accountKeyCache>
  accounts: ReturnType<typeof knownAccounts>
  recentCertificates: ReturnType<typeof recentCertificates>
  net: ValidationNetwork
  validation: ValidationPolicy
  /** Background validations in flight (awaited on shutdown by tests). */
  inflight: Set<Promise<void>>
}

/**
 * Certificates this instance issued over ACME lately, by serial (bounded, oldest dropped): the download that follows
 * finalize (§7.4.2) needs no lookup. An issued certificate never changes, so an entry cannot go stale; a download
 * on another instance, or of an older certificate, reads the inventory.
 */
export function recentCertificates(max = 1000) {
  const bySerial = new Map<string, { der: Uint8Array; backendId: string }>()
  return {
    get: (serial: string) => bySerial.get(serial),
    remember(serial: string, issued: { der: Uint8Array; backendId: string }): void {
      if (bySerial.size >= max) bySerial.delete(bySerial.keys().next().value!)
      bySerial.set(serial, issued)
    },
  }
}

export function createAcmeContext(deps: AcmeDeps): AcmeContext {
  const acme = deps.config.acme
  const timeoutMs = acme.validation.timeoutSeconds * 1000
  return {
    ...deps,
    links: createLinks(deps.config.publicUrl),
    nonces: createNonceSource(deps.store.acme, acme.nonceLifetimeSeconds),
    accountKeys: accountKeyCache(),
    accounts: knownAccounts(),
    recentCertificates: recentCertificates(),
    net: {
      resolver: createResolver(acme.dnsResolver, timeoutMs),
      http01Port: acme.http01Port,
      tlsAlpn01Port: acme.tlsAlpn01Port,
      timeoutMs,
    },
    validation: {
      attempts: acme.validation.attempts,
      retryDelayMs: acme.validation.retryDelaySeconds * 1000,
      caaIdentities: acme.caaIdentities,
    },
    inflight: new Set(),
  }
}
