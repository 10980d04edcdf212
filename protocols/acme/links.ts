// Every URL handed to clients, built from the configured public base URL (never the Host header).
// RFC 8555 §7.1: the directory names the entry points; resources link to each other by these URLs.

export const paths = {
  directory: '/directory',
  newNonce: '/new-nonce',
  newAccount: '/new-account',
  newOrder: '/new-order',
  newAuthz: '/new-authz',
  revokeCert: '/revoke-cert',
  keyChange: '/key-change',
  renewalInfo: '/renewal-info',
  account: '/acct/:id',
  orders: '/acct/:id/orders',
  order: '/order/:id',
  finalize: '/order/:id/finalize',
  authz: '/authz/:id',
  challenge: '/chall/:id',
  certificate: '/cert/:id',
  /** An issuing CA certificate of a backend's chain (`Link: rel="up"`), by depth: 0 issued the leaves. */
  issuer: '/issuer/:id/:depth',
} as const

export function createLinks(publicUrl: string, mount = '/acme') {
  const base = `${publicUrl.replace(/\/+$/, '')}${mount}`
  const at = (path: string, id = '') => `${base}${path.replace(':id', encodeURIComponent(id))}`
  return {
    base,
    directory: at(paths.directory),
    newNonce: at(paths.newNonce),
    newAccount: at(paths.newAccount),
    newOrder: at(paths.newOrder),
    newAuthz: at(paths.newAuthz),
    revokeCert: at(paths.revokeCert),
    keyChange: at(paths.keyChange),
    renewalInfo: at(paths.renewalInfo),
    account: (id: string) => at(paths.account, id),
    orders: (id: string) => at(paths.orders, id),
    order: (id: string) => at(paths.order, id),
    finalize: (id: string) => at(paths.finalize, id),
    authz: (id: string) => at(paths.authz, id),
    challenge: (id: string) => at(paths.challenge, id),
    certificate: (id: string) => at(paths.certificate, id),
    issuer: (backendId: string, depth: number) => at(paths.issuer, backendId).replace(':depth', String(depth)),
    /** The account id in a `kid` URL, or undefined when the URL is not one of ours. */
    accountIdOf(kid: string): string | undefined {
      const prefix = `${base}/acct/`
      if (!kid.startsWith(prefix)) return undefined
      const id = decodeURIComponent(kid.slice(prefix.length))
      return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined
    },
    /** The URL a request was made to, as the client must have signed it (RFC 8555 §6.4). */
    requestUrl(pathAndQuery: string): string {
      return `${publicUrl.replace(/\/+$/, '')}${pathAndQuery}`
    },
  }
}
export type Links = ReturnType<typeof createLinks>

/** RFC 8288 link value; each relation goes on its own header line (see src/http/link-lines.ts). */
export const linkValue = (url: string, rel: string) => `<${url}>;rel="${rel}"`
