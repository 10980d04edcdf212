// Account rules: RFC 8555 §7.3 contacts, §7.3.4 External Account Binding.
import { compilePatterns } from '../../src/policy/patterns.js'
import type { AcmeAccount, AcmeEabKey, AcmeIdentifier } from '../../src/store/index.js'
import { decodeNestedJws, eabAlgorithms, sameKey, verifySignature, type PublicJwk } from './codec/jws.js'
import type { AcmeContext } from './context.js'
import { AcmeProblem } from './problems.js'

const mailto = /^mailto:([^@\s,?;:<>()[\]\\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63})$/

/**
 * RFC 8555 §7.3: contacts are URLs; we support `mailto:` with one address and no header fields (§7.3 SHOULD).
 * Another scheme → unsupportedContact; a bad mailto → invalidContact.
 */
export function requireValidContacts(contact: string[] | undefined): string[] {
  const out: string[] = []
  for (const c of contact ?? []) {
    if (!/^mailto:/i.test(c)) throw new AcmeProblem('unsupportedContact', `contact "${c.slice(0, 80)}" is not a mailto: URL`)
    const m = mailto.exec(`mailto:${c.slice(7)}`)
    if (!m) throw new AcmeProblem('invalidContact', `contact "${c.slice(0, 80)}" is not a single mailto: address without header fields`)
    out.push(`mailto:${m[1]}`)
  }
  return out
}

/**
 * RFC 8555 §7.3.4 EAB: a JWS over the account's public JWK, MACed (HS256/384/512) with a key we issued; its
 * protected header names the key (`kid`) and the newAccount URL, and carries no nonce. The key must be unbound.
 * Structure errors → malformed; unknown key, bound key or bad MAC → unauthorized.
 */
export async function verifyExternalAccountBinding(ctx: AcmeContext, eab: unknown, accountJwk: PublicJwk): Promise<AcmeEabKey> {
  const { jws, header } = decodeNestedJws(eab, 'externalAccountBinding')
  if (!(eabAlgorithms as readonly string[]).includes(header.alg)) {
    throw new AcmeProblem('badSignatureAlgorithm', `externalAccountBinding must use ${eabAlgorithms.join(', ')}`, {
      extra: { algorithms: [...eabAlgorithms] },
    })
  }
  if (header.nonce !== undefined) throw new AcmeProblem('malformed', 'externalAccountBinding must not carry a nonce')
  if (header.url !== ctx.links.newAccount) throw new AcmeProblem('unauthorized', 'externalAccountBinding url is not the newAccount URL')
  if (typeof header.kid !== 'string' || header.kid.length > 128) throw new AcmeProblem('malformed', 'externalAccountBinding has no kid')
  const key = await ctx.store.acme.eabKeys.byId(header.kid)
  if (!key) throw new AcmeProblem('unauthorized', 'externalAccountBinding names an unknown key')
  if (key.accountId) throw new AcmeProblem('unauthorized', 'the external account key is already bound to an account')
  let payload: Uint8Array
  try {
    payload = await verifySignature(jws, key.hmacKey, header.alg as (typeof eabAlgorithms)[number])
  } catch {
    throw new AcmeProblem('unauthorized', 'externalAccountBinding MAC does not verify')
  }
  let inner: unknown
  try {
    inner = JSON.parse(Buffer.from(payload).toString('utf8'))
  } catch {
    throw new AcmeProblem('malformed', 'externalAccountBinding payload is not a JWK')
  }
  if (!(await sameKey(inner, accountJwk))) {
    throw new AcmeProblem('unauthorized', 'externalAccountBinding payload is not the account key')
  }
  return key
}

/** Opt-in departure from RFC 8555 (acme.eabPreauthorization): names matching the EAB key's patterns need no challenge. */
export async function preauthorizedMatcher(ctx: AcmeContext, eabKeyId: string | null): Promise<(id: AcmeIdentifier) => boolean> {
  if (!ctx.config.acme.eabPreauthorization || !eabKeyId) return () => false
  const key = await ctx.store.acme.eabKeys.byId(eabKeyId)
  if (!key?.domains.length) return () => false
  const patterns = compilePatterns({ dns: key.domains, ip: [], email: [], uri: [], commonName: [] })
  return (id) => id.type === 'dns' && patterns.allows(id)
}

/**
 * Accounts this instance has seen, by id (bounded, most recently used kept): the key a kid request is verified with
 * before the database is asked (RFC 8555 §6.2). Only a hint — verifyJws re-reads the account in the statement that
 * consumes the nonce, so a key changed or an account deactivated by another instance counts from the next request.
 */
export function knownAccounts(max = 10_000) {
  const byId = new Map<string, AcmeAccount>()
  return {
    get(id: string): AcmeAccount | undefined {
      return byId.get(id)
    },
    /** Records the account as read now; one that is no longer valid is forgotten. */
    remember(account: AcmeAccount): void {
      byId.delete(account.id)
      if (account.status !== 'valid') return
      if (byId.size >= max) byId.delete(byId.keys().next().value!)
      byId.set(account.id, account)
    },
  }
}
