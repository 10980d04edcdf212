// Options of an AWS Private CA backend (`kind: pca`). Credentials come from the AWS default provider chain
// (environment, shared config, instance or task role) unless given here; they are never logged.
import { z } from 'zod'

const arn = (what: string) => z.string().regex(/^arn:aws[a-z-]*:acm-pca:/, `expected an ACM PCA ${what} ARN`)

/** PCA's signing algorithms (IssueCertificate SigningAlgorithm). */
export const pcaSigningAlgorithms = [
  'SHA256WITHECDSA',
  'SHA384WITHECDSA',
  'SHA512WITHECDSA',
  'SHA256WITHRSA',
  'SHA384WITHRSA',
  'SHA512WITHRSA',
] as const

/** An AWS Private CA (ACM PCA) certificate authority that signs for us. */
export const pcaBackendSchema = z
  .object({
    kind: z.literal('pca'),
    /** AWS region of the CA, e.g. eu-west-1. */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as eu-west-1'),
    /** ARN of the certificate authority. */
    certificateAuthorityArn: arn('certificate authority'),
    /** Endpoint override (VPC endpoint, FIPS endpoint, or a test double). Default: the regional endpoint. */
    endpoint: z.string().url().optional(),
    /** Static credentials; unset: the AWS default provider chain (AWS_ACCESS_KEY_ID…, profile, role). */
    credentials: z
      .object({
        accessKeyId: z.string().min(1),
        secretAccessKey: z.string().min(1),
        sessionToken: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** SigningAlgorithm; unset: matched to the CA's key (P-256 → SHA256WITHECDSA, P-384 → SHA384…, RSA → SHA256WITHRSA). */
    signingAlgorithm: z.enum(pcaSigningAlgorithms).optional(),
    /**
     * Template of end-entity certificates. An APIPassthrough template is needed so the subject and SANs that
     * policy decided (not the CSR's) are what PCA writes.
     */
    templateArn: arn('template').default('arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1'),
    /** Per-profile templates: profile name → template ARN (e.g. EndEntityClientAuthCertificate_APIPassthrough/V1). */
    profileTemplates: z.record(z.string(), arn('template')).default({}),
    /** Template of the delegated OCSP responder certificate (id-kp-OCSPSigning; id-pkix-ocsp-nocheck via API passthrough). */
    ocspTemplateArn: arn('template').default('arn:aws:acm-pca:::template/OCSPSigningCertificate_APIPassthrough/V1'),
    /**
     * URL of the CRL PCA publishes (its S3 bucket or CNAME, as in the CA's CrlConfiguration). Set: our CRL
     * endpoint serves a cached copy of it for this CA. Unset: point relying parties at PCA's CRL DP directly.
     */
    crlUrl: z.string().url().optional(),
    /** The fetched CRL is cached this many seconds (PCA republishes about every 30 minutes and after revocations). */
    crlCacheSeconds: z.number().int().min(0).default(300),
    /** Longest wait for PCA to issue a certificate (waitUntilCertificateIssued), in seconds. */
    maxWaitSeconds: z.number().int().min(2).default(30),
    /** Polling delays of the waiter, in seconds (the SDK backs off from min to max). */
    pollMinDelaySeconds: z.number().int().min(1).default(1),
    pollMaxDelaySeconds: z.number().int().min(1).default(4),
    /** SDK attempts per call (first try included); throttling and 5xx are retried with backoff. */
    maxAttempts: z.number().int().min(1).max(10).default(5),
    /** Timeout of one HTTP request, in milliseconds. */
    requestTimeoutMs: z.number().int().positive().default(10_000),
  })
  .strict()
  .refine((c) => c.pollMaxDelaySeconds >= c.pollMinDelaySeconds, {
    message: 'pollMaxDelaySeconds must be at least pollMinDelaySeconds',
    path: ['pollMaxDelaySeconds'],
  })

export type PcaBackendConfig = z.infer<typeof pcaBackendSchema>
