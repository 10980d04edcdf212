// DNS for validation: node:dns Resolver pointed at the configured server (ENROLL_ACME_DNS_RESOLVER) or the
// system's. Used for A/AAAA (http-01, tls-alpn-01), TXT (dns-01) and CAA lookups.
import { Resolver } from 'node:dns/promises'
import { isIP } from 'node:net'
import { AcmeProblem } from '../problems.js'

export interface ValidationNetwork {
  resolver: Resolver
  /** Port http-01 connects to: 80, or a test override. */
  http01Port: number
  /** Port tls-alpn-01 connects to: 443, or a test override. */
  tlsAlpn01Port: number
  /** Per-attempt timeout. */
  timeoutMs: number
}

export function createResolver(server: string | undefined, timeoutMs: number): Resolver {
  const resolver = new Resolver({ timeout: Math.min(timeoutMs, 5000), tries: 2 })
  if (server) resolver.setServers([server])
  return resolver
}

const notFoundCodes = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN'])
export const isNoData = (e: unknown) => notFoundCodes.has((e as { code?: string }).code ?? '')

/** Addresses to connect to for a host: an IP literal as is; else A records, then AAAA. */
export async function resolveHost(resolver: Resolver, host: string): Promise<{ address: string; family: 4 | 6 }[]> {
  const family = isIP(host)
  if (family) return [{ address: host, family: family as 4 | 6 }]
  const lookups = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)])
  const found: { address: string; family: 4 | 6 }[] = []
  lookups.forEach((r, i) => {
    if (r.status === 'fulfilled') for (const address of r.value) found.push({ address, family: i === 0 ? 4 : 6 })
  })
  if (found.length) return found
  const failure = lookups.find((r) => r.status === 'rejected' && !isNoData(r.reason)) as PromiseRejectedResult | undefined
  throw new AcmeProblem(
    'dns',
    failure
      ? `DNS lookup of ${host} failed: ${(failure.reason as { code?: string }).code ?? 'error'}`
      : `no A or AAAA record for ${host}`,
  )
}
