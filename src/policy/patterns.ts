// Identifier patterns of a profile's `allow` section, compiled once per profile.
import { BlockList, isIP } from 'node:net'
import type { ProfileConfig } from '../config/schema.js'
import type { Identifier, IdentifierType } from '../pki/csr.js'

type Matcher = (value: string) => boolean

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')

/**
 * `*` alone: anything; `**` spans characters including dots; `*` spans within one DNS label; `re:` a regex,
 * anchored at both ends like the globs (else `re:a\.example\.com` would allow `a.example.com.attacker.net`).
 */
function globMatcher(pattern: string, labelAware: boolean): Matcher {
  if (pattern === '*' || pattern === '**') return () => true
  if (pattern.startsWith('re:')) {
    const re = new RegExp(`^(?:${pattern.slice(3)})$`, 'i')
    return (v) => re.test(v)
  }
  const body = escape(pattern.toLowerCase())
    .replace(/\*\*/g, '\u0000')
    .replace(/\*/g, labelAware ? '[^.]+' : '.*')
    .replace(/\u0000/g, '.+')
  const re = new RegExp(`^${body}$`)
  return (v) => re.test(v.toLowerCase())
}

function ipMatcher(cidrs: string[]): Matcher {
  const list = new BlockList()
  for (const cidr of cidrs) {
    const [addr, prefix] = cidr.split('/')
    const family = isIP(addr ?? '')
    if (!family) throw new Error(`"${cidr}" is not an IP address or CIDR block`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix)
    list.addSubnet(addr!, bits, type)
  }
  return (v) => {
    const family = isIP(v)
    return family !== 0 && list.check(v, family === 4 ? 'ipv4' : 'ipv6')
  }
}

export interface CompiledPatterns {
  allows(id: Identifier): boolean
  allowsCommonName(cn: string): boolean
  /** True when the profile lists explicit CN patterns (else the CN must be one of the SANs). */
  hasCommonNamePatterns: boolean
}

export function compilePatterns(allow: ProfileConfig['allow']): CompiledPatterns {
  const any = (ms: Matcher[]): Matcher => (v) => ms.some((m) => m(v))
  const byType: Record<IdentifierType, Matcher> = {
    dns: any(allow.dns.map((p) => globMatcher(p, true))),
    ip: ipMatcher(allow.ip),
    email: any(allow.email.map((p) => globMatcher(p, false))),
    uri: any(allow.uri.map((p) => globMatcher(p, false))),
  }
  const cn = any(allow.commonName.map((p) => globMatcher(p, false)))
  return {
    allows: (id) => byType[id.type](id.value),
    allowsCommonName: cn,
    hasCommonNamePatterns: allow.commonName.length > 0,
  }
}

const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/

/**
 * RFC 1034 §3.5 preferred syntax (LDH labels), allowing one leading `*` label (RFC 6125 wildcard) above at
 * least one more label. Single-label names (intranet hosts) are syntactically fine; profiles decide.
 */
export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false
  const labels = name.split('.')
  if (labels[0] === '*' && labels.length < 2) return false
  return labels.every((l, i) => (i === 0 && l === '*') || label.test(l))
}
