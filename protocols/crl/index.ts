// CRL distribution (RFC 5280 §5, RFC 2585 §3 media type) under /.well-known/pki/crl:
//   /crl                       complete CRL of the default CA      /crl/<ca-id>/delta          its delta CRL
//   /crl/<ca-id>               complete CRL of a CA                /crl/<ca-id>/<shard>[/delta] partitioned CAs
// Append `.pem` (or send Accept: application/x-pem-file) for PEM. Conditional requests get 304.
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../../src/http/middleware.js'
import { toPem } from '../../src/pki/pem.js'
import type { CrlService, PublishedCrl } from '../../src/revocation/index.js'

export interface CrlDeps {
  crl: CrlService
  /** CA served at /crl without an id: the backend of the default profile. */
  defaultBackendId: string
}

export interface CrlPath {
  backendId: string | undefined
  shard: number
  kind: 'full' | 'delta'
  pem: boolean
}

/** Parses the segments after /crl; undefined when they name nothing. */
export function parseCrlPath(rest: string): CrlPath | undefined {
  let pem = false
  let path = rest.replace(/^\/+|\/+$/g, '')
  if (path.endsWith('.pem')) {
    pem = true
    path = path.slice(0, -4)
  }
  const seg = path === '' ? [] : path.split('/')
  const kind = seg.at(-1) === 'delta' ? 'delta' : 'full'
  if (kind === 'delta') seg.pop()
  const [id, shard, ...extra] = seg
  if (extra.length) return undefined
  if (id !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(id)) return undefined
  if (shard !== undefined && !/^(0|[1-9]\d{0,3})$/.test(shard)) return undefined
  if (id === undefined && kind === 'delta') return undefined
  return { backendId: id, shard: shard === undefined ? -1 : Number(shard), kind, pem }
}

const notFound = (c: Context) =>
  c.json({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'no such CRL' }, 404, {
    'Content-Type': 'application/problem+json',
  })

function render(c: Context, crl: PublishedCrl, pem: boolean): Response {
  const maxAge = Math.max(0, Math.floor((crl.nextUpdate.getTime() - Date.now()) / 2000))
  const headers: Record<string, string> = {
    'Content-Type': pem ? 'application/x-pem-file' : 'application/pkix-crl',
    'Cache-Control': `public, max-age=${maxAge}, no-transform`,
    'Last-Modified': crl.thisUpdate.toUTCString(),
    Expires: crl.nextUpdate.toUTCString(),
    ETag: pem ? crl.etag.replace(/"$/, '-pem"') : crl.etag,
  }
  const inm = c.req.header('if-none-match')
  const ims = c.req.header('if-modified-since')
  const unchanged = inm !== undefined ? inm === headers['ETag'] : ims !== undefined && Date.parse(ims) >= crl.thisUpdate.getTime()
  if (unchanged) return new Response(null, { status: 304, headers })
  return new Response(pem ? toPem(crl.der, 'X509 CRL') : (crl.der as Uint8Array<ArrayBuffer>), { headers })
}

export function crlApp(deps: CrlDeps) {
  const app = new Hono<AppEnv>()
  const serve = async (c: Context, rest: string) => {
    const path = parseCrlPath(rest)
    if (!path) return notFound(c)
    const pem = path.pem || (c.req.header('accept') ?? '').includes('application/x-pem-file')
    const crl = await deps.crl.get(path.backendId ?? deps.defaultBackendId, path.shard, path.kind)
    return crl ? render(c, crl, pem) : notFound(c)
  }
  app.get('/crl.pem', (c) => serve(c, '.pem'))
  app.get('/crl', (c) => serve(c, ''))
  app.get('/crl/*', (c) => serve(c, c.req.path.slice(c.req.path.indexOf('/crl/') + 5)))
  return app
}
