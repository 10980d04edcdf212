// RFC 8555 §8.4 dns-01: a TXT record at _acme-challenge.<domain> holds base64url(SHA-256(key authorization)).
import { createHash } from 'node:crypto'
import type { AcmeIdentifier } from '../../../src/store/index.js'
import { AcmeProblem } from '../problems.js'
import { isNoData, type ValidationNetwork } from './resolver.js'

export const dns01Digest = (keyAuthz: string) => createHash('sha256').update(keyAuthz).digest('base64url')

export async function validateDns01(identifier: AcmeIdentifier, keyAuthz: string, net: ValidationNetwork): Promise<void> {
  const name = `_acme-challenge.${identifier.value}`
  let records: string[][]
  try {
    records = await net.resolver.resolveTxt(name)
  } catch (e) {
    if (isNoData(e)) throw new AcmeProblem('unauthorized', `no TXT record at ${name}`)
    throw new AcmeProblem('dns', `DNS lookup of TXT ${name} failed: ${(e as { code?: string }).code ?? 'error'}`)
  }
  const expected = dns01Digest(keyAuthz)
  const values = records.map((chunks) => chunks.join(''))
  if (!values.includes(expected)) {
    throw new AcmeProblem('unauthorized', `TXT ${name} holds ${values.length} value(s), none of them the expected digest`)
  }
}
