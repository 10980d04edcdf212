// RFC 8555 §7.1 resource shapes (wire form), the request payloads of §7.3–§7.6, and the named functions that
// convert between them and the stored rows. Request payloads are decoded here; a shape error is `malformed`.
import { z } from 'zod'
import type { AcmeAccount, AcmeAuthorization, AcmeChallenge, AcmeIdentifier, AcmeOrder } from '../../../src/store/index.js'
import type { Links } from '../links.js'
import { AcmeProblem } from '../problems.js'

export interface IdentifierResource {
  type: string
  value: string
}

export interface AccountResource {
  status: AcmeAccount['status']
  contact: string[]
  termsOfServiceAgreed?: boolean
  orders: string
  createdAt: string
}

export interface OrderResource {
  status: AcmeOrder['status']
  expires: string
  identifiers: IdentifierResource[]
  notBefore?: string
  notAfter?: string
  error?: Record<string, unknown>
  authorizations: string[]
  finalize: string
  certificate?: string
  profile?: string
  replaces?: string
}

export interface ChallengeResource {
  type: string
  url: string
  status: AcmeChallenge['status']
  token: string
  validated?: string
  error?: Record<string, unknown>
}

export interface AuthorizationResource {
  identifier: IdentifierResource
  status: AcmeAuthorization['status']
  expires: string
  challenges: ChallengeResource[]
  wildcard?: true
}

export const toAccountResource = (a: AcmeAccount, links: Links): AccountResource => ({
  status: a.status,
  contact: a.contact,
  ...(a.tosAgreed ? { termsOfServiceAgreed: true } : {}),
  orders: links.orders(a.id),
  createdAt: a.createdAt.toISOString(),
})

export const toOrderResource = (o: AcmeOrder, links: Links): OrderResource => ({
  status: o.status,
  expires: o.expires.toISOString(),
  identifiers: o.identifiers,
  ...(o.notBefore ? { notBefore: o.notBefore.toISOString() } : {}),
  ...(o.notAfter ? { notAfter: o.notAfter.toISOString() } : {}),
  ...(o.error && o.status === 'invalid' ? { error: o.error } : {}),
  authorizations: o.authzIds.map((id) => links.authz(id)),
  finalize: links.finalize(o.id),
  ...(o.status === 'valid' && o.certificateSerial ? { certificate: links.certificate(o.certificateSerial) } : {}),
  ...(o.profile ? { profile: o.profile } : {}),
  ...(o.replaces ? { replaces: o.replaces } : {}),
})

export const toChallengeResource = (c: AcmeChallenge, links: Links): ChallengeResource => ({
  type: c.type,
  url: links.challenge(c.id),
  status: c.status,
  token: c.token,
  ...(c.validated ? { validated: c.validated.toISOString() } : {}),
  ...(c.error ? { error: c.error } : {}),
})

export const toAuthorizationResource = (a: AcmeAuthorization, links: Links): AuthorizationResource => ({
  identifier: a.identifier,
  status: a.status,
  expires: a.expires.toISOString(),
  challenges: a.challenges.map((c) => toChallengeResource(c, links)),
  ...(a.wildcard ? { wildcard: true as const } : {}),
})

// ---- request payloads ----

function decode<T extends z.ZodType>(schema: T, payload: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(payload ?? {})
  if (!r.success) {
    const i = r.error.issues[0]!
    const path = i.path.join('.')
    throw new AcmeProblem('malformed', `${what}: ${path ? `${path}: ` : ''}${i.message}`)
  }
  return r.data
}

const b64urlDer = z.string().min(1).max(64 * 1024).regex(/^[A-Za-z0-9_-]+$/, 'expected base64url')
const rfc3339 = z.iso.datetime({ offset: true })
const identifier = z.object({ type: z.string().min(1).max(32), value: z.string().min(1).max(255) })

const newAccountSchema = z.object({
  contact: z.array(z.string().max(512)).max(10).optional(),
  termsOfServiceAgreed: z.boolean().optional(),
  onlyReturnExisting: z.boolean().optional(),
  externalAccountBinding: z.unknown().optional(),
})
const accountUpdateSchema = z.object({
  contact: z.array(z.string().max(512)).max(10).optional(),
  status: z.literal('deactivated').optional(),
  termsOfServiceAgreed: z.boolean().optional(),
})
const newOrderSchema = z.object({
  identifiers: z.array(identifier).min(1).max(100),
  notBefore: rfc3339.optional(),
  notAfter: rfc3339.optional(),
  profile: z.string().min(1).max(64).optional(),
  replaces: z.string().min(3).max(512).optional(),
})
const newAuthzSchema = z.object({ identifier })
const authzUpdateSchema = z.object({ status: z.literal('deactivated') })
const finalizeSchema = z.object({ csr: b64urlDer })
const revokeCertSchema = z.object({ certificate: b64urlDer, reason: z.number().int().optional() })
const keyChangeSchema = z.object({ account: z.string().min(1).max(512), oldKey: z.record(z.string(), z.unknown()) })

/** RFC 8555 §7.3 newAccount. */
export const decodeNewAccount = (payload: unknown) => decode(newAccountSchema, payload, 'newAccount')

/** RFC 8555 §7.3.2 / §7.3.6 account update and deactivation. */
export const decodeAccountUpdate = (payload: unknown) => decode(accountUpdateSchema, payload, 'account update')

/** RFC 8555 §7.4 newOrder, with draft-aaron-acme-profiles `profile` and RFC 9773 `replaces`. */
export const decodeNewOrder = (payload: unknown) => decode(newOrderSchema, payload, 'newOrder')

/** RFC 8555 §7.4.1 newAuthz (pre-authorization). */
export const decodeNewAuthz = (payload: unknown) => decode(newAuthzSchema, payload, 'newAuthz')

/** RFC 8555 §7.5.2 authorization deactivation. */
export const decodeAuthzUpdate = (payload: unknown) => decode(authzUpdateSchema, payload, 'authorization update')

/** RFC 8555 §7.4 finalize: the CSR, base64url DER. */
export const decodeFinalize = (payload: unknown): Uint8Array<ArrayBuffer> =>
  new Uint8Array(Buffer.from(decode(finalizeSchema, payload, 'finalize').csr, 'base64url'))

/** RFC 8555 §7.6 revokeCert. */
export function decodeRevokeCert(payload: unknown): { certificate: Uint8Array<ArrayBuffer>; reason: number | undefined } {
  const r = decode(revokeCertSchema, payload, 'revokeCert')
  return { certificate: new Uint8Array(Buffer.from(r.certificate, 'base64url')), reason: r.reason }
}

/** RFC 8555 §7.3.5 keyChange inner payload. */
export const decodeKeyChangeInner = (payload: unknown) => decode(keyChangeSchema, payload, 'keyChange')

export const identifierKey = (i: AcmeIdentifier) => `${i.type}:${i.value}`
