// This server's own TLS certificate, issued from its CA through the issuance service (so it is in the
// inventory like any other) and reused across starts while it is fresh and names the right hosts.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { webcrypto } from 'node:crypto'
import { x509 } from '../pki/x509.js'
import type { IssuanceService } from '../issuance/service.js'
import { parseCsr } from '../pki/csr.js'
import { fromPemAll, toPem } from '../pki/pem.js'

export interface ServerTls {
  keyPem: string
  /** Leaf then issuer chain. */
  certPem: string
  reused: boolean
}

/** Host names the TLS certificate must carry: the public URL hosts, this host, loopback, extra names. */
export function tlsNames(publicUrls: string[], extra: string[]): string[] {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1'])
  for (const u of publicUrls) names.add(new URL(u).hostname.replace(/^\[|\]$/g, ''))
  const host = hostname()
  if (host.includes('.') || host.length > 0) names.add(host.toLowerCase())
  for (const n of extra) names.add(n.toLowerCase())
  return [...names]
}

function freshAndCovering(certPem: string, names: string[], issuerDer: Uint8Array): boolean {
  const [leafDer, firstIssuer] = fromPemAll(certPem, 'CERTIFICATE')
  if (!leafDer || !firstIssuer || !Buffer.from(firstIssuer).equals(Buffer.from(issuerDer))) return false
  const cert = new x509.X509Certificate(leafDer)
  const life = cert.notAfter.getTime() - cert.notBefore.getTime()
  if (cert.notAfter.getTime() - Date.now() < life / 3) return false
  const ext = cert.getExtension('2.5.29.17')
  const san = ext ? new x509.SubjectAlternativeNameExtension(ext.rawData) : undefined
  const have = new Set((san?.names.items ?? []).map((n) => n.value.toLowerCase()))
  return names.every((n) => have.has(n.toLowerCase()))
}

export async function ensureServerCertificate(
  dataDir: string,
  names: string[],
  issuance: IssuanceService,
): Promise<ServerTls> {
  const dir = join(dataDir, 'tls')
  const keyPath = join(dir, 'server.key.pem')
  const certPath = join(dir, 'server.crt.pem')
  const [issuerDer] = await issuance.chainFor('server-tls')
  if (existsSync(keyPath) && existsSync(certPath)) {
    const certPem = readFileSync(certPath, 'utf8')
    if (issuerDer && freshAndCovering(certPem, names, issuerDer)) {
      return { keyPem: readFileSync(keyPath, 'utf8'), certPem, reused: true }
    }
  }
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const sans = names.map((n): x509.JsonGeneralName => ({ type: isIP(n) ? 'ip' : 'dns', value: n }))
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${names.find((n) => !isIP(n) && n !== 'localhost') ?? 'localhost'}`,
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension(sans)],
  })
  const outcome = await issuance.issue({
    csr: await parseCsr(new Uint8Array(csr.rawData)),
    profile: 'server-tls',
    protocol: 'system',
    requester: 'system:tls',
  })
  if (outcome.status !== 'issued') throw new Error('the server-tls profile must not require approval')
  const certPem = [outcome.certificateDer, ...outcome.chainDer].map((d) => toPem(d, 'CERTIFICATE')).join('')
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey))
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  writeFileSync(`${keyPath}.tmp`, toPem(pkcs8, 'PRIVATE KEY'), { mode: 0o600 })
  renameSync(`${keyPath}.tmp`, keyPath)
  writeFileSync(`${certPath}.tmp`, certPem)
  renameSync(`${certPath}.tmp`, certPath)
  return { keyPem: toPem(pkcs8, 'PRIVATE KEY'), certPem, reused: false }
}
