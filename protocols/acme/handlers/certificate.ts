// RFC 8555 §7.4.2 certificate download: application/pem-certificate-chain (leaf, then the issuing chain without
// the self-signed root), POST-as-GET, Link rel="up" to the issuer certificate.
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

export const certificate = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const serial = c.req.param('id')!
  const record = ctx.recentCertificates.get(serial) ?? (await issuedOverAcme(ctx, serial))
  if (!record) throw new AcmeProblem('malformed', 'certificate does not exist', { status: 404 })
  const chain = (await ctx.issuance.chainForBackend(record.backendId)) ?? []
  const intermediates = chain.filter((d) => !selfSigned(d))
  const pem = [record.der, ...intermediates].map((d) => toPem(d, 'CERTIFICATE')).join('')
  if (ctx.config.publicHttpUrl) {
    c.header('Link', linkValue(`${ctx.config.publicHttpUrl}/.well-known/pki/ca/${record.backendId}.der`, 'up'), { append: true })
  }
  return c.body(pem, 200, { 'Content-Type': 'application/pem-certificate-chain' })
}
