// Request parsing shared by the admin API's route files: JSON bodies and zod validation, both failing as
// IssuanceError('badRequest') naming the field.
import type { Context } from 'hono'
import type { z } from 'zod'
import { IssuanceError } from '../errors.js'

export function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const r = schema.safeParse(input)
  if (!r.success) {
    const i = r.error.issues[0]!
    throw new IssuanceError('badRequest', `${i.path.join('.') || 'body'}: ${i.message}`)
  }
  return r.data
}

/** The JSON body; an empty body is `{}`. */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text()
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new IssuanceError('badRequest', 'request body is not valid JSON')
  }
}
