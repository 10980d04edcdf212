// The embedded CA: a root and an issuing CA kept in <dataDir>/ca/<id>, generated on first start.
// Leaf certificates follow RFC 5280 §4: v3, AKI/SKI, BasicConstraints, KeyUsage, EKU, SAN, CDP, AIA.
import { KeyObject, sign as signNow } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { x509 } from '../../pki/x509.js'
import type { BackendConfig, CaKeyAlgorithm } from '../../config/schema.js'
import { NULL, oid, sequence } from '../../pki/der.js'
import { keyIdentifier } from '../../pki/key-identifier.js'
import { fromPemAll, toPem, type Der } from '../../pki/pem.js'
import type { CaBackend, CanSignCrl, CrlSigner, RevokeRequest, SignRequest, SignResult } from '../backend.js'
import { pkiUrls, type PkiUrls } from '../urls.js'
import { certificate, tbsBuilder } from './certificate.js'
import { shardOf } from '../../store/revocation.js'
import {
  algorithmOfKey,
  exportPrivateKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
  keyParams,
} from './keys.js'

type LocalConfig = Extract<BackendConfig, { kind: 'local' }>

export interface LocalCaOptions {
  id: string
  dataDir: string
  config: LocalConfig
  /** Base URL of the HTTP listener, for AIA and CRL distribution points. */
  publicHttpUrl: string
}


export { keyIdentifier }

function writeSecret(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: 0o600 })
  chmodSync(`${path}.tmp`, 0o600)
  renameSync(`${path}.tmp`, path)
}

function writePublic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: 0o644 })
  renameSync(`${path}.tmp`, path)
}

interface CaFiles {
  dir: string
  rootCert: string
  rootKey: string
  issuingCert: string
  issuingKey: string
}

const caFiles = (dataDir: string, id: string): CaFiles => {
  const dir = join(dataDir, 'ca', id)
  return {
    dir,
    rootCert: join(dir, 'root.crt.pem'),
    rootKey: join(dir, 'root.key.pem'),
    issuingCert: join(dir, 'issuing.crt.pem'),
    issuingKey: join(dir, 'issuing.key.pem'),
  }
}

const days = (n: number) => n * 24 * 3600 * 1000

/** Generates a root and an issuing CA and writes them (keys 0600). Refuses to overwrite. */
async function generateHierarchy(files: CaFiles, config: LocalConfig): Promise<void> {
  const alg = config.keyAlgorithm
  const { signing } = keyParams(alg)
  const now = Date.now()
  const rootKeys = await generateKeyPair(alg)
  const rootName = `CN=${config.commonName} Root`
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: rootName,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days(config.rootValidityDays)),
    keys: rootKeys,
    signingAlgorithm: signing,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  })
  const issuingKeys = await generateKeyPair(alg)
  const issuing = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${config.commonName} Issuing CA`,
    issuer: root.subjectName,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(Math.min(now + days(config.issuingValidityDays), root.notAfter.getTime())),
    publicKey: issuingKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: signing,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(issuingKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  })
  mkdirSync(files.dir, { recursive: true, mode: 0o700 })
  writeSecret(files.rootKey, await exportPrivateKeyPem(rootKeys.privateKey))
  writeSecret(files.issuingKey, await exportPrivateKeyPem(issuingKeys.privateKey))
  writePublic(files.rootCert, root.toString('pem') + '\n')
  writePublic(files.issuingCert, issuing.toString('pem') + '\n')
}

function randomSerial(): string {
  const b = new Uint8Array(16)
  globalThis.crypto.getRandomValues(b)
  b[0] = (b[0]! & 0x7f) | 0x01
  return Buffer.from(b).toString('hex')
}

const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9'

/** RFC 5758 §3.2 / RFC 4055 §5 AlgorithmIdentifier of the CA's signatures. */
function signatureAlgorithmDer(alg: CaKeyAlgorithm): Der {
  if (alg === 'ecdsa-p256') return sequence(oid('1.2.840.10045.4.3.2'))
  if (alg === 'ecdsa-p384') return sequence(oid('1.2.840.10045.4.3.3'))
  return sequence(oid('1.2.840.113549.1.1.11'), NULL)
}

export class LocalCa implements CaBackend, CanSignCrl {
  readonly kind = 'local' as const
  readonly #urls: PkiUrls
  readonly #crlShards: number
  readonly #chain: Der[]
  readonly #crlSigner: CrlSigner
  readonly #tbs: ReturnType<typeof tbsBuilder>

  private constructor(
    readonly id: string,
    readonly algorithm: CaKeyAlgorithm,
    issuing: x509.X509Certificate,
    chain: Der[],
    issuingKey: CryptoKey,
    publicHttpUrl: string,
    crlShards: number,
  ) {
    const signing = keyParams(algorithm).signing
    const hash = (signing as { hash: string }).hash.replace('SHA-', 'sha')
    const privateKey = KeyObject.from(issuingKey)
    this.#chain = chain
    this.#urls = pkiUrls(publicHttpUrl, id)
    this.#crlShards = crlShards
    const issuerNameDer = new Uint8Array(issuing.subjectName.toArrayBuffer())
    const issuerKeyId = new Uint8Array(Buffer.from(keyIdentifier(new Uint8Array(issuing.publicKey.rawData)), 'hex'))
    this.#crlSigner = {
      issuerNameDer,
      keyIdentifier: issuerKeyId,
      signatureAlgorithmDer: signatureAlgorithmDer(algorithm),
      shards: crlShards,
      urls: this.#urls,
      // node:crypto rather than WebCrypto: an ECDSA signature is made on the spot (tens of µs, less than handing it
      // to the thread pool and back); an RSA one (about a millisecond) still goes to the pool.
      async sign(tbs: Der): Promise<Der> {
        if (signing.name === 'ECDSA') return new Uint8Array(signNow(hash, tbs, { key: privateKey, dsaEncoding: 'der' }))
        return new Promise<Der>((resolve, reject) =>
          signNow(hash, tbs, privateKey, (err, signature) => (err ? reject(err) : resolve(new Uint8Array(signature)))),
        )
      },
    }
    this.#tbs = tbsBuilder({
      issuerNameDer,
      keyIdentifier: issuerKeyId,
      signatureAlgorithmDer: this.#crlSigner.signatureAlgorithmDer,
      ocspUrl: this.#urls.ocsp,
      caIssuersUrl: this.#urls.caIssuers,
    })
  }

  crlSigner(): CrlSigner {
    return this.#crlSigner
  }

  /** Opens the CA in <dataDir>/ca/<id>, generating it first when `create` is set and nothing exists. */
  static async open(options: LocalCaOptions, create = true): Promise<{ ca: LocalCa; generated: boolean }> {
    const files = caFiles(options.dataDir, options.id)
    let generated = false
    if (!existsSync(files.issuingCert) || !existsSync(files.issuingKey)) {
      if (existsSync(files.issuingCert) || existsSync(files.issuingKey)) {
        throw new Error(`ca: ${files.dir} holds only part of a CA (certificate or key missing); refusing to regenerate`)
      }
      if (!create) throw new Error(`ca: no CA in ${files.dir}; run "enroll ca init" or "enroll serve" first`)
      await generateHierarchy(files, options.config)
      generated = true
    }
    const issuingPem = readFileSync(files.issuingCert, 'utf8')
    const [issuingDer] = fromPemAll(issuingPem, 'CERTIFICATE')
    if (!issuingDer) throw new Error(`ca: ${files.issuingCert} holds no certificate`)
    const issuing = new x509.X509Certificate(issuingDer)
    const algorithm = algorithmOfKey(new Uint8Array(issuing.publicKey.rawData))
    const key = await importPrivateKeyPem(readFileSync(files.issuingKey, 'utf8'), algorithm)
    const rootDer = existsSync(files.rootCert) ? fromPemAll(readFileSync(files.rootCert, 'utf8'), 'CERTIFICATE') : []
    const chain = [issuingDer, ...rootDer]
    const ca = new LocalCa(options.id, algorithm, issuing, chain, key, options.publicHttpUrl, options.config.crlShards)
    return { ca, generated }
  }

  async sign(req: SignRequest): Promise<SignResult> {
    const shard = this.#crlShards ? shardOf(req.serial, this.#crlShards) : undefined
    const tbs = this.#tbs({
      serial: req.serial,
      notBefore: req.notBefore,
      notAfter: req.notAfter,
      subjectDer: req.subjectDer,
      publicKeyDer: req.publicKeyDer,
      subjectKeyIdentifier: Buffer.from(keyIdentifier(req.publicKeyDer), 'hex'),
      sans: req.sans,
      keyUsage: req.keyUsage,
      extKeyUsage: req.extKeyUsage,
      ocspNoCheck: req.extKeyUsage.includes(OCSP_SIGNING),
      crlUrl: this.#urls.crl(shard),
      deltaCrlUrl: this.#urls.deltaCrl(shard),
    })
    const signature = await this.#crlSigner.sign(tbs)
    return {
      certificateDer: certificate(tbs, this.#crlSigner.signatureAlgorithmDer, signature),
      chainDer: this.#chain,
      // As encoded: DER times have whole seconds.
      notBefore: new Date(Math.floor(req.notBefore.getTime() / 1000) * 1000),
      notAfter: new Date(Math.floor(req.notAfter.getTime() / 1000) * 1000),
    }
  }

  /** The inventory is the local CA's revocation state; CRL and OCSP read it. Nothing else to tell. */
  async revoke(_req: RevokeRequest): Promise<void> {}

  async chain(): Promise<Der[]> {
    return this.#chain
  }

  async ready(): Promise<boolean> {
    return true
  }

  /** PEM bundle of the chain (issuing first), as clients load it. */
  chainPem(): string {
    return this.#chain.map((d) => toPem(d, 'CERTIFICATE')).join('')
  }
}
