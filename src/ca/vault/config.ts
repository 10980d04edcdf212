// Options of a HashiCorp Vault PKI backend (`kind: vault`). Secrets (token, AppRole secret_id) come from the
// environment variable named here, or the config file; they are never logged.
import { z } from 'zod'

const vaultPath = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'expected a Vault path without leading or trailing slash')
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')

const tokenAuth = z
  .object({
    method: z.literal('token'),
    /** The Vault token. Prefer `tokenEnv` so the token stays out of files. */
    token: z.string().min(1).optional(),
    /** Environment variable holding the token when `token` is unset. Default VAULT_TOKEN. */
    tokenEnv: envName.default('VAULT_TOKEN'),
  })
  .strict()

const appRoleAuth = z
  .object({
    method: z.literal('approle'),
    /** Mount path of the AppRole auth method. Default `approle` (login at `auth/approle/login`). */
    mount: vaultPath.default('approle'),
    /** The AppRole role_id (not a secret on its own). */
    roleId: z.string().min(1),
    /** The AppRole secret_id. Prefer `secretIdEnv`. */
    secretId: z.string().min(1).optional(),
    /** Environment variable holding the secret_id when `secretId` is unset. Default VAULT_SECRET_ID. */
    secretIdEnv: envName.default('VAULT_SECRET_ID'),
  })
  .strict()

/** A HashiCorp Vault PKI secrets engine that signs for us (https://developer.hashicorp.com/vault/api-docs/secret/pki). */
export const vaultBackendSchema = z
  .object({
    kind: z.literal('vault'),
    /** Vault's address, e.g. https://vault.example.com:8200 (VAULT_ADDR). */
    address: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'expected an http(s) URL')
      .transform((u) => u.replace(/\/+$/, '')),
    /** Vault Enterprise namespace (X-Vault-Namespace), if any. */
    namespace: z.string().min(1).optional(),
    /** PEM file of the CA that issued Vault's TLS certificate, when it is not in the system trust store. */
    caFile: z.string().min(1).optional(),
    /** How to log in: a token, or AppRole (role_id + secret_id). Tokens are renewed before their TTL ends. */
    auth: z.discriminatedUnion('method', [tokenAuth, appRoleAuth]),
    /** Mount path of the PKI secrets engine. Default `pki`. */
    mount: vaultPath.default('pki'),
    /** PKI role used by `sign/<role>` (and `issue/<role>` for server-generated keys). */
    role: z.string().min(1),
    /** Per-profile role overrides: profile name → PKI role. */
    profileRoles: z.record(z.string(), z.string().min(1)).default({}),
    /**
     * Sign with `sign-verbatim` instead of `sign/<role>`: Vault keeps the CSR's subject and extensions. Only
     * for profiles that keep the CSR's subject (`subject: csr`); the role still bounds the TTL.
     */
    signVerbatim: z.boolean().default(false),
    /**
     * Delegated OCSP responder certificates (RFC 6960 §4.2.2.2): a PKI role whose ext_key_usage is OCSPSigning,
     * or unset to use `sign-verbatim/<role>` with `ext_key_usage=OCSPSigning` (needs the sign-verbatim policy).
     */
    ocspRole: z.string().min(1).optional(),
    /** KV v2 mount that escrows server-generated keys at `<kvMount>/data/<kvPrefix>/<certificate-id>`. */
    kvMount: vaultPath.default('secret'),
    kvPrefix: vaultPath.default('certs'),
    /** KV v2 path (under kvMount) of the server's own keys, e.g. the SCEP RA key at `<kvMount>/data/<secretsPrefix>/scep-ra/<backend>/ra`. */
    secretsPrefix: vaultPath.default('enroll'),
    /** Timeout of one HTTP request to Vault, in milliseconds. */
    timeoutMs: z.number().int().positive().default(10_000),
    /** Vault's CRL (`<mount>/crl`) is cached this many seconds, and refetched after every revocation. */
    crlCacheSeconds: z.number().int().min(0).default(300),
  })
  .strict()

export type VaultBackendConfig = z.infer<typeof vaultBackendSchema>
