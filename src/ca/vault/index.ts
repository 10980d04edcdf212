// HashiCorp Vault PKI as a CA backend (https://developer.hashicorp.com/vault/api-docs/secret/pki):
// sign/<role> or sign-verbatim, revoke, ca_chain, crl; issue/<role> with the key escrowed in KV v2.
// Vault chooses its own serials: the one it used is reported in SignResult.serial (inventory form).
import type { Logger } from 'pino'
import { fromPem, toPem, type Der } from '../../pki/pem.js'
import { normalizeSerial } from '../../pki/serial.js'
import type {
  CaBackend,
  CanFetchCrl,
  CanGenerateKey,
  CanKeepSecrets,
  EscrowedKey,
  KeyedSignResult,
  RevokeRequest,
  SignRequest,
  SignResult,
} from '../backend.js'
import { certificatesFromPem, colonSerial, commonNameOf, serialOf, unavailable } from '../external.js'
import { VaultClient, VaultError } from './client.js'
import type { VaultBackendConfig } from './config.js'

const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9'

/** Vault's names of the RFC 5280 key usages (Go's x509.KeyUsage names without the prefix). */
const vaultKeyUsage: Record<string, string> = {
  digitalSignature: 'DigitalSignature',
  nonRepudiation: 'ContentCommitment',
  keyEncipherment: 'KeyEncipherment',
  dataEncipherment: 'DataEncipherment',
  keyAgreement: 'KeyAgreement',
  keyCertSign: 'CertSign',
  cRLSign: 'CRLSign',
  encipherOnly: 'EncipherOnly',
  decipherOnly: 'DecipherOnly',
}

/** Vault's names of extended key usages (Go's x509.ExtKeyUsage names); others go by OID (ext_key_usage_oids). */
const vaultExtKeyUsage: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'ServerAuth',
  '1.3.6.1.5.5.7.3.2': 'ClientAuth',
  '1.3.6.1.5.5.7.3.3': 'CodeSigning',
  '1.3.6.1.5.5.7.3.4': 'EmailProtection',
  '1.3.6.1.5.5.7.3.8': 'TimeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '1.3.6.1.5.5.7.3.17': 'IPSECIKE',
}

/** The certificate fields of sign, sign-verbatim and issue responses. */
interface VaultCertificateData {
  certificate: string
  issuing_ca?: string
  ca_chain?: string[]
  serial_number: string
  private_key?: string
  private_key_type?: string
}

/** What one KV v2 escrow version holds. */
interface EscrowRecord {
  certificate: string
  private_key: string
  ca_chain: string
  serial_number: string
  expiration: string
  certificate_id: string
}

export interface VaultBackendOptions {
  id: string
  config: VaultBackendConfig
  env: Record<string, string | undefined>
  logger: Logger
}

export class VaultBackend implements CaBackend, CanFetchCrl, CanGenerateKey, CanKeepSecrets {
  readonly kind = 'vault' as const
  readonly id: string
  readonly #config: VaultBackendConfig
  readonly #client: VaultClient
  readonly #logger: Logger
  #chain: Der[] | undefined
  #crl: { der: Der; fetchedAt: number } | undefined
  #crlFetch: Promise<Der> | undefined

  constructor(o: VaultBackendOptions) {
    this.id = o.id
    this.#config = o.config
    this.#logger = o.logger.child({ backend: o.id })
    this.#client = new VaultClient({ config: o.config, env: o.env, logger: this.#logger })
  }

  close(): void {
    this.#client.close()
  }

  /** Runs a Vault call; a failure becomes backendUnavailable with Vault's reason (sealed, permission denied, …). */
  async #vault<T>(what: string, call: (c: VaultClient) => Promise<T>): Promise<T> {
    try {
      return await call(this.#client)
    } catch (e) {
      if (!(e instanceof VaultError)) throw e
      const why = e.sealed ? 'Vault is sealed or unavailable' : e.message
      throw unavailable(this.id, `${what}: ${e.status ? `HTTP ${e.status}: ` : ''}${why}`, e)
    }
  }

  #roleOf(profile: string): string {
    return this.#config.profileRoles[profile] ?? this.#config.role
  }

  /** sign, sign-verbatim and issue share these: CN, SANs, TTL from the decided validity. */
  #subjectParams(req: SignRequest): Record<string, unknown> {
    const by = (t: string) => req.sans.filter((s) => s.type === t).map((s) => s.value)
    const ttl = Math.max(1, Math.ceil((req.notAfter.getTime() - Date.now()) / 1000))
    const cn = commonNameOf(req.subjectDer) ?? by('dns')[0]
    return {
      // No CN (an IP-only ACME order): omitted, which the role allows with require_cn=false.
      ...(cn ? { common_name: cn } : {}),
      alt_names: [...by('dns'), ...by('email')].join(','),
      ip_sans: by('ip').join(','),
      uri_sans: by('uri').join(','),
      ttl: `${ttl}s`,
      // Policy decided the SANs; Vault must not add the CN to them.
      exclude_cn_from_sans: true,
      format: 'pem',
    }
  }

  #toResult(data: VaultCertificateData): SignResult {
    const certificateDer = fromPem(data.certificate, 'CERTIFICATE')
    const serial = normalizeSerial(data.serial_number)
    if (serial !== serialOf(certificateDer)) throw new Error(`vault: serial_number ${data.serial_number} does not match the certificate`)
    const chainDer = certificatesFromPem(...(data.ca_chain?.length ? data.ca_chain : [data.issuing_ca]))
    return { certificateDer, chainDer, serial }
  }

  async sign(req: SignRequest): Promise<SignResult> {
    if (!req.csrDer) throw unavailable(this.id, 'Vault signs CSRs only and this request has none')
    const csr = toPem(req.csrDer, 'CERTIFICATE REQUEST')
    const role = this.#roleOf(req.profile)
    let path: string
    let body: Record<string, unknown>
    if (req.extKeyUsage.includes(OCSP_SIGNING) && this.#config.ocspRole) {
      path = `${this.#config.mount}/sign/${this.#config.ocspRole}`
      body = { csr, ...this.#subjectParams(req) }
    } else if (req.extKeyUsage.includes(OCSP_SIGNING) || this.#config.signVerbatim) {
      // sign-verbatim keeps the CSR's subject and SANs; usages and TTL are what policy decided.
      path = `${this.#config.mount}/sign-verbatim/${role}`
      const named = req.extKeyUsage.filter((o) => vaultExtKeyUsage[o])
      body = {
        csr,
        ttl: this.#subjectParams(req)['ttl'],
        key_usage: req.keyUsage.map((u) => vaultKeyUsage[u]),
        ext_key_usage: named.map((o) => vaultExtKeyUsage[o]),
        ext_key_usage_oids: req.extKeyUsage.filter((o) => !vaultExtKeyUsage[o]),
        format: 'pem',
      }
    } else {
      path = `${this.#config.mount}/sign/${role}`
      body = { csr, ...this.#subjectParams(req) }
    }
    const res = await this.#vault(`POST ${path}`, (c) => c.write<{ data: VaultCertificateData }>(path, body))
    return this.#toResult(res.data)
  }

  async revoke(req: RevokeRequest): Promise<void> {
    const path = `${this.#config.mount}/revoke`
    // Vault keeps no reason: its CRL lists the serial as revoked (reason unspecified). See docs/conformance.md.
    await this.#vault(`POST ${path}`, (c) => c.write(path, { serial_number: colonSerial(req.serial) }))
    // Vault rebuilds its CRL on revocation: the next fetch must not serve the copy that lacks this serial.
    this.#crl = undefined
    this.#crlFetch = undefined
  }

  async chain(): Promise<Der[]> {
    if (this.#chain) return this.#chain
    const path = `${this.#config.mount}/ca_chain`
    const pem = await this.#vault(`GET ${path}`, (c) => c.read<string>(path))
    const chain = certificatesFromPem(typeof pem === 'string' ? pem : '')
    if (!chain.length) throw unavailable(this.id, `GET ${path}: Vault returned no CA certificate`)
    this.#chain = chain
    return chain
  }

  async ready(): Promise<boolean> {
    try {
      const h = await this.#client.health()
      return h.initialized && !h.sealed
    } catch {
      return false
    }
  }

  /**
   * Vault's complete CRL, cached `crlCacheSeconds` and dropped on revocation. Read as PEM (`<mount>/crl/pem`): the
   * same CRL as `<mount>/crl`, in a form node-vault's JSON/text transport carries without corrupting bytes.
   */
  async fetchCrl(): Promise<Der> {
    const cached = this.#crl
    if (cached && Date.now() - cached.fetchedAt < this.#config.crlCacheSeconds * 1000) return cached.der
    const path = `${this.#config.mount}/crl/pem`
    const fetching = (this.#crlFetch ??= this.#vault(`GET ${path}`, (c) => c.read<string>(path)).then(
      (pem) => {
        const der = fromPem(typeof pem === 'string' ? pem : '', 'X509 CRL')
        if (this.#crlFetch === fetching) this.#crl = { der, fetchedAt: Date.now() }
        return der
      },
    ).finally(() => {
      if (this.#crlFetch === fetching) this.#crlFetch = undefined
    }))
    return fetching
  }

  async issueWithKey(req: SignRequest): Promise<KeyedSignResult> {
    const path = `${this.#config.mount}/issue/${this.#roleOf(req.profile)}`
    const res = await this.#vault(`POST ${path}`, (c) =>
      c.write<{ data: VaultCertificateData }>(path, { ...this.#subjectParams(req), private_key_format: 'pkcs8' }),
    )
    const result = this.#toResult(res.data)
    if (!res.data.private_key) throw unavailable(this.id, `POST ${path}: Vault returned no private key`)
    return { ...result, privateKeyPkcs8: fromPem(res.data.private_key, 'PRIVATE KEY') }
  }

  #kvPath(kind: 'data' | 'metadata', escrowId: string) {
    return `${this.#config.kvMount}/${kind}/${this.#config.kvPrefix}/${escrowId}`
  }

  async escrowKey(
    escrowId: string,
    key: Omit<EscrowedKey, 'version'> & { certificateId: string; notAfter: Date },
  ): Promise<number> {
    const path = this.#kvPath('data', escrowId)
    const data: EscrowRecord = {
      certificate: toPem(key.certificateDer, 'CERTIFICATE'),
      private_key: toPem(key.privateKeyPkcs8, 'PRIVATE KEY'),
      ca_chain: key.chainDer.map((d) => toPem(d, 'CERTIFICATE')).join(''),
      serial_number: colonSerial(key.serial),
      expiration: key.notAfter.toISOString(),
      certificate_id: key.certificateId,
    }
    const res = await this.#vault(`POST ${path}`, (c) => c.write<{ data: { version: number } }>(path, { data }))
    return res.data.version
  }

  async escrowedKey(escrowId: string, serial: string): Promise<EscrowedKey | undefined> {
    const read = async (version?: number) => {
      const path = `${this.#kvPath('data', escrowId)}${version ? `?version=${version}` : ''}`
      try {
        return await this.#client.read<{ data: { data: EscrowRecord | null; metadata: { version: number } } }>(path)
      } catch (e) {
        if (e instanceof VaultError && e.status === 404) return undefined
        throw unavailable(this.id, `GET ${path}: ${e instanceof VaultError ? `HTTP ${e.status}: ${e.message}` : e}`, e)
      }
    }
    const toKey = (r: { data: { data: EscrowRecord | null; metadata: { version: number } } } | undefined) => {
      const d = r?.data.data
      if (!d || normalizeSerial(d.serial_number) !== normalizeSerial(serial)) return undefined
      return {
        certificateDer: fromPem(d.certificate, 'CERTIFICATE'),
        privateKeyPkcs8: fromPem(d.private_key, 'PRIVATE KEY'),
        chainDer: certificatesFromPem(d.ca_chain),
        serial: normalizeSerial(d.serial_number),
        version: r!.data.metadata.version,
      }
    }
    const latest = await read()
    const found = toKey(latest)
    if (found || !latest) return found
    // An older certificate of a renewal line: walk back through the kept versions.
    for (let v = latest.data.metadata.version - 1; v >= 1; v--) {
      const older = toKey(await read(v))
      if (older) return older
    }
    return undefined
  }

  secretLocation(name: string): string {
    return `${this.#config.kvMount}/data/${this.#config.secretsPrefix}/${name}`
  }

  async putSecret(name: string, data: Record<string, string>): Promise<void> {
    const path = this.secretLocation(name)
    await this.#vault(`POST ${path}`, (c) => c.write(path, { data }))
  }

  async getSecret(name: string): Promise<Record<string, string> | undefined> {
    const path = this.secretLocation(name)
    try {
      const res = await this.#client.read<{ data: { data: Record<string, string> | null } }>(path)
      return res.data.data ?? undefined
    } catch (e) {
      if (e instanceof VaultError && e.status === 404) return undefined
      throw unavailable(this.id, `GET ${path}: ${e instanceof VaultError ? `HTTP ${e.status}: ${e.message}` : e}`, e)
    }
  }
}
