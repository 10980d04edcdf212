// Identifier rules: RFC 8555 §7.1.3/§7.4 (dns, wildcards), RFC 8738 (ip), and the finalize CSR check of §7.4.
import { isIP } from 'node:net'
import type { ParsedCsr } from '../../src/pki/csr.js'
import { isDnsName } from '../../src/policy/patterns.js'
import type { AcmeIdentifier } from '../../src/store/index.js'
import { identifierKey, type IdentifierResource } from './codec/resources.js'
import { AcmeProblem, type ProblemOptions } from './problems.js'

/** RFC 5952 text form of an IP address (IPv6 compressed, lowercase), or undefined when it is not one. */
export function canonicalIp(value: string): string | undefined {
  const v = value.trim()
  const family = isIP(v)
  if (family === 4) return v.split('.').map((o) => String(Number(o))).join('.')
  if (family === 6) return new URL(`http://[${v}]/`).hostname.slice(1, -1)
  return undefined
}

type Checked = { ok: AcmeIdentifier } | { problem: NonNullable<ProblemOptions['subproblems']>[number] }

function checkIdentifier(raw: IdentifierResource): Checked {
  const identifier = { type: raw.type, value: raw.value }
  if (raw.type === 'dns') {
    const value = raw.value.toLowerCase().replace(/\.$/, '')
    const base = value.startsWith('*.') ? value.slice(2) : value
    if (!isDnsName(base) || base.includes('*') || !base.includes('.') || isIP(base)) {
      return { problem: { type: 'rejectedIdentifier', detail: `"${raw.value}" is not a valid DNS name`, identifier } }
    }
    return { ok: { type: 'dns', value } }
  }
  if (raw.type === 'ip') {
    const value = canonicalIp(raw.value)
    if (!value) return { problem: { type: 'malformed', detail: `"${raw.value}" is not an IP address`, identifier } }
    return { ok: { type: 'ip', value } }
  }
  return { problem: { type: 'unsupportedIdentifier', detail: `identifier type "${raw.type}" is not supported`, identifier } }
}

/**
 * newOrder identifiers: `dns` (lowercased, no trailing dot, a wildcard only as the whole leftmost label) and `ip`
 * (canonical text). Each bad one is a subproblem (RFC 8555 §6.7.1); duplicates are dropped.
 */
export function normalizeOrderIdentifiers(raw: IdentifierResource[]): AcmeIdentifier[] {
  const out = new Map<string, AcmeIdentifier>()
  const problems: NonNullable<ProblemOptions['subproblems']> = []
  for (const r of raw) {
    const checked = checkIdentifier(r)
    if ('problem' in checked) problems.push(checked.problem)
    else out.set(identifierKey(checked.ok), checked.ok)
  }
  if (problems.length === 1) {
    const p = problems[0]!
    throw new AcmeProblem(p.type, p.detail, { extra: { identifier: p.identifier } })
  }
  if (problems.length > 1) {
    const type = problems.every((p) => p.type === problems[0]!.type) ? problems[0]!.type : 'compound'
    throw new AcmeProblem(type, `${problems.length} identifiers are not acceptable`, { subproblems: problems })
  }
  return [...out.values()]
}

/** RFC 8555 §7.1.4: the authorization of `*.example.com` is for `example.com` with `wildcard: true`. */
export function authzIdentifierFor(id: AcmeIdentifier): { identifier: AcmeIdentifier; wildcard: boolean } {
  if (id.type === 'dns' && id.value.startsWith('*.')) return { identifier: { type: 'dns', value: id.value.slice(2) }, wildcard: true }
  return { identifier: id, wildcard: false }
}

/** Challenge types offered: wildcards only dns-01 (§7.1.4); IP addresses no dns-01 (RFC 8738 §7). */
export function challengeTypesFor(identifier: AcmeIdentifier, wildcard: boolean): string[] {
  if (wildcard) return ['dns-01']
  if (identifier.type === 'ip') return ['http-01', 'tls-alpn-01']
  return ['http-01', 'dns-01', 'tls-alpn-01']
}

/**
 * RFC 8555 §7.4: the CSR must request exactly the order's identifiers: its dNSName/iPAddress SANs plus a
 * CN (if any) form the same set; other SAN types are refused.
 */
export function requireCsrMatchesOrder(csr: ParsedCsr, identifiers: AcmeIdentifier[]): void {
  const requested = new Set<string>()
  for (const san of csr.requestedSans) {
    if (san.type === 'dns') requested.add(`dns:${san.value.toLowerCase().replace(/\.$/, '')}`)
    else if (san.type === 'ip') requested.add(`ip:${canonicalIp(san.value) ?? san.value}`)
    else throw new AcmeProblem('badCSR', `CSR requests a ${san.type} SAN, which ACME orders cannot authorize`)
  }
  const ordered = new Set(identifiers.map(identifierKey))
  if (csr.commonName !== undefined) {
    const cn = csr.commonName.toLowerCase()
    const asId = canonicalIp(cn) ? `ip:${canonicalIp(cn)}` : `dns:${cn}`
    if (!ordered.has(asId)) throw new AcmeProblem('badCSR', `CSR common name "${csr.commonName}" is not an identifier of the order`)
    requested.add(asId)
  }
  const missing = [...ordered].filter((k) => !requested.has(k))
  const extra = [...requested].filter((k) => !ordered.has(k))
  if (missing.length || extra.length) {
    const parts = [
      extra.length ? `requests ${extra.join(', ')} not in the order` : '',
      missing.length ? `omits ${missing.join(', ')}` : '',
    ].filter(Boolean)
    throw new AcmeProblem('badCSR', `CSR identifiers do not match the order: it ${parts.join(' and ')}`)
  }
}
