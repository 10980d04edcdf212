// Builds distinct ECDSA P-256 PKCS#10 requests for the benchmark (BENCH ONLY keys, generated per run).
import { webcrypto } from 'node:crypto'
import type { Der } from '../src/pki/pem.js'
import { x509 } from '../src/pki/x509.js'
import { runPool } from './stats.js'

const ecdsaP256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }

/** `count` CSRs, each with its own key and the one DNS name `bench-<i>.example.test` as CN and SAN. */
export async function makeCsrs(count: number): Promise<Der[]> {
  const out = new Array<Der>(count)
  await runPool(count, 16, async (i) => {
    const keys = (await webcrypto.subtle.generateKey(ecdsaP256, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair
    const name = `bench-${i}.example.test`
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=${name}`,
      keys,
      signingAlgorithm: ecdsaP256,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }])],
    })
    out[i] = new Uint8Array(csr.rawData)
  })
  return out
}
