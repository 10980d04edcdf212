// Admin API: one-time SCEP challenges (RFC 8894 §2.3 challengePassword), as MDM products mint them per device.
//   POST   /scep/challenges       {label?, commonName?, ttlSeconds?} → 201 {id, challenge, label, commonName, expiresAt}
//   GET    /scep/challenges?label= unused, unexpired challenges (never the secret)
//   DELETE /scep/challenges/{id}  withdraw an unused challenge
import { Hono } from 'hono'
import { z } from 'zod'
import type { ChallengeService } from '../scep/index.js'
import type { ScepChallenge } from '../store/index.js'
import type { AdminEnv } from './auth.js'
import { jsonBody, parse } from './request.js'

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

export function scepChallengeRoutes(challenges: ChallengeService): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>()
  app.post('/', async (c) => {
    const body = parse(mintBody, await jsonBody(c))
    const minted = await challenges.mint({ ...body, actor: c.get('actor'), requestId: c.get('requestId') })
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
