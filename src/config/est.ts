// EST server options (RFC 7030, RFC 8951). One property, `est`, of the config schema; the password format
// (scrypt, RFC 7914) is defined here with the functions that write and check it.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, createHash, type ScryptOptions } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { fromPemAll, isPem, type Der } from '../pki/pem.js'
import { x509 } from '../pki/x509.js'

/** EST operation names (RFC 7030 §3.2.2); a label may not be one of them. */
export const estOperations = ['cacerts', 'simpleenroll', 'simplereenroll', 'fullcmc', 'serverkeygen', 'csrattrs'] as const

// ── passwords ─────────────────────────────────────────────────────────────────────────────────────
// `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>` (salt and hash base64 without padding), as passlib writes it.
const scryptFormat = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{43,})$/

function scrypt(password: string, salt: Buffer, keylen: number, o: ScryptOptions): Promise<Buffer> {
  return new Promise((done, fail) => scryptCb(password, salt, keylen, o, (e, key) => (e ? fail(e) : done(key))))
}

const scryptOptions = (ln: number, r: number, p: number): ScryptOptions => ({
  N: 2 ** ln,
  r,
  p,
  maxmem: 2 * 128 * 2 ** ln * r + 1024 * 1024,
})

/** Hashes a password for `est.labels.<label>.users[].scrypt`. ln=15 (N=32768) costs about 50 ms of one core. */
export async function hashPassword(password: string, ln = 15): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, 32, scryptOptions(ln, 8, 1))
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '')
  return `$scrypt$ln=${ln},r=8,p=1$${b64(salt)}$${b64(key)}`
}

/** Compares a password with a user's stored `scrypt` hash or plain `password`, in constant time. */
export async function verifyPassword(user: EstUser, password: string): Promise<boolean> {
  if (user.password !== undefined) {
    const digest = (s: string) => createHash('sha256').update(s).digest()
    return timingSafeEqual(digest(user.password), digest(password))
  }
  const m = scryptFormat.exec(user.scrypt ?? '')
  if (!m) return false
  const expected = Buffer.from(m[5]!, 'base64')
  const key = await scrypt(password, Buffer.from(m[4]!, 'base64'), expected.length, scryptOptions(+m[1]!, +m[2]!, +m[3]!))
  return timingSafeEqual(key, expected)
}

// ── schema ────────────────────────────────────────────────────────────────────────────────────────

const estUser = z
  .object({
    /** User name sent in HTTP Basic; recorded as the requester (`basic:<name>`). */
    name: z.string().min(1).regex(/^[^:]+$/, 'a Basic user name cannot contain ":"'),
    /** Password hash from `enroll est hash-password` (scrypt). Prefer this over `password` in files. */
    scrypt: z.string().regex(scryptFormat, 'expected $scrypt$ln=..,r=..,p=..$salt$hash (enroll est hash-password)').optional(),
    /** The password itself (quick starts; ENROLL_EST_BASIC sets one on the default label). */
    password: z.string().min(1).optional(),
  })
  .strict()
  .refine((u) => (u.scrypt === undefined) !== (u.password === undefined), 'set exactly one of scrypt, password')
export type EstUser = z.infer<typeof estUser>

/** A CA certificate trusted for TLS client authentication: PEM text, or the path of a PEM file. */
const trustAnchor = z.string().transform((value, ctx): Der[] => {
  let text = value
  if (!isPem(value)) {
    try {
      text = readFileSync(value, 'utf8')
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `cannot read ${value}: ${(e as NodeJS.ErrnoException).code}` })
      return z.NEVER
    }
  }
  const ders = fromPemAll(text, 'CERTIFICATE')
  try {
    for (const der of ders) new x509.X509Certificate(der)
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a certificate: ${(e as Error).message}` })
    return z.NEVER
  }
  if (!ders.length) ctx.addIssue({ code: 'custom', message: 'holds no PEM CERTIFICATE block' })
  return ders
})

export const estLabelSchema = z
  .object({
    /** Profile this label issues under. It must exist and be exposed. */
    profile: z.string().min(1).default('default'),
    /**
     * How clients authenticate /simpleenroll and /serverkeygen (RFC 7030 §3.2.3, §3.3.2): `either` (default) a TLS
     * client certificate or HTTP Basic; `cert` a TLS client certificate; `basic` HTTP Basic; `both` both at once.
     * /simplereenroll always needs the TLS client certificate being renewed (§4.2.2), issued by this server.
     */
    auth: z.enum(['either', 'cert', 'basic', 'both']).default('either'),
    /**
     * Profiles whose certificates, issued by this server, authenticate clients on this label. Default: the label's
     * own profile. Certificates issued through ACME never do (they prove control of names, not a right to enroll).
     */
    clientProfiles: z.array(z.string().min(1)).optional(),
    /** HTTP Basic users of this label. */
    users: z.array(estUser).default([]),
    /**
     * External CAs (e.g. a device manufacturer's IDevID CA) whose certificates authenticate clients on this label,
     * besides the CA of the label's profile. Each entry is PEM text or a PEM file path; every certificate in it is a
     * trust anchor. Revocation of externally issued certificates is not checked.
     */
    externalCas: z.array(trustAnchor).default([]),
    /**
     * RFC 7030 §3.5 proof-of-possession linking: the CSR's challengePassword carries the TLS channel binding
     * (tls-exporter on TLS 1.3, RFC 9266; tls-unique on TLS 1.2). `optional` (default): checked when the value looks
     * like a binding; `required`: every enrollment must carry a matching one (csrattrs then asks for it).
     */
    channelBinding: z.enum(['optional', 'required']).default('optional'),
    /** Offer /serverkeygen (RFC 7030 §4.4): the server generates the key for the profile and returns it in PKCS#8. */
    serverKeygen: z.boolean().default(true),
    /**
     * Line length of base64 response bodies. 76 (default) follows RFC 2045 §6.8; 0 sends one unbroken line, for
     * clients that cannot skip line breaks (strongSwan pki 5.9.8, as in Debian 12).
     */
    base64LineLength: z.number().int().min(0).max(76).default(76),
  })
  .strict()
export type EstLabelConfig = z.infer<typeof estLabelSchema>

/** Label names (RFC 7030 §3.2.2: one path segment): checked on the record so the message names the label. */
function checkLabelNames(labels: Record<string, unknown>, ctx: z.RefinementCtx): void {
  for (const name of Object.keys(labels)) {
    const problem = !/^[a-z0-9][a-z0-9-]*$/.test(name)
      ? 'a label name is lowercase letters, digits and "-"'
      : (estOperations as readonly string[]).includes(name)
        ? 'a label cannot be an EST operation name'
        : undefined
    if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem })
  }
}

export const estSchema = z
  .object({
    /** Serve EST under /.well-known/est on the HTTPS listener. */
    enabled: z.boolean().default(true),
    /**
     * Labels (RFC 7030 §3.2.2) by name: /.well-known/est/<label>/<operation>. The label `default` also answers
     * /.well-known/est/<operation>. Default: one label `default` on the `default` profile.
     */
    labels: z.record(z.string(), estLabelSchema).superRefine(checkLabelNames).prefault({ default: {} }),
    /** Retry-After (seconds) of 202 answers while a request awaits approval (RFC 7030 §4.2.3). */
    retryAfterSeconds: z.coerce.number().int().min(1).max(86_400).default(60),
  })
  .strict()
  .prefault({})
export type EstConfig = z.infer<typeof estSchema>

/** ENROLL_EST_BASIC=user:password: one Basic user on the default label. Returns the config path it set. */
export function addEstBasicUser(raw: Record<string, unknown>, value: string): string {
  const colon = value.indexOf(':')
  const est = (raw['est'] ??= {}) as Record<string, unknown>
  const labels = (est['labels'] ??= {}) as Record<string, Record<string, unknown>>
  const label = (labels['default'] ??= {})
  const users = (label['users'] ??= []) as unknown[]
  users.push(colon < 0 ? { name: value } : { name: value.slice(0, colon), password: value.slice(colon + 1) })
  return `est.labels.default.users.${users.length - 1}`
}

/** Checks what the schema cannot see: each label's profiles exist, and its own is exposed. A message, or undefined. */
export function estConfigProblem(est: EstConfig, profiles: Record<string, { exposed: boolean }>): string | undefined {
  for (const [name, label] of Object.entries(est.labels)) {
    const profile = profiles[label.profile]
    if (!profile) return `config: est.labels.${name}.profile: no profile "${label.profile}" is configured`
    if (!profile.exposed) return `config: est.labels.${name}.profile: profile "${label.profile}" is not exposed`
    const unknown = label.clientProfiles?.find((p) => !profiles[p])
    if (unknown) return `config: est.labels.${name}.clientProfiles: no profile "${unknown}" is configured`
  }
  return undefined
}
