// Bearer API keys for /api/v1 (RFC 6750 §2.1). Keys are compared as SHA-256 digests in constant time.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../http/middleware.js'
import { problem } from './problems.js'

export interface ApiKey {
  name: string
  sha256: Buffer
}

export const hashKey = (key: string) => createHash('sha256').update(key, 'utf8').digest()

export type AdminEnv = AppEnv & { Variables: { actor: string } }

/** Requires `Authorization: Bearer <key>` matching one configured key; sets the actor for audit events. */
export function requireApiKey(keys: ApiKey[]): MiddlewareHandler<AdminEnv> {
  return async function requireApiKey(c, next) {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    const challenge = { 'WWW-Authenticate': 'Bearer realm="enroll-admin"' }
    if (!match) return problem(c, 401, 'Unauthorized', 'a Bearer API key is required', challenge)
    const digest = hashKey(match[1]!)
    let found: ApiKey | undefined
    for (const k of keys) if (timingSafeEqual(k.sha256, digest) && !found) found = k
    if (!found) {
      return problem(c, 401, 'Unauthorized', 'the API key is not valid', {
        'WWW-Authenticate': 'Bearer realm="enroll-admin", error="invalid_token"',
      })
    }
    c.set('actor', `admin:${found.name}`)
    await next()
  }
}
