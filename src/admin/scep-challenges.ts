// Admin API: one-time SCEP challenges (RFC 8894 §2.3 challengePassword), as MDM products mint them per device.
//   POST   /scep/challenges       {label?, commonName?, ttlSeconds?} → 201 {id, challenge, label, commonName, expiresAt}
//   GET    /scep/challenges?label= unused, unexpired challenges (never the secret)
//   DELETE /scep/challenges/{id}  withdraw an unused challenge
import { Hono, type Context } from 'hono'
import { z } from 'zod'
import { IssuanceError } from '../errors.js'
import type { ChallengeService } from '../scep/index.js'
import type { ScepChallenge } from '../store/index.js'
import type { AdminEnv } from './auth.js'

const mintBody = z.object({
  label: z.string().min(1).max(64).optional(),
  /** The CSR's common name must equal this (case-insensitive) for the challenge to be accepted. */
  commonName: z.string().min(1).max(255).optional(),
  ttlSeconds: z.number().int().positive().optional(),
})

const toResource = (c: ScepChallenge) => ({
  id: c.id,
  label: c.label,
  commonName: c.commonName,
  expiresAt: c.expiresAt.toISOString(),
  createdBy: c.createdBy,
  createdAt: c.createdAt.toISOString(),
})

async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text()
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new IssuanceError('badRequest', 'request body is not valid JSON')
  }
}

export function scepChallengeRoutes(challenges: ChallengeService): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>()
  app.post('/', async (c) => {
    const parsed = mintBody.safeParse(await jsonBody(c))
    if (!parsed.success) {
      const i = parsed.error.issues[0]!
      throw new IssuanceError('badRequest', `${i.path.join('.') || 'body'}: ${i.message}`)
    }
    const minted = await challenges.mint({ ...parsed.data, actor: c.get('actor'), requestId: c.get('requestId') })
    return c.json({ ...minted, expiresAt: minted.expiresAt.toISOString() }, 201, {
      Location: `/api/v1/scep/challenges/${minted.id}`,
      'Cache-Control': 'no-store',
    })
  })
  app.get('/', async (c) => {
    const label = c.req.query('label')
    return c.json({ items: (await challenges.list(label || undefined)).map(toResource) })
  })
  app.delete('/:id', async (c) => {
    await challenges.revoke(c.req.param('id'), c.get('actor'), c.get('requestId'))
    return c.body(null, 204)
  })
  return app
}
