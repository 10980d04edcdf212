// RFC 7468 textual encodings.

/** DER bytes backed by a plain ArrayBuffer (what WebCrypto and the ASN.1 libraries accept). */
export type Der = Uint8Array<ArrayBuffer>

export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** Every block with the given label, in order. */
export function fromPemAll(text: string, label: string): Der[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g')
  return [...text.matchAll(re)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')))
}

export function fromPem(text: string, label: string): Der {
  const first = fromPemAll(text, label)[0]
  if (!first) throw new Error(`no PEM block labelled ${label}`)
  return first
}

export const isPem = (text: string): boolean => /-----BEGIN [A-Z0-9 ]+-----/.test(text)
