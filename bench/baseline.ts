// Baselines: what the CA key alone can do, with no store: LocalCa.sign, and a bare WebCrypto ECDSA sign.
import { randomBytes, webcrypto } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SignRequest } from '../src/ca/backend.js'
import { importPrivateKeyPem, keyParams } from '../src/ca/local/keys.js'
import type { Config } from '../src/config/schema.js'
import type { ParsedCsr } from '../src/pki/csr.js'
import { newSerial } from '../src/pki/serial.js'
import { compileProfile, evaluate } from '../src/policy/evaluate.js'
import type { Core } from '../src/server.js'
import { runPool, type RunResult } from './stats.js'

/** The SignRequests the issuance service would hand the backend for these CSRs (profile "default"). */
export function signRequestsFor(config: Config, csrs: ParsedCsr[]): SignRequest[] {
  const profile = compileProfile('default', config.profiles['default']!)
  return csrs.map((csr, i) => {
    const d = evaluate({ csr }, profile, new Date())
    return {
      reservationId: String(i + 1),
      serial: newSerial(),
      profile: 'default',
      subjectDer: d.subjectDer,
      publicKeyDer: csr.publicKeyDer,
      sans: d.sans,
      notBefore: d.notBefore,
      notAfter: d.notAfter,
      keyUsage: d.keyUsage,
      extKeyUsage: d.extKeyUsage,
    }
  })
}

export async function localCaSign(
  core: Core,
  reqs: SignRequest[],
  concurrency: number,
): Promise<RunResult> {
  const backend = core.backends.get('local')
  if (!backend) throw new Error('bench: no "local" backend')
  return runPool(reqs.length, concurrency, (i) => backend.sign(reqs[i]!))
}

/** ECDSA P-256/SHA-256 over a 300-byte message (about a TBSCertificate) with the CA's issuing key. */
export async function webCryptoSign(
  dataDir: string,
  count: number,
  concurrency: number,
): Promise<RunResult> {
  const pem = readFileSync(join(dataDir, 'ca', 'local', 'issuing.key.pem'), 'utf8')
  const key = await importPrivateKeyPem(pem, 'ecdsa-p256')
  const { signing } = keyParams('ecdsa-p256')
  const message = randomBytes(300)
  return runPool(count, concurrency, () => webcrypto.subtle.sign(signing, key, message))
}
