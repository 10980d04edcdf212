// ACME server options (RFC 8555 and extensions). One property, `acme`, of the config schema.
import { z } from 'zod'

const port = z.coerce.number().int().min(1).max(65535)
const seconds = z.coerce.number().int().min(0)
/** Accepts true/false and the strings "true"/"false" (environment variables). */
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])

export const acmeSchema = z
  .object({
    /** `meta.termsOfService` URL. When set, newAccount requires `termsOfServiceAgreed: true` (RFC 8555 §7.3). */
    termsOfService: z.string().url().optional(),
    /** `meta.website` URL. */
    website: z.string().url().optional(),
    /**
     * `meta.caaIdentities`: the issuer domain names this CA recognises in CAA records (RFC 8659). When empty,
     * CAA is not checked (a private PKI usually has no CAA records naming it).
     */
    caaIdentities: z.array(z.string().min(1)).default([]),
    /** Require External Account Binding on newAccount (RFC 8555 §7.3.4); keys come from the admin API or CLI. */
    externalAccountRequired: flag.default(false),
    /**
     * Deliberate departure from RFC 8555, off by default: an EAB key may carry DNS patterns; orders of the account
     * bound to it skip challenges for names matching them (authorizations are created valid).
     */
    eabPreauthorization: flag.default(false),
    /** Seconds a pending order or authorization lives (RFC 8555 §7.1.3 `expires`). Default 7 days. */
    orderLifetimeSeconds: seconds.default(7 * 86400),
    /** Seconds a valid authorization stays valid after validation. Default 30 days. */
    authzValiditySeconds: seconds.default(30 * 86400),
    /** Valid authorizations of the same account validated within this many seconds are reused by newOrder; 0 never. */
    authzReuseSeconds: seconds.default(30 * 86400),
    /** Seconds a Replay-Nonce stays usable. */
    nonceLifetimeSeconds: seconds.min(10).default(3600),
    /**
     * Challenge validation: attempts before a challenge is invalid, seconds between them, timeout per attempt; and
     * `awaitSeconds`, how long the response to a challenge waits for its validation: one finished by then is
     * answered with its outcome, so the client needs no poll (RFC 8555 §7.5.1 allows either answer), a slower one
     * is answered `processing` and goes on in the background. 0 always answers `processing` at once.
     */
    validation: z
      .object({
        attempts: z.coerce.number().int().min(1).max(10).default(3),
        retryDelaySeconds: z.coerce.number().min(0).default(2),
        timeoutSeconds: z.coerce.number().positive().default(10),
        awaitSeconds: z.coerce.number().min(0).max(30).default(2),
      })
      .strict()
      .prefault({}),
    /**
     * DNS server (`host:port`, or `host`) used for A/AAAA/TXT/CAA lookups during validation. Unset: the system
     * resolver. Env ENROLL_ACME_DNS_RESOLVER.
     */
    dnsResolver: z
      .string()
      .regex(/^(\[[0-9a-f:.]+\]|[^\s:]+)(:\d{1,5})?$/i, 'expected host:port')
      .optional(),
    /** TEST ONLY: port http-01 validation connects to instead of 80 (as Pebble's httpPort). */
    http01Port: port.default(80),
    /** TEST ONLY: port tls-alpn-01 validation connects to instead of 443 (as Pebble's tlsPort). */
    tlsAlpn01Port: port.default(443),
    /** Seconds clients are told to wait (Retry-After) while an order is processing or a challenge validating. */
    retryAfterSeconds: z.coerce.number().int().min(1).default(1),
    /** RFC 9773 renewalInfo: `explanationURL` for early-renewal windows, and the Retry-After of its responses. */
    renewalInfo: z
      .object({
        explanationUrl: z.string().url().optional(),
        retryAfterSeconds: z.coerce.number().int().min(60).default(21600),
      })
      .strict()
      .prefault({}),
    /** Rate limits stored in PostgreSQL (hold across instances), per hour; 0 disables the limit. */
    rateLimits: z
      .object({
        newAccountsPerIpPerHour: z.coerce.number().int().min(0).default(0),
        newOrdersPerAccountPerHour: z.coerce.number().int().min(0).default(0),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({})

export type AcmeConfig = z.infer<typeof acmeSchema>
