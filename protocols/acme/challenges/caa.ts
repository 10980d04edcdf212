// RFC 8659 CAA with the RFC 8657 accounturi and validationmethods parameters: the relevant record set is the
// first non-empty one climbing from the name to the root; issue (or issuewild for wildcards) must name one of
// our caaIdentities, with matching parameters.
import type { CaaRecord } from 'node:dns'
import type { Resolver } from 'node:dns/promises'
import { AcmeProblem } from '../problems.js'
import { isNoData } from './resolver.js'

export interface CaaContext {
  /** meta.caaIdentities; empty means CAA is not checked. */
  identities: string[]
  accountUrl: string
  /** The challenge type that validated the name. */
  method: string
  wildcard: boolean
}

/** First non-empty CAA RRset from `domain` towards the root (RFC 8659 §3). */
export async function relevantCaaSet(resolver: Resolver, domain: string): Promise<CaaRecord[]> {
  const labels = domain.split('.')
  for (let i = 0; i < labels.length; i++) {
    const name = labels.slice(i).join('.')
    try {
      const records = await resolver.resolveCaa(name)
      if (records.length) return records
    } catch (e) {
      if (!isNoData(e)) throw new AcmeProblem('dns', `CAA lookup of ${name} failed: ${(e as { code?: string }).code ?? 'error'}`)
    }
  }
  return []
}

interface IssueValue {
  issuer: string
  params: Map<string, string>
}

/** RFC 8659 §4.2 issue value: `issuer-domain-name *(";" key "=" value)`. */
export function parseIssueValue(value: string): IssueValue {
  const [issuer = '', ...rest] = value.split(';')
  const params = new Map<string, string>()
  for (const p of rest) {
    const eq = p.indexOf('=')
    if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim())
  }
  return { issuer: issuer.trim().toLowerCase(), params }
}

const knownTags = new Set(['issue', 'issuewild', 'iodef', 'contactemail', 'contactphone', 'issuemail', 'issuevmc'])

/** Pure decision over a record set (unit-tested). */
export function caaPermits(records: CaaRecord[], ctx: CaaContext): { ok: true } | { ok: false; reason: string } {
  for (const r of records) {
    const tags = Object.keys(r).filter((k) => k !== 'critical')
    if (r.critical & 0x80 && tags.some((t) => !knownTags.has(t))) return { ok: false, reason: 'a critical CAA record has an unknown tag' }
  }
  const wild = records.filter((r) => r.issuewild !== undefined)
  const relevant = (ctx.wildcard && wild.length ? wild.map((r) => r.issuewild!) : records.filter((r) => r.issue !== undefined).map((r) => r.issue!))
  if (!relevant.length) return { ok: true }
  const ours = new Set(ctx.identities.map((i) => i.toLowerCase()))
  for (const value of relevant) {
    const v = parseIssueValue(value)
    if (!ours.has(v.issuer)) continue
    const accountUri = v.params.get('accounturi')
    if (accountUri !== undefined && accountUri !== ctx.accountUrl) continue
    const methods = v.params.get('validationmethods')
    if (methods !== undefined && !methods.split(',').map((m) => m.trim()).includes(ctx.method)) continue
    return { ok: true }
  }
  return { ok: false, reason: `CAA records do not authorize ${[...ours].join(', ') || 'this CA'}` }
}

export async function requireCaaPermits(resolver: Resolver, domain: string, ctx: CaaContext): Promise<void> {
  if (!ctx.identities.length) return
  const verdict = caaPermits(await relevantCaaSet(resolver, domain), ctx)
  if (!verdict.ok) throw new AcmeProblem('caa', `${domain}: ${verdict.reason}`)
}
