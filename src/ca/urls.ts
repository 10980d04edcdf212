// The URL layout of the HTTP listener's /.well-known/pki tree (RFC 8615), as written into certificates and CRLs.
// One place, so what the CA embeds and what the routes serve cannot drift apart.

export interface PkiUrls {
  ocsp: string
  caIssuers: string
  /** Full CRL of the CA, or of one shard when the CA partitions its CRLs. */
  crl(shard?: number): string
  deltaCrl(shard?: number): string
}

export function pkiUrls(publicHttpUrl: string, backendId: string): PkiUrls {
  const base = `${publicHttpUrl}/.well-known/pki`
  const crl = (shard?: number) => `${base}/crl/${backendId}${shard === undefined ? '' : `/${shard}`}`
  return {
    ocsp: `${base}/ocsp`,
    caIssuers: `${base}/ca/${backendId}.der`,
    crl,
    deltaCrl: (shard) => `${crl(shard)}/delta`,
  }
}
