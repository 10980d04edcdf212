// The text fields of a PKCS#10 request read by position (ber.ts) for the common, plain case: the subject Name as
// RFC 4514 text, the challengePassword, and the requested subjectAltNames. Each reader answers exactly what
// @peculiar/x509 answers for the same bytes, or undefined when the input is anything but plain — then the caller
// asks @peculiar/x509, which stays the reference (and the one that refuses what it refuses). Plain means: DER,
// printable ASCII values in UTF8String, PrintableString or IA5String (asn1js reads a PrintableString's octets as
// they are, also outside X.680's set, as clients write challenge passwords), only subjectAltName in the
// extensionRequest, and the SAN types dNSName, rfc822Name, URI and IPv4 iPAddress. Parsing the same
// fields through @peculiar/asn1-schema cost ~0.2 ms and most of the request path's allocations per request.
import { children, contents, decodeBer, isDer, oidString, TAG, type Tlv } from './ber.js'
import type { Identifier } from './csr.js'

/** The short names @peculiar/x509 writes for attribute types (its default table); other types are written as OIDs. */
const shortNames: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'E',
  '2.5.4.42': 'G',
  '2.5.4.43': 'I',
  '2.5.4.4': 'SN',
  '2.5.4.12': 'T',
}
const COMMON_NAME = '2.5.4.3'

const UTF8_STRING = 0x0c
const PRINTABLE_STRING = 0x13
const IA5_STRING = 0x16

/** The text of a primitive string value of one of `tags` whose octets are all printable ASCII, else undefined. */
function plainText(v: Tlv | undefined, tags: readonly number[]): string | undefined {
  if (!v || !tags.includes(v.tag)) return undefined
  const octets = contents(v)
  for (const o of octets) if (o < 0x20 || o > 0x7e) return undefined
  return Buffer.from(octets.buffer, octets.byteOffset, octets.byteLength).toString('latin1')
}

/** RFC 4514 §2.4 escaping as @peculiar/x509 applies it (control characters cannot occur in plain values). */
const escapeValue = (text: string) =>
  text
    .replace(/([,+"\\<>;])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/([ ]$)/, '\\$1')

const directoryStrings = [UTF8_STRING, PRINTABLE_STRING, IA5_STRING] as const

/** The RFC 4514 text of a plain DER Name (RDNs in encoded order, ", " and "+" as @peculiar/x509 joins them) and its first CN. */
export function plainName(nameDer: Uint8Array): { text: string; commonName: string | undefined } | undefined {
  try {
    const name = decodeBer(nameDer)
    if (name.tag !== TAG.SEQUENCE || !isDer(name)) return undefined
    let commonName: string | undefined
    const rdns: string[] = []
    for (const rdn of children(name)) {
      const atvs = rdn.tag === TAG.SET ? children(rdn) : []
      if (atvs.length === 0) return undefined
      const parts: string[] = []
      for (const atv of atvs) {
        const [type, value, extra] = atv.tag === TAG.SEQUENCE ? children(atv) : []
        if (type?.tag !== TAG.OID || extra) return undefined
        const oid = oidString(type, 'attribute type')
        const text = plainText(value, directoryStrings)
        if (text === undefined) return undefined
        if (oid === COMMON_NAME) commonName ??= text
        parts.push(`${shortNames[oid] ?? oid}=${escapeValue(text)}`)
      }
      rdns.push(parts.join('+'))
    }
    return { text: rdns.join(', '), commonName }
  } catch {
    return undefined
  }
}

/** The single value of a DER Attribute ::= SEQUENCE { type, values SET }, else undefined. */
function onlyValue(attributeDer: Uint8Array): Tlv | undefined {
  const attribute = decodeBer(attributeDer)
  if (!isDer(attribute)) return undefined
  const [, values] = children(attribute)
  const all = values?.tag === TAG.SET ? children(values) : []
  return all.length === 1 ? all[0] : undefined
}

/** PKCS#9 challengePassword (a DirectoryString) when plain; `{ password: undefined }` is never returned for a present attribute. */
export function plainChallengePassword(attributeDer: Uint8Array): string | undefined {
  try {
    return plainText(onlyValue(attributeDer), [UTF8_STRING, PRINTABLE_STRING])
  } catch {
    return undefined
  }
}

const SAN = '2.5.29.17'
/** GeneralName choices read here (RFC 5280 §4.2.1.6), as implicitly tagged IA5Strings or the IPv4 octets. */
const generalNames: Record<number, Identifier['type']> = { 0x81: 'email', 0x82: 'dns', 0x86: 'uri', 0x87: 'ip' }

/**
 * The subjectAltNames of a plain extensionRequest attribute (PKCS#9 §5.4.2) whose only extensions are
 * subjectAltName (@peculiar/x509 parses every known extension it meets, and refuses malformed ones): the first one's
 * names, DNS names lower-cased; [] when there is none. Undefined for anything else.
 */
export function plainRequestedSans(attributeDer: Uint8Array): Identifier[] | undefined {
  try {
    const extensions = onlyValue(attributeDer)
    if (extensions?.tag !== TAG.SEQUENCE) return undefined
    let names: Tlv | undefined
    for (const extension of children(extensions)) {
      const [id, value, extra] = extension.tag === TAG.SEQUENCE ? children(extension) : []
      // DER leaves out `critical` when FALSE; a critical subjectAltName is not plain.
      if (id?.tag !== TAG.OID || value?.tag !== TAG.OCTET_STRING || extra) return undefined
      if (oidString(id, 'extension id') !== SAN) return undefined
      names ??= decodeBer(contents(value))
    }
    if (!names) return []
    if (names.tag !== TAG.SEQUENCE || !isDer(names)) return undefined
    const out: Identifier[] = []
    for (const name of children(names)) {
      const type = generalNames[name.tag]
      if (!type) return undefined
      if (type === 'ip') {
        const octets = contents(name)
        if (octets.length !== 4) return undefined
        out.push({ type, value: Array.from(octets).join('.') })
        continue
      }
      const text = plainText({ ...name, tag: IA5_STRING }, [IA5_STRING])
      if (text === undefined) return undefined
      out.push({ type, value: type === 'dns' ? text.toLowerCase() : text })
    }
    return out
  } catch {
    return undefined
  }
}
