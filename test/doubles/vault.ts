// TEST ONLY: an HTTP double of HashiCorp Vault's API, close enough that the production client (node-vault) runs
// unchanged against it: X-Vault-Token, auth/approle/login, auth/token/lookup-self and renew-self, sys/health,
// PKI sign/<role>, sign-verbatim[/<role>], issue/<role>, revoke, ca_chain, crl (DER and /pem), KV v2 data and
// metadata with versions, errors as {"errors": [...]}, 403 "permission denied" for a bad token, 503 while sealed.
// Shapes follow https://developer.hashicorp.com/vault/api-docs (PKI, KV v2, AppRole, token, sys/health).
import { randomBytes, randomUUID, webcrypto } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { x509 } from '../../src/pki/x509.js'
import { KU, makeTestCa, randomSerialHex, signCrl, signLeaf, type TestCa } from './ca.js'

export interface VaultRole {
  /** Largest TTL the role grants, in seconds. */
  maxTtlSeconds?: number
  keyUsage?: string[]
  extKeyUsage?: string[]
  /** Vault's require_cn (default true): refuse requests without common_name. */
  requireCn?: boolean
}

export interface VaultDoubleOptions {
  roleId?: string
  secretId?: string
  /** A static token that works without login (token auth). */
  staticToken?: string
  /** TTL of tokens handed out by login, in seconds (0: no expiry). */
  tokenTtlSeconds?: number
  mount?: string
  kvMount?: string
  roles?: Record<string, VaultRole>
}

export interface VaultCall {
  method: string
  path: string
  status: number
  token: string | undefined
}

const kuBits: Record<string, number> = {
  DigitalSignature: KU.digitalSignature,
  ContentCommitment: KU.nonRepudiation,
  KeyEncipherment: KU.keyEncipherment,
  DataEncipherment: KU.dataEncipherment,
  KeyAgreement: KU.keyAgreement,
  CertSign: KU.keyCertSign,
  CRLSign: KU.cRLSign,
}
const ekuOids: Record<string, string> = {
  ServerAuth: '1.3.6.1.5.5.7.3.1',
  ClientAuth: '1.3.6.1.5.5.7.3.2',
  CodeSigning: '1.3.6.1.5.5.7.3.3',
  EmailProtection: '1.3.6.1.5.5.7.3.4',
  TimeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors[0])
  }
}

const colon = (hex: string) => hex.match(/../g)!.join(':')
const uncolon = (s: string) => s.replace(/[:-]/g, '').toLowerCase().replace(/^(00)+(?=..)/, '')
const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',') : []).map((s) => s.trim()).filter(Boolean)

function parseTtl(v: unknown): number | undefined {
  if (v === undefined || v === '') return undefined
  if (typeof v === 'number') return v
  const m = /^(\d+)([smhd]?)$/.exec(String(v))
  if (!m) throw new HttpError(400, [`error parsing ttl: invalid duration ${String(v)}`])
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's']
}

export class VaultDouble {
  readonly url: string
  readonly ca: TestCa
  readonly calls: VaultCall[] = []
  sealed = false
  /** Added to the wall clock: advance it to let tokens expire. */
  clockOffsetMs = 0
  /** Answer the next matching requests with this status and errors (then serve normally again). */
  readonly faults: { method?: string; path: RegExp; status: number; errors: string[]; times: number }[] = []
  /** Serials (hex) Vault has issued, with their DER. */
  readonly issued = new Map<string, Uint8Array>()
  readonly revoked = new Map<string, Date>()
  readonly kv = new Map<string, { data: Record<string, unknown>; created: Date; deleted?: Date }[]>()
  #tokens = new Map<string, { expires: number; renewable: boolean }>()
  #crlNumber = 1
  #crl: x509.X509Crl | undefined
  readonly #o: Required<Omit<VaultDoubleOptions, 'staticToken'>> & { staticToken?: string | undefined }

  private constructor(
    readonly server: Server,
    ca: TestCa,
    o: VaultDoubleOptions,
  ) {
    this.ca = ca
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    this.#o = {
      roleId: o.roleId ?? 'enroll-role-id',
      secretId: o.secretId ?? 'enroll-secret-id',
      staticToken: o.staticToken,
      tokenTtlSeconds: o.tokenTtlSeconds ?? 3600,
      mount: o.mount ?? 'pki',
      kvMount: o.kvMount ?? 'secret',
      roles: o.roles ?? { enroll: {} },
    }
    if (o.staticToken) this.#tokens.set(o.staticToken, { expires: Infinity, renewable: false })
  }

  static async start(o: VaultDoubleOptions = {}): Promise<VaultDouble> {
    const ca = await makeTestCa('Vault Double')
    let double: VaultDouble | undefined
    const server = createServer((req, res) => void double!.handle(req, res))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    double = new VaultDouble(server, ca, o)
    return double
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r())
      this.server.closeAllConnections()
    })
  }

  now = () => Date.now() + this.clockOffsetMs

  /** Revokes every token handed out (the next call gets 403 and must log in again). */
  revokeAllTokens(): void {
    for (const t of [...this.#tokens.keys()]) if (t !== this.#o.staticToken) this.#tokens.delete(t)
  }

  tokenCount(): number {
    return this.#tokens.size
  }

  fail(path: RegExp, status: number, errors: string[], times = 1, method?: string): void {
    this.faults.push({ path, status, errors, times, ...(method ? { method } : {}) })
  }

  callsTo(path: RegExp): VaultCall[] {
    return this.calls.filter((c) => path.test(c.path))
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault')
    const path = url.pathname.replace(/^\/v1\//, '')
    const token = req.headers['x-vault-token'] as string | undefined
    let status = 200
    try {
      const body = await readJson(req)
      const out = await this.route(req.method ?? 'GET', path, url.searchParams, token, body)
      if (out instanceof Raw) {
        res.writeHead(200, { 'Content-Type': out.type })
        res.end(out.body)
      } else if (out === undefined) {
        status = 204
        res.writeHead(204).end()
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify(out))
      }
    } catch (e) {
      const err = e instanceof HttpError ? e : new HttpError(500, [`internal error: ${(e as Error).message}`])
      status = err.status
      res.writeHead(err.status, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(e instanceof HealthAnswer ? e.body : { errors: err.errors }))
    } finally {
      this.calls.push({ method: req.method ?? 'GET', path, status, token })
    }
  }

  #requireToken(token: string | undefined): void {
    const t = token ? this.#tokens.get(token) : undefined
    if (!t || t.expires <= this.now()) throw new HttpError(403, ['permission denied'])
  }

  #newToken(): { client_token: string; accessor: string; policies: string[]; token_policies: string[]; lease_duration: number; renewable: boolean } {
    const client_token = `hvs.${randomBytes(18).toString('base64url')}`
    const ttl = this.#o.tokenTtlSeconds
    this.#tokens.set(client_token, { expires: ttl > 0 ? this.now() + ttl * 1000 : Infinity, renewable: true })
    return { client_token, accessor: randomUUID(), policies: ['default', 'enroll'], token_policies: ['default', 'enroll'], lease_duration: ttl, renewable: true }
  }

  async route(method: string, path: string, query: URLSearchParams, token: string | undefined, body: Record<string, unknown>): Promise<unknown> {
    const fault = this.faults.find((f) => f.path.test(path) && (!f.method || f.method === method))
    if (fault) {
      if (--fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1)
      throw new HttpError(fault.status, fault.errors)
    }
    if (path === 'sys/health') {
      if (this.sealed) throw new HealthAnswer(503, { initialized: true, sealed: true, standby: false })
      return { initialized: true, sealed: false, standby: false, performance_standby: false, version: '1.17.0-double' }
    }
    if (this.sealed) throw new HttpError(503, ['Vault is sealed'])
    const envelope = (data: unknown, auth: unknown = null) => ({
      request_id: randomUUID(),
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data,
      wrap_info: null,
      warnings: null,
      auth,
    })

    if (method === 'POST' && path === 'auth/approle/login') {
      if (body['role_id'] !== this.#o.roleId || body['secret_id'] !== this.#o.secretId) {
        throw new HttpError(400, ['invalid role or secret ID'])
      }
      return envelope(null, { ...this.#newToken(), metadata: { role_name: 'enroll' } })
    }
    this.#requireToken(token)
    const t = this.#tokens.get(token!)!
    if (method === 'GET' && path === 'auth/token/lookup-self') {
      const ttl = t.expires === Infinity ? 0 : Math.floor((t.expires - this.now()) / 1000)
      return envelope({ id: token, ttl, renewable: t.renewable, policies: ['default', 'enroll'] })
    }
    if (method === 'POST' && path === 'auth/token/renew-self') {
      if (!t.renewable) throw new HttpError(400, ['lease is not renewable'])
      const ttl = this.#o.tokenTtlSeconds
      t.expires = this.now() + ttl * 1000
      return envelope(null, { client_token: token, accessor: randomUUID(), policies: ['default', 'enroll'], lease_duration: ttl, renewable: true })
    }

    const m = this.#o.mount
    const kv = this.#o.kvMount
    if (path.startsWith(`${m}/`)) return envelopeOrRaw(await this.pki(method, path.slice(m.length + 1), body), envelope)
    if (path.startsWith(`${kv}/data/`)) return envelope(this.kvData(method, path.slice(kv.length + 6), query, body))
    if (path.startsWith(`${kv}/metadata/`)) return envelope(this.kvMetadata(method, path.slice(kv.length + 10)))
    throw new HttpError(404, [`no handler for route "${path}". route entry not found.`])
  }

  #role(name: string | undefined): VaultRole {
    const role = name ? this.#o.roles[name] : undefined
    if (!role) throw new HttpError(400, [`unknown role: ${name}`])
    return role
  }

  async pki(method: string, rest: string, body: Record<string, unknown>): Promise<unknown> {
    const [op, arg] = rest.split('/') as [string, string | undefined]
    if (method === 'GET' && rest === 'ca_chain') return new Raw(this.ca.chainPem.join('\n'), 'application/pem-file')
    if (method === 'GET' && (rest === 'crl' || rest === 'crl/pem')) {
      this.#crl ??= await signCrl(
        this.ca,
        this.#crlNumber,
        [...this.revoked].map(([serialHex, at]) => ({ serialHex, at })),
      )
      return rest === 'crl'
        ? new Raw(Buffer.from(this.#crl.rawData), 'application/pkix-crl')
        : new Raw(x509.PemConverter.encode(this.#crl.rawData, 'X509 CRL'), 'application/pem-file')
    }
    if (method === 'POST' && rest === 'revoke') {
      const serial = uncolon(String(body['serial_number'] ?? ''))
      if (!this.issued.has(serial)) throw new HttpError(400, [`certificate with serial ${String(body['serial_number'])} not found`])
      const at = this.revoked.get(serial) ?? new Date(this.now())
      this.revoked.set(serial, at)
      this.#crlNumber++
      this.#crl = undefined
      return { data: { revocation_time: Math.floor(at.getTime() / 1000), revocation_time_rfc3339: at.toISOString(), state: 'revoked' } }
    }
    if (method === 'POST' && (op === 'sign' || op === 'sign-verbatim' || op === 'issue')) {
      const role = op === 'sign-verbatim' && !arg ? {} : this.#role(arg)
      return { data: await this.#issue(op, role, body) }
    }
    throw new HttpError(404, [`no handler for route "${rest}". route entry not found.`])
  }

  async #issue(op: 'sign' | 'sign-verbatim' | 'issue', role: VaultRole, body: Record<string, unknown>) {
    let publicKey: x509.PublicKey
    let csr: x509.Pkcs10CertificateRequest | undefined
    let privateKeyPem: string | undefined
    if (op === 'issue') {
      const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
      publicKey = await x509.PublicKey.create(keys.publicKey)
      const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey))
      if (body['private_key_format'] !== 'pkcs8') throw new HttpError(400, ['the double only answers private_key_format=pkcs8'])
      privateKeyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')
    } else {
      try {
        csr = new x509.Pkcs10CertificateRequest(String(body['csr'] ?? ''))
      } catch {
        throw new HttpError(400, ['no data found in PEM block'])
      }
      if (!(await csr.verify())) throw new HttpError(400, ['certificate request signature is invalid'])
      publicKey = csr.publicKey
    }
    const maxTtl = role.maxTtlSeconds ?? 30 * 86400
    const ttl = Math.min(parseTtl(body['ttl']) ?? maxTtl, maxTtl)
    const now = this.now()
    let subject: x509.Name | string
    let sans: x509.JsonGeneralName[]
    let keyUsage: number
    let extKeyUsage: string[]
    if (op === 'sign-verbatim') {
      subject = csr!.subjectName
      sans = csr!.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? []
      keyUsage = list(body['key_usage'] ?? ['DigitalSignature', 'KeyAgreement', 'KeyEncipherment']).reduce((f, n) => f | (kuBits[n] ?? 0), 0)
      extKeyUsage = [...list(body['ext_key_usage']).map((n) => ekuOids[n]!), ...list(body['ext_key_usage_oids'])]
    } else {
      const cn = String(body['common_name'] ?? '')
      if (!cn && role.requireCn !== false) throw new HttpError(400, ['the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false'])
      subject = cn ? new x509.Name([{ '2.5.4.3': [cn] }]) : new x509.Name([])
      const alt = list(body['alt_names'])
      sans = [
        ...alt.map((v): x509.JsonGeneralName => (v.includes('@') ? { type: 'email', value: v } : { type: 'dns', value: v })),
        ...list(body['ip_sans']).map((v): x509.JsonGeneralName => ({ type: 'ip', value: v })),
        ...list(body['uri_sans']).map((v): x509.JsonGeneralName => ({ type: 'url', value: v })),
      ]
      if (body['exclude_cn_from_sans'] !== true && /^[a-z0-9.-]+$/i.test(cn) && !alt.includes(cn)) sans.unshift({ type: 'dns', value: cn })
      keyUsage = (role.keyUsage ?? ['DigitalSignature', 'KeyAgreement', 'KeyEncipherment']).reduce((f, n) => f | (kuBits[n] ?? 0), 0)
      extKeyUsage = (role.extKeyUsage ?? ['ServerAuth', 'ClientAuth']).map((n) => ekuOids[n]!)
    }
    const serialHex = randomSerialHex()
    const cert = await signLeaf(this.ca, {
      serialHex,
      subject,
      publicKey,
      notBefore: new Date(now - 30_000),
      notAfter: new Date(now + ttl * 1000),
      sans,
      keyUsage,
      extKeyUsage,
    })
    this.issued.set(serialHex, new Uint8Array(cert.rawData))
    return {
      certificate: cert.toString('pem'),
      issuing_ca: this.ca.chainPem[0],
      ca_chain: this.ca.chainPem,
      serial_number: colon(serialHex),
      expiration: Math.floor(cert.notAfter.getTime() / 1000),
      ...(privateKeyPem ? { private_key: privateKeyPem, private_key_type: 'ec' } : {}),
    }
  }

  kvData(method: string, path: string, query: URLSearchParams, body: Record<string, unknown>): unknown {
    const versions = this.kv.get(path)
    if (method === 'POST' || method === 'PUT') {
      const data = body['data']
      if (!data || typeof data !== 'object') throw new HttpError(400, ['no data provided'])
      const list = versions ?? []
      list.push({ data: data as Record<string, unknown>, created: new Date(this.now()) })
      this.kv.set(path, list)
      return { created_time: list.at(-1)!.created.toISOString(), custom_metadata: null, deletion_time: '', destroyed: false, version: list.length }
    }
    if (method === 'GET') {
      if (!versions?.length) throw new HttpError(404, [])
      const v = query.get('version') ? Number(query.get('version')) : versions.length
      const entry = versions[v - 1]
      if (!entry) throw new HttpError(404, [])
      return {
        data: entry.deleted ? null : entry.data,
        metadata: { created_time: entry.created.toISOString(), custom_metadata: null, deletion_time: entry.deleted?.toISOString() ?? '', destroyed: false, version: v },
      }
    }
    throw new HttpError(405, ['unsupported operation'])
  }

  kvMetadata(method: string, path: string): unknown {
    const versions = this.kv.get(path)
    if (method !== 'GET') throw new HttpError(405, ['unsupported operation'])
    if (!versions?.length) throw new HttpError(404, [])
    return {
      cas_required: false,
      created_time: versions[0]!.created.toISOString(),
      current_version: versions.length,
      max_versions: 0,
      oldest_version: 1,
      updated_time: versions.at(-1)!.created.toISOString(),
      versions: Object.fromEntries(
        versions.map((v, i) => [String(i + 1), { created_time: v.created.toISOString(), deletion_time: v.deleted?.toISOString() ?? '', destroyed: false }]),
      ),
    }
  }
}

/** A non-JSON answer (PEM or DER), as Vault sends ca_chain and crl. */
class Raw {
  constructor(
    readonly body: string | Buffer,
    readonly type: string,
  ) {}
}

/** sys/health answers sealed with 503 and its usual body (not an error document). */
class HealthAnswer extends HttpError {
  constructor(
    status: number,
    readonly body: unknown,
  ) {
    super(status, [])
  }
}

function envelopeOrRaw(out: unknown, envelope: (data: unknown) => unknown): unknown {
  if (out instanceof Raw) return out
  const o = out as { data: unknown }
  return envelope(o.data)
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (!text) return {}
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new HttpError(400, ['failed to parse JSON input'])
  }
}
