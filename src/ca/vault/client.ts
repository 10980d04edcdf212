// A logged-in Vault HTTP client over node-vault: token or AppRole auth (auth/approle/login), the token renewed
// (auth/token/renew-self) before its TTL ends, and one fresh login and retry when Vault answers 403.
// Errors become VaultError with Vault's own message ({"errors": [...]}); the token never appears in them.
import { readFileSync } from 'node:fs'
import nodeVault from 'node-vault'
import type { Logger } from 'pino'
import type { VaultBackendConfig } from './config.js'

/** A failed Vault call: HTTP status (0 when Vault did not answer) and Vault's first error message. */
export class VaultError extends Error {
  override readonly name = 'VaultError'
  constructor(
    readonly status: number,
    readonly path: string,
    message: string,
  ) {
    super(message)
  }
  /** Vault answered 503: sealed, or in standby without a leader. */
  get sealed(): boolean {
    return this.status === 503
  }
}

interface ApiResponseError extends Error {
  response?: { statusCode: number; body: unknown }
}

/** Vault's auth block, as in login and renew-self responses. */
interface AuthBlock {
  client_token: string
  lease_duration: number
  renewable: boolean
}

/** Renew once two thirds of the token's TTL have passed. */
const RENEW_AT = 2 / 3

function toVaultError(path: string, e: unknown): VaultError {
  const r = (e as ApiResponseError).response
  if (r) return new VaultError(r.statusCode, path, e instanceof Error ? e.message : String(e))
  const code = (e as NodeJS.ErrnoException).code
  return new VaultError(0, path, code ? `Vault did not answer (${code})` : `Vault did not answer (${(e as Error).message})`)
}

export interface VaultClientOptions {
  config: Pick<VaultBackendConfig, 'address' | 'namespace' | 'caFile' | 'auth' | 'timeoutMs'>
  /** Where secrets named by `tokenEnv` / `secretIdEnv` are read. */
  env: Record<string, string | undefined>
  logger: Logger
  now?: () => number
}

export class VaultClient {
  readonly #vault: nodeVault.client
  readonly #auth: VaultBackendConfig['auth']
  readonly #secret: string
  readonly #logger: Logger
  readonly #now: () => number
  /** Epoch ms when the current token expires; Infinity for tokens without TTL; undefined before the first login. */
  #expiresAt: number | undefined
  #renewable = false
  #renewAt = Infinity
  #timer: NodeJS.Timeout | undefined
  #authenticating: Promise<void> | undefined

  constructor(o: VaultClientOptions) {
    const { config } = o
    this.#auth = config.auth
    this.#logger = o.logger
    this.#now = o.now ?? Date.now
    const secret =
      config.auth.method === 'token'
        ? (config.auth.token ?? o.env[config.auth.tokenEnv])
        : (config.auth.secretId ?? o.env[config.auth.secretIdEnv])
    if (!secret) {
      const where = config.auth.method === 'token' ? `auth.token or $${config.auth.tokenEnv}` : `auth.secretId or $${config.auth.secretIdEnv}`
      throw new Error(`vault: no ${config.auth.method === 'token' ? 'token' : 'AppRole secret_id'}: set ${where}`)
    }
    this.#secret = secret
    const requestOptions: Record<string, unknown> = { timeout: config.timeoutMs }
    if (config.caFile) requestOptions['ca'] = readFileSync(config.caFile)
    this.#vault = nodeVault({
      endpoint: config.address,
      ...(config.namespace ? { namespace: config.namespace } : {}),
      token: config.auth.method === 'token' ? secret : '',
      requestOptions,
    })
  }

  /** Stops the renewal timer. */
  close(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  async read<T>(path: string): Promise<T> {
    return this.#call(path, () => this.#vault.read(path))
  }

  async write<T>(path: string, data: Record<string, unknown>): Promise<T> {
    return this.#call(path, () => this.#vault.write(path, data))
  }

  /** Unauthenticated readiness: GET sys/health (sealed, uninitialized and standby answer non-200). */
  async health(): Promise<{ initialized: boolean; sealed: boolean; standby: boolean }> {
    try {
      return (await this.#vault.health()) as { initialized: boolean; sealed: boolean; standby: boolean }
    } catch (e) {
      throw toVaultError('sys/health', e)
    }
  }

  /** Runs a call with a current token; on 403 logs in again (or re-reads the token's state) and retries once. */
  async #call<T>(path: string, run: () => Promise<unknown>): Promise<T> {
    await this.#ensureToken()
    try {
      return (await run()) as T
    } catch (e) {
      const err = toVaultError(path, e)
      if (err.status !== 403) throw err
      this.#logger.warn({ path }, 'vault answered 403; logging in again')
      this.#expiresAt = undefined
      await this.#ensureToken()
      try {
        return (await run()) as T
      } catch (again) {
        throw toVaultError(path, again)
      }
    }
  }

  /** Logs in when there is no token, renews (or logs in again) once the renewal point has passed. */
  async #ensureToken(): Promise<void> {
    if (this.#expiresAt !== undefined && this.#now() < this.#renewAt) return
    this.#authenticating ??= this.#authenticate().finally(() => (this.#authenticating = undefined))
    await this.#authenticating
  }

  async #authenticate(): Promise<void> {
    if (this.#expiresAt !== undefined && this.#renewable && this.#now() < this.#expiresAt) {
      try {
        const renewed = (await this.#vault.tokenRenewSelf({})) as { auth: AuthBlock }
        this.#adopt(renewed.auth.lease_duration, renewed.auth.renewable)
        return
      } catch (e) {
        this.#logger.warn({ err: toVaultError('auth/token/renew-self', e) }, 'vault token renewal failed')
      }
    }
    if (this.#auth.method === 'approle') {
      this.#vault.token = ''
      try {
        const login = (await this.#vault.approleLogin({
          mount_point: this.#auth.mount,
          role_id: this.#auth.roleId,
          secret_id: this.#secret,
        })) as { auth: AuthBlock }
        this.#vault.token = login.auth.client_token
        this.#adopt(login.auth.lease_duration, login.auth.renewable)
      } catch (e) {
        throw toVaultError(`auth/${this.#auth.mount}/login`, e)
      }
      return
    }
    // A static token: learn its TTL once (0 = never expires); nothing to log in with when it is gone.
    try {
      const self = (await this.#vault.tokenLookupSelf()) as { data: { ttl: number; renewable: boolean } }
      this.#adopt(self.data.ttl, self.data.renewable)
    } catch (e) {
      throw toVaultError('auth/token/lookup-self', e)
    }
  }

  /** Records the token's TTL and schedules its renewal. */
  #adopt(ttlSeconds: number, renewable: boolean): void {
    const now = this.#now()
    this.#renewable = renewable
    this.#expiresAt = ttlSeconds > 0 ? now + ttlSeconds * 1000 : Infinity
    this.#renewAt = ttlSeconds > 0 ? now + ttlSeconds * 1000 * RENEW_AT : Infinity
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (ttlSeconds > 0) {
      // Renew even when idle, so a static token does not lapse between requests.
      this.#timer = setTimeout(() => {
        this.#ensureToken().catch((err) => this.#logger.error({ err }, 'vault token renewal failed'))
      }, Math.max(1000, this.#renewAt - now))
      this.#timer.unref()
    }
  }
}
