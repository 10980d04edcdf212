// Pure policy decision: request + profile → what may be signed, or IssuanceError('policyDenied').
import { isIP } from 'node:net'
import { oid, sequence, tlv } from '../pki/der.js'
import { extKeyUsageOids, type KeyUsageName, type ProfileConfig } from '../config/schema.js'
import { IssuanceError } from '../errors.js'
import type { Identifier, KeyInfo, ParsedCsr } from '../pki/csr.js'
import type { Der } from '../pki/pem.js'
import { compilePatterns, isDnsName, type CompiledPatterns } from './patterns.js'

/** Maximum backdating of notBefore (clock skew allowance). */
export const BACKDATE_MS = 60_000
const DAY_MS = 24 * 3600 * 1000

export interface PolicyRequest {
  csr: ParsedCsr
  /**
   * Identifiers the protocol already validated (ACME authorizations, EST/SCEP: none). When absent, the CSR's
   * requested SANs are the request, each checked against the profile.
   */
  identifiers?: Identifier[] | undefined
  notBefore?: Date | undefined
  notAfter?: Date | undefined
}

export interface Decision {
  subjectDer: Der
  subject: string
  sans: Identifier[]
  notBefore: Date
  notAfter: Date
  keyUsage: KeyUsageName[]
  extKeyUsage: string[]
}

export interface CompiledProfile {
  name: string
  config: ProfileConfig
  patterns: CompiledPatterns
}

export const compileProfile = (name: string, config: ProfileConfig): CompiledProfile => ({
  name,
  config,
  patterns: compilePatterns(config.allow),
})

const deny = (detail: string) => new IssuanceError('policyDenied', detail)

/** Checks the CSR's key against the profile's allowed algorithms and sizes. */
export function requireAllowedKey(key: KeyInfo, keys: ProfileConfig['keys']): void {
  switch (key.kind) {
    case 'rsa':
      if (keys.rsaMinBits === 0) throw deny('RSA keys are not allowed by this profile')
      if (key.bits < keys.rsaMinBits) throw deny(`RSA key of ${key.bits} bits is below the minimum of ${keys.rsaMinBits}`)
      if (key.bits > keys.rsaMaxBits) throw deny(`RSA key of ${key.bits} bits is above the maximum of ${keys.rsaMaxBits}`)
      return
    case 'ecdsa':
      if (!keys.ecdsaCurves.includes(key.curve)) throw deny(`ECDSA curve ${key.curve} is not allowed by this profile`)
      return
    case 'ed25519':
      if (!keys.ed25519) throw deny('Ed25519 keys are not allowed by this profile')
      return
    case 'unsupported':
      throw deny(`key algorithm ${key.oid} is not allowed`)
  }
}

function normalize(id: Identifier): Identifier {
  if (id.type === 'dns') return { type: 'dns', value: id.value.toLowerCase().replace(/\.$/, '') }
  return id
}

function requireWellFormed(id: Identifier): void {
  if (id.type === 'dns' && !isDnsName(id.value)) throw deny(`"${id.value}" is not a valid DNS name`)
  if (id.type === 'ip' && !isIP(id.value)) throw deny(`"${id.value}" is not a valid IP address`)
  if (id.type === 'email' && !/^[^@\s]+@[^@\s]+$/.test(id.value)) throw deny(`"${id.value}" is not an email address`)
  if (id.type === 'uri' && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(id.value)) throw deny(`"${id.value}" is not a URI`)
}

/** Each identifier must match the profile; the CN must be allowed explicitly or be one of the SANs. */
export function requireAllowedIdentifiers(
  sans: Identifier[],
  commonName: string | undefined,
  patterns: CompiledPatterns,
  /** False when the protocol validated the identifiers itself (ACME): the CN must then be one of them. */
  cnMayAddIdentifier = true,
): Identifier[] {
  const result: Identifier[] = []
  const seen = new Set<string>()
  for (const raw of sans) {
    const id = normalize(raw)
    requireWellFormed(id)
    if (!patterns.allows(id)) throw deny(`${id.type} identifier "${id.value}" is not allowed by this profile`)
    const key = `${id.type}:${id.value}`
    if (!seen.has(key)) result.push(id)
    seen.add(key)
  }
  if (commonName !== undefined) {
    const cnLower = commonName.toLowerCase()
    const inSans = result.some((s) => s.value.toLowerCase() === cnLower)
    if (!inSans) {
      if (!cnMayAddIdentifier) throw deny(`common name "${commonName}" is not one of the validated identifiers`)
      if (patterns.hasCommonNamePatterns) {
        if (!patterns.allowsCommonName(commonName)) throw deny(`common name "${commonName}" is not allowed by this profile`)
      } else {
        // No CN patterns: the CN names a host, so it joins the SANs and must pass their checks.
        const asId: Identifier = isIP(commonName) ? { type: 'ip', value: commonName } : { type: 'dns', value: cnLower }
        requireWellFormed(asId)
        if (!patterns.allows(asId)) throw deny(`common name "${commonName}" is not allowed by this profile`)
        result.push(asId)
      }
    }
  }
  if (result.length === 0 && commonName === undefined) throw deny('the request names no identifier (no CN, no SAN)')
  return result
}

/** notBefore backdated at most a minute; notAfter defaulted from, and capped at, the profile. */
export function decideValidity(
  profile: ProfileConfig,
  now: Date,
  notBefore?: Date,
  notAfter?: Date,
): { notBefore: Date; notAfter: Date } {
  const earliest = now.getTime() - BACKDATE_MS
  const nb = Math.max(notBefore?.getTime() ?? earliest, earliest)
  const max = nb + profile.maxValidityDays * DAY_MS
  const na = Math.min(notAfter?.getTime() ?? nb + profile.validityDays * DAY_MS, max)
  if (na <= nb) throw deny('notAfter must be later than notBefore')
  return { notBefore: new Date(nb), notAfter: new Date(na) }
}

function keyUsageFor(profile: ProfileConfig, key: KeyInfo): KeyUsageName[] {
  if (key.kind === 'rsa') return profile.keyUsage
  // RFC 8813 / RFC 5480: EC and EdDSA keys cannot encipher keys or data.
  return profile.keyUsage.filter((u) => u !== 'keyEncipherment' && u !== 'dataEncipherment')
}

const ekuOid = (name: string): string => (extKeyUsageOids as Record<string, string>)[name] ?? name

/** RFC 4514 §2.4 escaping of an attribute value. */
const escapeDnValue = (v: string) =>
  v.replace(/[\\,+"<>;=\u0000]/g, (c) => `\\${c}`).replace(/^[ #]/, (c) => `\\${c}`).replace(/ $/, '\\ ')

/** A subject holding only the validated CN (UTF8String, RFC 5280 §4.1.2.6), or the empty Name. */
export function commonNameSubject(cn: string | undefined): { der: Der; text: string } {
  if (cn === undefined) return { der: sequence(), text: '' }
  const value = tlv(0x0c, Buffer.from(cn, 'utf8'))
  return { der: sequence(tlv(0x31, sequence(oid('2.5.4.3'), value))), text: `CN=${escapeDnValue(cn)}` }
}

export function evaluate(req: PolicyRequest, profile: CompiledProfile, now: Date): Decision {
  const { csr } = req
  const cfg = profile.config
  requireAllowedKey(csr.key, cfg.keys)
  const sans = requireAllowedIdentifiers(
    req.identifiers ?? csr.requestedSans,
    csr.commonName,
    profile.patterns,
    req.identifiers === undefined,
  )
  const validity = decideValidity(cfg, now, req.notBefore, req.notAfter)
  const subject = cfg.subject === 'csr' ? { der: csr.subjectDer, text: csr.subject } : commonNameSubject(csr.commonName)
  return {
    subjectDer: subject.der,
    subject: subject.text,
    sans,
    ...validity,
    keyUsage: keyUsageFor(cfg, csr.key),
    extKeyUsage: cfg.extKeyUsage.map(ekuOid),
  }
}
