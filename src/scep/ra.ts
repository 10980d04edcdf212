// The SCEP registration authority (RFC 8894 §2.2, §3.1): one RSA key and certificate per CA backend that SCEP
// labels use. Clients encrypt their requests to it and verify our replies with it. The certificate is issued by
// the serving CA through the issuance service (internal profile scep-ra-<backend>, so it is in the inventory), the
// key is kept 0600 in <dataDir>/scep/<backend>/ — or in the backend's secret store (Vault KV v2) when it has one —
// and both are replaced when a third of the validity is left or the issuing CA changed. The previous RA stays usable for decryption until it expires: clients cache GetCACert.
import { constants, createPrivateKey, privateDecrypt, sign as cryptoSign, webcrypto, type KeyObject } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { CanKeepSecrets } from '../ca/backend.js'
import { scepRaProfileName } from '../config/scep.js'
import type { IssuanceService } from '../issuance/service.js'
import { parseCsr } from '../pki/csr.js'
import { fromPem, toPem, type Der } from '../pki/pem.js'
import { prepareRsaKey, rsaesPkcs1v15Decrypt, type ImplicitRejectionKey } from '../pki/rsaes-pkcs1.js'
import { x509 } from '../pki/x509.js'

export type KeyTransport = { scheme: 'rsaes-pkcs1-v1_5' } | { scheme: 'rsaes-oaep'; hash: 'sha1' | 'sha256' | 'sha384' | 'sha512' }

/** One RA key and certificate. The private key never leaves this object. */
export interface RaCredential {
  backendId: string
  certificateDer: Der
  certificate: x509.X509Certificate
  /** Decrypts a content-encryption key wrapped for this RA (PKCS#1 v1.5 with implicit rejection, or OAEP). */
  unwrapKey(encryptedKey: Uint8Array, transport: KeyTransport): Buffer
  /** RSASSA-PKCS1-v1_5 signature over `data` with `hash`, computed on the libuv thread pool (off the event loop). */
  sign(hash: string, data: Uint8Array): Promise<Buffer>
}

export interface RaService {
  /** The RA that signs replies and that GetCACert hands out, for a backend. */
  current(backendId: string): RaCredential
  /** Current first, then the previous one while it is unexpired: candidates for decryption. */
  recipients(backendId: string): RaCredential[]
  /** Replaces RAs that are due (also runs every 12 hours once started). */
  rotateIfDue(): Promise<string[]>
  stop(): void
}

export function raCredential(backendId: string, certPem: string, keyPem: string): RaCredential {
  const certificateDer = fromPem(certPem, 'CERTIFICATE')
  const key: KeyObject = createPrivateKey(keyPem)
  const prepared: ImplicitRejectionKey = prepareRsaKey(key)
  return {
    backendId,
    certificateDer,
    certificate: new x509.X509Certificate(certificateDer),
    unwrapKey(encryptedKey, transport) {
      if (transport.scheme === 'rsaes-pkcs1-v1_5') return rsaesPkcs1v15Decrypt(prepared, encryptedKey)
      // OAEP decryption is allowed in Node 20 (only PKCS#1 v1.5 is refused) and constant time in OpenSSL.
      return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: transport.hash }, encryptedKey)
    },
    sign: (hash, data) =>
      new Promise((resolve, reject) => cryptoSign(hash, data, key, (err, signature) => (err ? reject(err) : resolve(signature)))),
  }
}

/** Life left below which an RA certificate is replaced. */
const ROTATE_AT_REMAINING = 1 / 3
const CHECK_EVERY_MS = 12 * 3600 * 1000

const due = (cert: x509.X509Certificate, issuerDer: Der | undefined, now: number) => {
  const life = cert.notAfter.getTime() - cert.notBefore.getTime()
  if (cert.notAfter.getTime() - now < life * ROTATE_AT_REMAINING) return true
  if (!issuerDer) return false
  return cert.issuer !== new x509.X509Certificate(issuerDer).subject
}

async function newKeyAndCsr(bits: number, backendId: string) {
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]) }
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=Enroll SCEP RA ${backendId}`,
    keys,
    signingAlgorithm: alg,
  })
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey))
  return { csrDer: new Uint8Array(csr.rawData), keyPem: toPem(pkcs8, 'PRIVATE KEY') }
}

/** The two RA slots of a backend: the current RA and the one it replaced (kept for decryption until it expires). */
export type RaSlot = 'ra' | 'ra-previous'
export interface StoredRa {
  certPem: string
  keyPem: string
}

/** Where RA keys and certificates are kept: files in the data dir, or the CA backend's secret store (Vault KV). */
export interface RaKeyStore {
  load(backendId: string, slot: RaSlot): Promise<StoredRa | undefined>
  save(backendId: string, slot: RaSlot, ra: StoredRa): Promise<void>
  /** Where a slot lives, for logs. */
  location(backendId: string, slot: RaSlot): string
}

/** `<dataDir>/scep/<backend>/<slot>.key.pem` (0600) and `.crt.pem`, each replaced atomically. */
export function fileRaKeyStore(dataDir: string): RaKeyStore {
  const dirOf = (id: string) => join(dataDir, 'scep', id)
  return {
    async load(id, slot) {
      const keyPath = join(dirOf(id), `${slot}.key.pem`)
      const certPath = join(dirOf(id), `${slot}.crt.pem`)
      if (!existsSync(keyPath) || !existsSync(certPath)) return undefined
      return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') }
    },
    async save(id, slot, ra) {
      const dir = dirOf(id)
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      for (const [file, text, mode] of [
        [`${slot}.key.pem`, ra.keyPem, 0o600],
        [`${slot}.crt.pem`, ra.certPem, 0o644],
      ] as const) {
        writeFileSync(join(dir, `${file}.tmp`), text, { mode })
        renameSync(join(dir, `${file}.tmp`), join(dir, file))
      }
    },
    location: (id, slot) => join(dirOf(id), `${slot}.crt.pem`),
  }
}

/** The backend's secret store (Vault KV v2): one secret per slot at `scep-ra/<backend>/<slot>`, versioned by KV. */
export function secretRaKeyStore(secrets: CanKeepSecrets): RaKeyStore {
  const name = (id: string, slot: RaSlot) => `scep-ra/${id}/${slot}`
  return {
    async load(id, slot) {
      const data = await secrets.getSecret(name(id, slot))
      const certPem = data?.['certificate']
      const keyPem = data?.['private_key']
      return certPem && keyPem ? { certPem, keyPem } : undefined
    },
    save: (id, slot, ra) => secrets.putSecret(name(id, slot), { certificate: ra.certPem, private_key: ra.keyPem }),
    location: (id, slot) => secrets.secretLocation(name(id, slot)),
  }
}

export interface RaDeps {
  dataDir: string
  backendIds: string[]
  keyBits: number
  issuance: Pick<IssuanceService, 'issue' | 'chainFor' | 'chainForBackend'>
  logger: Logger
  /** Where each backend's RA is kept; the data dir when unset. */
  keyStoreFor?: (backendId: string) => RaKeyStore
  now?: () => number
}

/** Loads or creates the RA of every listed backend, and keeps them fresh. */
export async function startRaService(deps: RaDeps): Promise<RaService> {
  const now = deps.now ?? Date.now
  const current = new Map<string, RaCredential>()
  const previous = new Map<string, RaCredential>()
  const files = fileRaKeyStore(deps.dataDir)
  const storeOf = deps.keyStoreFor ?? (() => files)

  async function load(id: string, slot: RaSlot): Promise<RaCredential | undefined> {
    const store = storeOf(id)
    const stored = await store.load(id, slot)
    if (!stored) return undefined
    try {
      return raCredential(id, stored.certPem, stored.keyPem)
    } catch (err) {
      deps.logger.warn({ err, backend: id, at: store.location(id, slot) }, 'scep: cannot load RA credentials; issuing new ones')
      return undefined
    }
  }

  async function issueNew(id: string): Promise<void> {
    const store = storeOf(id)
    const { csrDer, keyPem } = await newKeyAndCsr(deps.keyBits, id)
    const outcome = await deps.issuance.issue({
      csr: await parseCsr(csrDer),
      profile: scepRaProfileName(id),
      protocol: 'system',
      requester: 'system:scep-ra',
    })
    if (outcome.status !== 'issued') throw new Error(`profile ${scepRaProfileName(id)} must not require approval`)
    const old = current.get(id)
    const oldStored = old ? await store.load(id, 'ra') : undefined
    if (old && oldStored) {
      await store.save(id, 'ra-previous', oldStored)
      previous.set(id, old)
    }
    const certPem = toPem(outcome.certificateDer, 'CERTIFICATE')
    await store.save(id, 'ra', { certPem, keyPem })
    current.set(id, raCredential(id, certPem, keyPem))
    deps.logger.info(
      { backend: id, serial: outcome.certificate.serial, at: store.location(id, 'ra') },
      'scep: issued a new RA certificate',
    )
  }

  async function rotateIfDue(): Promise<string[]> {
    const rotated: string[] = []
    for (const id of deps.backendIds) {
      const [issuing] = (await deps.issuance.chainForBackend(id)) ?? []
      const ra = current.get(id) ?? (await load(id, 'ra'))
      if (ra) current.set(id, ra)
      if (!ra || due(ra.certificate, issuing, now())) {
        await issueNew(id)
        rotated.push(id)
      }
      const prev = previous.get(id) ?? (await load(id, 'ra-previous'))
      if (prev && prev.certificate.notAfter.getTime() > now()) previous.set(id, prev)
      else previous.delete(id)
    }
    return rotated
  }

  await rotateIfDue()
  const timer = setInterval(() => {
    rotateIfDue().catch((err) => deps.logger.error({ err }, 'scep: RA rotation failed'))
  }, CHECK_EVERY_MS).unref()

  return {
    current(id) {
      const ra = current.get(id)
      if (!ra) throw new Error(`no SCEP RA for CA backend "${id}"`)
      return ra
    },
    recipients(id) {
      return [current.get(id), previous.get(id)].filter((r): r is RaCredential => r !== undefined)
    },
    rotateIfDue,
    stop: () => clearInterval(timer),
  }
}
