// The one configuration schema. Every option is documented here; README's reference is written from it.
import { z } from 'zod'
import { pcaBackendSchema } from '../ca/pca/config.js'
import { vaultBackendSchema } from '../ca/vault/config.js'
import { acmeSchema } from './acme.js'
import { estSchema } from './est.js'
import { scepSchema } from './scep.js'

/** Key algorithms the embedded CA can generate for its root and issuing keys. */
export const caKeyAlgorithms = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const
export type CaKeyAlgorithm = (typeof caKeyAlgorithms)[number]

/** RFC 5280 §4.2.1.3 key usage bits, by their ASN.1 names. */
export const keyUsageNames = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const
export type KeyUsageName = (typeof keyUsageNames)[number]

/** RFC 5280 §4.2.1.12 extended key usages we know by name; any dotted OID is accepted as well. */
export const extKeyUsageOids = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
  ipsecIKE: '1.3.6.1.5.5.7.3.17',
} as const

const port = z.coerce.number().int().min(0).max(65535)
const oid = z.string().regex(/^\d+(\.\d+)+$/, 'expected a dotted OID')
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'expected an http(s) URL')
  .transform((u) => u.replace(/\/+$/, ''))

/** The embedded CA: a root and an issuing CA generated on first start and kept in `<dataDir>/ca`. */
const localBackend = z
  .object({
    kind: z.literal('local'),
    /** Key algorithm of the generated root and issuing CA keys. Default ecdsa-p256. */
    keyAlgorithm: z.enum(caKeyAlgorithms).default('ecdsa-p256'),
    /** Common name prefix of the generated CA certificates. */
    commonName: z.string().min(1).default('Enroll Development CA'),
    /** Validity of a generated root CA, in days. Default 10 years. */
    rootValidityDays: z.number().int().positive().default(3650),
    /** Validity of a generated issuing CA, in days. Default 5 years. */
    issuingValidityDays: z.number().int().positive().default(1825),
    /**
     * Partitioned CRLs: 0 (default) publishes one CRL for the CA; N > 0 splits it into N shards, each with a
     * critical Issuing Distribution Point, and every certificate's CRL DP names its shard (the serial's last 32 bits
     * mod N).
     */
    crlShards: z.number().int().min(0).max(4096).default(0),
  })
  .strict()

/** A CA backend: the embedded CA, HashiCorp Vault PKI (src/ca/vault/config.ts) or AWS Private CA (src/ca/pca/config.ts). */
export const backendSchema = z.discriminatedUnion('kind', [localBackend, vaultBackendSchema, pcaBackendSchema])
export type BackendConfig = z.infer<typeof backendSchema>

const identifierPatterns = z
  .object({
    /** DNS names allowed: `example.com`, `*.example.com` (one label), `**.example.com` (any depth), `*`, or `re:<regex>` (matched against the whole name). */
    dns: z.array(z.string().min(1)).default([]),
    /** IP addresses allowed, as CIDR blocks (`10.0.0.0/8`, `::1/128`). */
    ip: z.array(z.string().min(1)).default([]),
    /** rfc822Name (email) SANs allowed, as globs (`*@example.com`). */
    email: z.array(z.string().min(1)).default([]),
    /** URI SANs allowed, as globs (`spiffe://example.org/*`). */
    uri: z.array(z.string().min(1)).default([]),
    /** Subject common names allowed, as globs. Empty means the CN must be one of the allowed SANs. */
    commonName: z.array(z.string().min(1)).default([]),
  })
  .strict()

/** A certificate profile: what may be issued, how, and by which backend. */
export const profileSchema = z
  .object({
    /** Id of the CA backend (key of `backends`) that signs for this profile. */
    backend: z.string().default('local'),
    /** Human description, shown in ACME `meta.profiles` and the admin API. */
    description: z.string().default(''),
    /** Key algorithms accepted in CSRs. */
    keys: z
      .object({
        /** Minimum RSA modulus size; 0 disables RSA. RFC 8555 clients commonly use 2048. */
        rsaMinBits: z.number().int().min(0).default(2048),
        /** Maximum RSA modulus size (guards against very slow keys). */
        rsaMaxBits: z.number().int().min(1024).default(8192),
        /** Allowed ECDSA curves. */
        ecdsaCurves: z.array(z.enum(['P-256', 'P-384', 'P-521'])).default(['P-256', 'P-384']),
        /** Accept Ed25519 keys. */
        ed25519: z.boolean().default(true),
      })
      .strict()
      .default({ rsaMinBits: 2048, rsaMaxBits: 8192, ecdsaCurves: ['P-256', 'P-384'], ed25519: true }),
    /** Identifier patterns; an identifier not matched by any pattern is refused. */
    allow: identifierPatterns.default({ dns: [], ip: [], email: [], uri: [], commonName: [] }),
    /** Subject of issued certificates: `cn` keeps only the validated CN, `csr` keeps the CSR's whole subject. */
    subject: z.enum(['cn', 'csr']).default('cn'),
    /** Default validity in days when the request names none. */
    validityDays: z.number().positive().default(90),
    /** Upper bound on validity in days; longer requests are capped. */
    maxValidityDays: z.number().positive().default(397),
    /** RFC 5280 key usages. `keyEncipherment` is dropped automatically for non-RSA keys. */
    keyUsage: z.array(z.enum(keyUsageNames)).default(['digitalSignature', 'keyEncipherment']),
    /** Extended key usages by name (see extKeyUsageOids) or dotted OID. */
    extKeyUsage: z
      .array(z.union([z.enum(Object.keys(extKeyUsageOids) as [keyof typeof extKeyUsageOids]), oid]))
      .default(['serverAuth', 'clientAuth']),
    /** Hold requests for an administrator's approval before signing. */
    requireApproval: z.boolean().default(false),
    /** Offer this profile to enrollment protocols (ACME `meta.profiles`, EST/SCEP labels). False: admin API only. */
    exposed: z.boolean().default(true),
  })
  .strict()
export type ProfileConfig = z.infer<typeof profileSchema>

const apiKey = z
  .object({
    /** Name recorded as the actor in audit events. */
    name: z.string().min(1),
    /** SHA-256 of the key, hex. Prefer this over `key` in files. */
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i)
      .optional(),
    /** The key itself (for quick starts; ENROLL_ADMIN_API_KEY sets one). */
    key: z.string().min(16).optional(),
  })
  .strict()
  .refine((k) => (k.sha256 === undefined) !== (k.key === undefined), 'set exactly one of key, sha256')

export const configSchema = z
  .object({
    /** Data directory: CA keys, the embedded database, TLS certificate, generated admin key. */
    dataDir: z.string().min(1).default('./data'),
    /** Address both listeners bind to. */
    listenHost: z.string().min(1).default('0.0.0.0'),
    /** HTTPS listener (ACME, EST, admin API). RFC 8555 §6.1 and RFC 7030 §3.3 require TLS. */
    httpsPort: port.default(8443),
    /** HTTP listener (SCEP, OCSP, CRL, CA download): plain HTTP as relying parties expect. */
    httpPort: port.default(8080),
    /** External base URL of the HTTPS listener; every URL handed out is built from it. Default https://<hostname>:<httpsPort>. */
    publicUrl: httpUrl.optional(),
    /** External base URL of the HTTP listener (AIA, CDP, OCSP, SCEP). Default http://<hostname>:<httpPort>. */
    publicHttpUrl: httpUrl.optional(),
    /** PostgreSQL URL. Unset: the embedded PGlite store in `<dataDir>/db` (development only). */
    databaseUrl: z.string().url().optional(),
    /** PostgreSQL schema holding our tables. */
    databaseSchema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/)
      .default('public'),
    /** PostgreSQL connection pool size. */
    databasePoolSize: z.number().int().positive().default(16),
    /** Log level (pino). */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Largest request body accepted, in bytes; larger gets 413. */
    bodyLimitBytes: z.number().int().positive().default(1024 * 1024),
    /** TLS server certificate: extra DNS names/IPs besides the public URL hosts, localhost and 127.0.0.1. */
    tlsNames: z.array(z.string().min(1)).default([]),
    /** Reservations older than this many seconds without a result are reconciled (completed or voided). */
    reconcileAfterSeconds: z.number().int().positive().default(300),
    /** Seconds to wait for in-flight requests on SIGTERM before closing connections. */
    shutdownGraceSeconds: z.number().positive().default(10),
    admin: z
      .object({
        /** Bearer API keys for /api/v1. None configured: one is generated into `<dataDir>/admin-api-key`. */
        apiKeys: z.array(apiKey).default([]),
      })
      .strict()
      .default({ apiKeys: [] }),
    /** Revocation: CRL publication and the OCSP responder (RFC 5280 §5, RFC 6960, RFC 5019). */
    revocation: z
      .object({
        crl: z
          .object({
            /** nextUpdate − thisUpdate of complete CRLs, in seconds. Regenerated at half of it, and on revocation. */
            validitySeconds: z.number().int().min(300).default(86_400),
            /** nextUpdate − thisUpdate of delta CRLs, in seconds. */
            deltaValiditySeconds: z.number().int().min(60).default(3_600),
            /** Revocations arriving within this window are published together (debounce), in milliseconds. */
            debounceMs: z.number().int().min(0).default(1_000),
          })
          .strict()
          .default({ validitySeconds: 86_400, deltaValiditySeconds: 3_600, debounceMs: 1_000 }),
        ocsp: z
          .object({
            /** nextUpdate − thisUpdate of OCSP responses, in seconds; re-signed at half of it. */
            validitySeconds: z.number().int().min(60).default(86_400),
            /** Signed responses kept in memory per instance (nonce-less requests). */
            cacheEntries: z.number().int().min(0).default(100_000),
            /** How long an `unknown` answer is cached, in seconds (a reserved serial may be issued soon). */
            unknownCacheSeconds: z.number().int().min(0).default(60),
          })
          .strict()
          .default({ validitySeconds: 86_400, cacheEntries: 100_000, unknownCacheSeconds: 60 }),
      })
      .strict()
      .default({
        crl: { validitySeconds: 86_400, deltaValiditySeconds: 3_600, debounceMs: 1_000 },
        ocsp: { validitySeconds: 86_400, cacheEntries: 100_000, unknownCacheSeconds: 60 },
      }),
    /** CA backends by id. The default is the embedded local CA under id `local`. */
    backends: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), backendSchema).default({
      local: {
        kind: 'local',
        keyAlgorithm: 'ecdsa-p256',
        commonName: 'Enroll Development CA',
        rootValidityDays: 3650,
        issuingValidityDays: 1825,
        crlShards: 0,
      },
    }),
    /** Certificate profiles by name. `default` is used when a request names none. */
    profiles: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), profileSchema).optional(),
    /** ACME server (RFC 8555): see src/config/acme.ts. */
    acme: acmeSchema,
    /** EST server (RFC 7030, RFC 8951): labels, client authentication, users. See src/config/est.ts. */
    est: estSchema,
    /** SCEP server (RFC 8894): labels, challenges, RA key, capabilities. See src/config/scep.ts. */
    scep: scepSchema,
  })
  .strict()

export type ConfigInput = z.input<typeof configSchema>
type Parsed = z.infer<typeof configSchema>
export type Config = Omit<Parsed, 'publicUrl' | 'publicHttpUrl' | 'profiles'> & {
  publicUrl: string
  publicHttpUrl: string
  profiles: Record<string, ProfileConfig>
  /** True when running on generated development defaults (embedded store, generated keys). */
  developmentDefaults: boolean
}
