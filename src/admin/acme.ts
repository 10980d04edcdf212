// Admin API for ACME:
//   POST   /acme/eab {description?, domains?}   → 201 {keyId, hmacKey (base64url), …}: an RFC 8555 §7.3.4 EAB key
//   GET    /acme/eab                           keys (never the secret), with the account each is bound to
//   DELETE /acme/eab/{keyId}                   withdraw an unbound key
//   GET    /acme/renewal-flags                 RFC 9773 early-renewal flags
//   PUT    /acme/renewal-flags/{backend|profile}/{name} {explanationUrl?}   renewalInfo windows move to now
//   DELETE /acme/renewal-flags/{backend|profile}/{name}
import { randomBytes } from 'node:crypto'
import { Hono } from 'hono'
import { z } from 'zod'
import { IssuanceError } from '../errors.js'
import type { AcmeEabKey, Store } from '../store/index.js'
import type { AdminEnv } from './auth.js'
import { jsonBody, parse } from './request.js'

const eabBody = z.object({
  description: z.string().max(200).default(''),
  /** DNS patterns pre-validated for the bound account (only with acme.eabPreauthorization). */
  domains: z.array(z.string().min(1).max(253)).max(100).default([]),
})
const flagBody = z.object({ explanationUrl: z.string().url().optional() })
const scope = z.enum(['backend', 'profile'])

export const toEabResource = (k: AcmeEabKey) => ({
  keyId: k.id,
  description: k.description,
  domains: k.domains,
  accountId: k.accountId,
  boundAt: k.boundAt?.toISOString() ?? null,
  createdAt: k.createdAt.toISOString(),
})

/** A new EAB key: a random key id and a 256-bit HMAC key, shown once. Shared by the admin API and the CLI. */
export async function createEabKey(store: Pick<Store, 'acme'>, input: { description?: string; domains?: string[] }) {
  const hmacKey = randomBytes(32)
  const key = await store.acme.eabKeys.create({
    id: `eab-${randomBytes(12).toString('base64url')}`,
    hmacKey,
    description: input.description ?? '',
    domains: input.domains ?? [],
  })
  return { ...toEabResource(key), hmacKey: hmacKey.toString('base64url') }
}

export function acmeAdminRoutes(store: Pick<Store, 'acme'>): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>()
  app.post('/eab', async (c) => c.json(await createEabKey(store, parse(eabBody, await jsonBody(c))), 201))
  app.get('/eab', async (c) => c.json({ items: (await store.acme.eabKeys.list()).map(toEabResource) }))
  app.delete('/eab/:keyId', async (c) => {
    const id = c.req.param('keyId')
    if (await store.acme.eabKeys.delete(id)) return c.body(null, 204)
    const key = await store.acme.eabKeys.byId(id)
    throw key ? new IssuanceError('conflict', `EAB key ${id} is bound to an account`) : new IssuanceError('notFound', `EAB key ${id} does not exist`)
  })
  app.get('/renewal-flags', async (c) =>
    c.json({ items: (await store.acme.renewal.flags()).map((f) => ({ ...f, createdAt: f.createdAt.toISOString() })) }),
  )
  app.put('/renewal-flags/:scope/:name', async (c) => {
    const s = scope.safeParse(c.req.param('scope'))
    if (!s.success) throw new IssuanceError('badRequest', 'scope must be backend or profile')
    await store.acme.renewal.setFlag(s.data, c.req.param('name'), parse(flagBody, await jsonBody(c)).explanationUrl)
    return c.body(null, 204)
  })
  app.delete('/renewal-flags/:scope/:name', async (c) => {
    const s = scope.safeParse(c.req.param('scope'))
    if (!s.success || !(await store.acme.renewal.clearFlag(s.data, c.req.param('name')))) {
      throw new IssuanceError('notFound', 'no such renewal flag')
    }
    return c.body(null, 204)
  })
  return app
}
