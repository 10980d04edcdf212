// Delegated OCSP responders (RFC 6960 §4.2.2.2): one per CA backend, key in memory only, certificate issued
// through the issuance service (so it is in the inventory) with id-kp-OCSPSigning and id-pkix-ocsp-nocheck,
// short-lived and replaced once half of its life has passed.
import { webcrypto } from 'node:crypto'
import type { Logger } from 'pino'
import { ocspResponderProfileName } from '../config/load.js'
import type { IssuanceService } from '../issuance/service.js'
import { parseCsr } from '../pki/csr.js'
import { ecdsaRawToDer, oid, sequence } from '../pki/der.js'
import { keyIdentifier } from '../pki/key-identifier.js'
import type { Der } from '../pki/pem.js'
import { x509 } from '../pki/x509.js'
import type { ResponseSigner } from './ocsp-response.js'

export interface Responder extends ResponseSigner {
  backendId: string
  notBefore: Date
  notAfter: Date
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'))

async function newResponder(backendId: string, issuance: IssuanceService): Promise<Responder> {
  const keys = (await webcrypto.subtle.generateKey(ALG, false, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=OCSP Responder ${backendId}`,
    keys,
    signingAlgorithm: ALG,
  })
  const outcome = await issuance.issue({
    csr: await parseCsr(new Uint8Array(csr.rawData)),
    profile: ocspResponderProfileName(backendId),
    protocol: 'system',
    requester: 'system:ocsp',
  })
  if (outcome.status !== 'issued') throw new Error('OCSP responder profiles must not require approval')
  const cert = new x509.X509Certificate(outcome.certificateDer)
  const privateKey = keys.privateKey
  return {
    backendId,
    certDer: outcome.certificateDer,
    keyHash: Buffer.from(keyIdentifier(new Uint8Array(cert.publicKey.rawData)), 'hex'),
    signatureAlgorithmDer: ECDSA_WITH_SHA256,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    async sign(tbs: Der): Promise<Der> {
      return ecdsaRawToDer(new Uint8Array(await webcrypto.subtle.sign(ALG, privateKey as unknown as webcrypto.CryptoKey, tbs)))
    },
  }
}

export function createResponderPool(deps: { issuance: IssuanceService; logger: Logger; now?: () => Date }) {
  const now = deps.now ?? (() => new Date())
  const current = new Map<string, Responder>()
  const issuing = new Map<string, Promise<Responder>>()

  function renew(backendId: string): Promise<Responder> {
    const running = issuing.get(backendId)
    if (running) return running
    const job = newResponder(backendId, deps.issuance)
      .then((r) => {
        current.set(backendId, r)
        deps.logger.info({ backendId, notAfter: r.notAfter.toISOString() }, 'OCSP responder certificate issued')
        return r
      })
      .finally(() => issuing.delete(backendId))
    issuing.set(backendId, job)
    return job
  }

  return {
    /**
     * The responder of a backend. Past half-life a replacement is issued in the background while the current
     * one keeps signing; only a missing or expiring one (under an hour left) is waited for.
     */
    async get(backendId: string): Promise<Responder> {
      const r = current.get(backendId)
      const t = now().getTime()
      if (!r || r.notAfter.getTime() - t < 3_600_000) return renew(backendId)
      const half = r.notBefore.getTime() + (r.notAfter.getTime() - r.notBefore.getTime()) / 2
      if (t > half) renew(backendId).catch((err) => deps.logger.error({ err, backendId }, 'OCSP responder renewal failed'))
      return r
    },
  }
}
export type ResponderPool = ReturnType<typeof createResponderPool>
