// RFC 9457 problem details for the admin API, and the IssuanceError → status table.
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { IssuanceErrorKind } from '../errors.js'

export const statusFor: Record<IssuanceErrorKind, ContentfulStatusCode> = {
  badCsr: 400,
  badRequest: 400,
  unknownProfile: 400,
  policyDenied: 403,
  unauthorized: 403,
  notFound: 404,
  conflict: 409,
  alreadyRevoked: 409,
  backendUnavailable: 503,
}

export function problem(
  c: Context,
  status: ContentfulStatusCode,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
) {
  return c.body(JSON.stringify({ type: 'about:blank', title, status, detail, ...extra }), status, {
    'Content-Type': 'application/problem+json',
    ...headers,
  })
}
