// SCEP server options (RFC 8894). One property, `scep`, of the config schema: labels (each a URL path
// /scep/<label> on one profile, with its challenge), the RA key, and what GetCACaps advertises.
import { z } from 'zod'

const hex64 = z
  .string()
  .regex(/^[0-9a-f]{64}$/i, 'expected 64 hex digits (SHA-256)')
  .transform((s) => s.toLowerCase())

export const scepLabelSchema = z
  .object({
    /** Profile this label issues under. It must exist and be exposed. */
    profile: z.string().min(1).default('default'),
    /**
     * Static challengePassword (what Intune and Jamf call a static challenge): every PKCSReq must carry it in the
     * CSR's challengePassword attribute. Compared in constant time. ENROLL_SCEP_CHALLENGE sets it on `default`.
     */
    challenge: z.string().min(1).optional(),
    /** SHA-256 (hex) of the static challenge; prefer this over `challenge` in files. */
    challengeSha256: hex64.optional(),
    /**
     * Accept one-time challenges minted with the admin API (POST /api/v1/scep/challenges) or `enroll scep
     * challenge`: random, stored hashed, single use, expiring, optionally bound to the CSR's common name.
     */
    dynamicChallenges: z.boolean().default(false),
  })
  .strict()
  .refine((l) => l.challenge === undefined || l.challengeSha256 === undefined, 'set at most one of challenge, challengeSha256')
export type ScepLabelConfig = z.infer<typeof scepLabelSchema>

const labelName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected lowercase letters, digits and "-"')

export const scepSchema = z
  .object({
    /** Serve SCEP at /scep, /scep/<label> and /cgi-bin/pkiclient.exe on the HTTP listener. */
    enabled: z.boolean().default(true),
    /**
     * Labels by name: /scep/<label>. `default` also answers /scep and /cgi-bin/pkiclient.exe. A label with neither
     * a static challenge nor dynamic challenges refuses enrollment (PKCSReq); it still serves GetCACert and renewal.
     */
    labels: z.record(labelName, scepLabelSchema).prefault({ default: {} }),
    /** RSA modulus size of the RA key (RFC 8894 §2.2: key transport needs RSA, whatever the CA's key). */
    raKeyBits: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]).default(2048),
    /** Validity of RA certificates in days; a new key and certificate replace them when a third of it is left. */
    raValidityDays: z.number().int().min(7).max(3650).default(365),
    /**
     * Accept single DES (DES-CBC) requests, and answer them in kind. Never advertised (GetCACaps has no keyword for
     * it), but clients built on go.mozilla.org/pkcs7 — micromdm's scepclient among them — always use it. 56-bit
     * DES protects the challengePassword poorly: turn this off when no such client is enrolled (badAlg then).
     */
    allowSingleDes: z.boolean().default(true),
    /** Lifetime of a dynamic challenge when the request names none, and the longest allowed, in seconds. */
    challengeTtlSeconds: z.number().int().min(60).max(30 * 86_400).default(3_600),
    /** What GetCACaps advertises besides POSTPKIOperation, SHA-256, SHA-512, AES and SCEPStandard (RFC 8894 §3.5.2). */
    caps: z
      .object({
        /** DES3 (DES-EDE3-CBC) for old devices; false refuses 3DES-encrypted requests with badAlg. */
        des3: z.boolean().default(true),
        /** Renewal (RenewalReq signed with the certificate being renewed). Keep it on: macOS fails without it. */
        renewal: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({})
export type ScepConfig = z.infer<typeof scepSchema>

/** ENROLL_SCEP_CHALLENGE=secret: the static challenge of the default label. Returns the config path it set. */
export function setScepChallenge(raw: Record<string, unknown>, value: string): string {
  const scep = (raw['scep'] ??= {}) as Record<string, unknown>
  const labels = (scep['labels'] ??= {}) as Record<string, Record<string, unknown>>
  const label = (labels['default'] ??= {})
  label['challenge'] = value
  delete label['challengeSha256']
  return 'scep.labels.default.challenge'
}

/** Checks what the schema cannot see: each label's profile exists and is exposed. A message, or undefined. */
export function scepConfigProblem(scep: ScepConfig, profiles: Record<string, { exposed: boolean }>): string | undefined {
  for (const [name, label] of Object.entries(scep.labels)) {
    const profile = profiles[label.profile]
    if (!profile) return `config: scep.labels.${name}.profile: no profile "${label.profile}" is configured`
    if (!profile.exposed) return `config: scep.labels.${name}.profile: profile "${label.profile}" is not exposed`
  }
  return undefined
}

/** True when the label accepts some challenge; otherwise PKCSReq on it is refused. */
export const acceptsChallenges = (label: ScepLabelConfig) =>
  label.challenge !== undefined || label.challengeSha256 !== undefined || label.dynamicChallenges

/** Name of the internal profile RA certificates of a CA backend are issued under. */
export const scepRaProfileName = (backendId: string) => `scep-ra-${backendId}`
