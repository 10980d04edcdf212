// The request checks every ACME route composes (RFC 8555 §6): named middleware, listed per route in routes.ts.
import type { MiddlewareHandler } from 'hono'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { AcmeAccount } from '../../src/store/index.js'
import {
  decodeFlattenedJws,
  decodePayload,
  requireSupportedAlgorithm,
  thumbprint,
  toPublicJwk,
  verifySignature,
  type AccountKeyAlgorithm,
  type FlattenedJws,
} from './codec/jws.js'
import type { AcmeContext, AcmeEnv } from './context.js'
import { linkValue } from './links.js'
import { AcmeProblem } from './problems.js'

/**
 * RFC 8555 §6.5: a fresh Replay-Nonce on every response, errors included (certbot and Caddy retry badNonce with
 * the nonce of the error response). §7.1: `Link: <directory>;rel="index"` on every response but the directory.
 */
export function replayNonceAndIndex(ctx: AcmeContext): MiddlewareHandler<AcmeEnv> {
  return async function replayNonceAndIndex(c, next) {
    // Set before the handler runs: its response (or the error's) is built with them, not copied afterwards.
    try {
      c.header('Replay-Nonce', await ctx.nonces.issue())
    } catch (err) {
      ctx.logger.error({ err, requestId: c.get('requestId') }, 'cannot issue a nonce')
    }
    if (!c.req.path.endsWith('/directory')) c.header('Link', linkValue(ctx.links.directory, 'index'), { append: true })
    await next()
  }
}

/** RFC 8555 §6.2: POST bodies are `application/jose+json`; anything else is 415 malformed. */
export function requireJoseContentType(): MiddlewareHandler<AcmeEnv> {
  return async function requireJoseContentType(c, next) {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/jose+json') {
      throw new AcmeProblem('malformed', 'Content-Type must be application/jose+json', { status: 415 })
    }
    await next()
  }
}

export type KeyMode = 'jwk' | 'kid' | 'either'

/**
 * RFC 8555 §6.2–§6.5 request authentication, in order: flattened JWS; supported alg (else
 * badSignatureAlgorithm); protected `url` equal to the URL requested (else unauthorized); exactly one of jwk/kid
 * as the route allows (jwk only for newAccount and revokeCert); kid names a valid account of ours (else
 * accountDoesNotExist / unauthorized); the signature verifies with the account's current key; the nonce is fresh
 * and unused (else badNonce, checked after the signature so forged requests cannot burn nonces); the payload is
 * empty (POST-as-GET) or a JSON object. The nonce is consumed in the same statement that reads the signing
 * account, so each request costs one round trip and sees the account as it is now, whichever instance changed it.
 * `prefetch`: the route's `:id` names an authorization (or a challenge of one), read in that same statement.
 */
export function verifyJws(ctx: AcmeContext, mode: KeyMode, prefetch?: 'authz' | 'challenge'): MiddlewareHandler<AcmeEnv> {
  return async function verifyJws(c, next) {
    const { jws, header } = decodeFlattenedJws(await c.req.text())
    const alg = requireSupportedAlgorithm(header.alg)
    const url = new URL(c.req.url)
    const expectedUrl = ctx.links.requestUrl(`${url.pathname}${url.search}`)
    if (typeof header.url !== 'string') throw new AcmeProblem('malformed', 'JWS protected header has no url')
    if (header.url !== expectedUrl) throw new AcmeProblem('unauthorized', 'JWS url does not match the request URL')
    const hasJwk = header.jwk !== undefined
    const hasKid = header.kid !== undefined
    if (hasJwk === hasKid) throw new AcmeProblem('malformed', 'JWS protected header must carry exactly one of jwk and kid')
    if (hasJwk && mode === 'kid') throw new AcmeProblem('malformed', 'this resource requires a kid (account URL), not a jwk')
    if (hasKid && mode === 'jwk') throw new AcmeProblem('malformed', 'this resource requires a jwk, not a kid')

    if (hasJwk) {
      const jwk = toPublicJwk(header.jwk)
      const payloadBytes = await verifySignature(jws, await ctx.accountKeys.get(jwk, alg), alg)
      const keyThumbprint = await thumbprint(jwk)
      const { fresh, account } = await ctx.nonces.consumeWithAccount(header.nonce, { thumbprint: keyThumbprint })
      if (!fresh) throw new AcmeProblem('badNonce', 'the nonce is unknown, used or expired')
      const payload = decodePayload(payloadBytes)
      c.set('jws', { header, payload, account: undefined, jwk, keyAccount: account, thumbprint: keyThumbprint, url: expectedUrl })
      return next()
    }
    const id = typeof header.kid === 'string' ? ctx.links.accountIdOf(header.kid) : undefined
    if (!id) throw new AcmeProblem('accountDoesNotExist', 'the kid names no account of this server')
    const { account, payloadBytes } = await verifyWithAccountKey(ctx, id, jws, alg)
    // A route about an authorization (or one of its challenges) reads it in the same statement.
    const about = prefetch && c.req.param('id')
    const read = await ctx.nonces.consumeWithAccount(header.nonce, { id }, about ? (prefetch === 'authz' ? { authz: about } : { challenge: about }) : undefined)
    const current = requireValidAccount(read.account)
    ctx.accounts.remember(current)
    // The key changed (on another instance) after we verified: the signature must hold for the current key.
    if (current.thumbprint !== account.thumbprint) await verifySignature(jws, await ctx.accountKeys.get(toPublicJwk(current.jwk), alg), alg)
    if (!read.fresh) throw new AcmeProblem('badNonce', 'the nonce is unknown, used or expired')
    const payload = decodePayload(payloadBytes)
    c.set('jws', { header, payload, account: current, jwk: undefined, keyAccount: undefined, thumbprint: current.thumbprint, url: expectedUrl, authz: read.authz })
    return next()
  }
}

function requireValidAccount(account: AcmeAccount | undefined): AcmeAccount {
  if (!account) throw new AcmeProblem('accountDoesNotExist', 'the kid names no account of this server')
  if (account.status !== 'valid') throw new AcmeProblem('unauthorized', `account is ${account.status}`)
  return account
}

/**
 * Verifies a kid request with the account's key: the one this instance knows (no round trip), or read from the
 * store. A signature that fails with a known key is tried once more with the stored one, which another instance
 * may have rolled over (§7.3.5).
 */
async function verifyWithAccountKey(ctx: AcmeContext, id: string, jws: FlattenedJws, alg: AccountKeyAlgorithm) {
  const load = async () => requireValidAccount(await ctx.store.acme.accounts.byId(id))
  const known = ctx.accounts.get(id)
  let account = known ?? (await load())
  const verifyWith = async (a: AcmeAccount) => verifySignature(jws, await ctx.accountKeys.get(toPublicJwk(a.jwk), alg), alg)
  try {
    return { account, payloadBytes: await verifyWith(account) }
  } catch (e) {
    if (!known) throw e
    account = await load()
    if (account.thumbprint === known.thumbprint) throw e
    return { account, payloadBytes: await verifyWith(account) }
  }
}

/** Requires an empty payload: reads of resources are POST-as-GET (RFC 8555 §6.3). */
export function requirePostAsGet(): MiddlewareHandler<AcmeEnv> {
  return async function requirePostAsGet(c, next) {
    if (c.get('jws').payload !== undefined) throw new AcmeProblem('malformed', 'this resource is read with POST-as-GET (empty payload)')
    await next()
  }
}

/** Client address for per-IP limits; undefined when not served by node (in-process tests). */
export function clientAddress(c: Parameters<MiddlewareHandler<AcmeEnv>>[0]): string | undefined {
  try {
    return getConnInfo(c).remote.address
  } catch {
    return undefined
  }
}

/** Fixed-window rate limit stored in PostgreSQL (holds across instances); 0 disables. → 429 rateLimited. */
export async function requireWithinRateLimit(ctx: AcmeContext, key: string, perHour: number): Promise<void> {
  if (!perHour) return
  const retryAfter = await ctx.store.acme.rateLimits.hit(key, perHour, 3600)
  if (retryAfter !== undefined) {
    throw new AcmeProblem('rateLimited', `more than ${perHour} requests per hour for ${key.split(':')[0]}`, {
      headers: { 'Retry-After': String(retryAfter) },
    })
  }
}
