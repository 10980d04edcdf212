// RFC 8555 §7.4.2 certificate download, POST-as-GET. The default format, application/pem-certificate-chain, is the
// leaf and the issuing chain without the self-signed root: complete, so it carries no `Link: rel="up"` (Caddy's
// ACME client follows an "up" link with POST-as-GET and appends what it gets to the chain). A client asking for
// application/pkix-cert gets the leaf alone in DER, with `Link: rel="up"` to its issuer (the format can only
// express one certificate), and each issuer resource links up to the next until the root.
import { x509 } from '../../../src/pki/x509.js'
import { toPem } from '../../../src/pki/pem.js'
import type { AcmeContext, AcmeHandler } from '../context.js'
import { linkValue } from '../links.js'
import { AcmeProblem } from '../problems.js'

/** CA certificates are parsed once: backends hand out the same chain objects on every call. */
const selfSignedCache = new WeakMap<Uint8Array, boolean>()
const selfSigned = (der: Uint8Array) => {
  let known = selfSignedCache.get(der)
  if (known === undefined) {
    const cert = new x509.X509Certificate(new Uint8Array(der))
    known = cert.subject === cert.issuer
    selfSignedCache.set(der, known)
  }
  return known
}

/** An ACME-issued certificate of the inventory by serial: its DER and CA backend, or undefined. */
async function issuedOverAcme(ctx: AcmeContext, serial: string) {
  const record = /^[0-9a-f]{2,42}$/.test(serial) ? await ctx.issuance.find(serial).catch(() => undefined) : undefined
  return record?.der && record.protocol === 'acme' ? { der: record.der, backendId: record.backendId } : undefined
}

/**
 * The single-certificate format when the client asks for it (RFC 2585 application/pkix-cert) and not for the
 * chain; anything else (no Accept, `*\/*`, the chain type, or a type not served) gets the default chain.
 */
const wantsDer = (accept: string | undefined) =>
  !!accept && /application\/pkix-cert/i.test(accept) && !/application\/pem-certificate-chain/i.test(accept)

const der = (bytes: Uint8Array) => new Uint8Array(bytes).buffer

export const certificate = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const serial = c.req.param('id')!
  const record = ctx.recentCertificates.get(serial) ?? (await issuedOverAcme(ctx, serial))
  if (!record) throw new AcmeProblem('malformed', 'certificate does not exist', { status: 404 })
  const chain = (await ctx.issuance.chainForBackend(record.backendId)) ?? []
  if (wantsDer(c.req.header('accept'))) {
    if (chain.length) c.header('Link', linkValue(ctx.links.issuer(record.backendId, 0), 'up'), { append: true })
    return c.body(der(record.der), 200, { 'Content-Type': 'application/pkix-cert' })
  }
  const intermediates = chain.filter((d) => !selfSigned(d))
  const pem = [record.der, ...intermediates].map((d) => toPem(d, 'CERTIFICATE')).join('')
  return c.body(pem, 200, { 'Content-Type': 'application/pem-certificate-chain' })
}

/**
 * An issuer named by `Link: rel="up"`: the certificate at `depth` of the backend's chain (0 issued the leaves), in
 * the format asked for (DER, or PEM as a one-certificate chain), linking up to its own issuer unless self-signed.
 */
export const issuer = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const backendId = c.req.param('id')!
  const depth = Number(c.req.param('depth'))
  const chain = /^[a-z0-9-]{1,64}$/.test(backendId) ? await ctx.issuance.chainForBackend(backendId) : undefined
  const cert = chain && Number.isInteger(depth) && depth >= 0 ? chain[depth] : undefined
  if (!cert) throw new AcmeProblem('malformed', 'no such issuer certificate', { status: 404 })
  if (!selfSigned(cert) && chain![depth + 1]) c.header('Link', linkValue(ctx.links.issuer(backendId, depth + 1), 'up'), { append: true })
  if (wantsDer(c.req.header('accept'))) return c.body(der(cert), 200, { 'Content-Type': 'application/pkix-cert' })
  return c.body(toPem(cert, 'CERTIFICATE'), 200, { 'Content-Type': 'application/pem-certificate-chain' })
}
