// Admin API: certificates whose key the server generates, and the escrowed key bundle.
//   POST /certificates/with-key     {profile?, commonName?, dns?, ip?, email?, uri?, csr?, replaces?, notAfter?}
//        → 201 the certificate; `bundle` links to its key. Where the profile's CA keeps no escrow (not Vault), the
//          key is in this answer (`privateKeyPem`) and nowhere else.
//   GET  /certificates/{id}/bundle[?format=zip|json]  (or Accept: application/zip)
//        → server.crt, server.key, ca-chain.crt as a ZIP or JSON; every read is audited.
import { webcrypto } from 'node:crypto'
import { Hono } from 'hono'
import { z } from 'zod'
import { IssuanceError } from '../errors.js'
import type { IssuanceService } from '../issuance/service.js'
import { parseCsr, type ParsedCsr } from '../pki/csr.js'
import { toPem } from '../pki/pem.js'
import { x509 } from '../pki/x509.js'
import type { AdminEnv } from './auth.js'
import { toCertificateResource } from './resources.js'
import { zipStored } from './zip.js'
import { jsonBody, parse } from './request.js'

const withKeyBody = z
  .object({
    profile: z.string().min(1).max(64).optional(),
    commonName: z.string().min(1).max(255).optional(),
    dns: z.array(z.string().min(1).max(253)).max(100).default([]),
    ip: z.array(z.string().min(1).max(45)).max(100).default([]),
    email: z.array(z.string().min(3).max(254)).max(100).default([]),
    uri: z.array(z.string().min(1).max(2048)).max(100).default([]),
    /** A template request instead of the names above; its key is not used. */
    csr: z.string().min(1).optional(),
    /** Inventory id of the certificate this one renews: its escrow record gets a new version. */
    replaces: z.string().regex(/^\d{1,18}$/).optional(),
    notAfter: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
const bundleQuery = z.object({ format: z.enum(['zip', 'json']).optional() })

/** A request that only carries names (subject CN and SANs) to policy; signed with a throwaway key. */
async function templateRequest(b: z.infer<typeof withKeyBody>): Promise<ParsedCsr> {
  if (b.csr) return parseCsr(b.csr)
  const names: x509.JsonGeneralName[] = [
    ...b.dns.map((value) => ({ type: 'dns' as const, value })),
    ...b.ip.map((value) => ({ type: 'ip' as const, value })),
    ...b.email.map((value) => ({ type: 'email' as const, value })),
    ...b.uri.map((value) => ({ type: 'url' as const, value })),
  ]
  if (!b.commonName && !names.length) throw new IssuanceError('badRequest', 'name the certificate: commonName, dns, ip, email, uri or csr')
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: b.commonName ? [{ CN: [b.commonName] }] : [],
    keys,
    signingAlgorithm: alg,
    extensions: names.length ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  })
  return parseCsr(new Uint8Array(request.rawData))
}

const chainPem = (der: Uint8Array[]) => der.map((d) => toPem(d, 'CERTIFICATE')).join('')

export function keyBundleRoutes(issuance: IssuanceService): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>()

  app.post('/with-key', async (c) => {
    const body = parse(withKeyBody, await jsonBody(c))
    const issued = await issuance.issueWithServerKey({
      csr: await templateRequest(body),
      profile: body.profile,
      protocol: 'admin',
      requester: c.get('actor'),
      replaces: body.replaces,
      notAfter: body.notAfter ? new Date(body.notAfter) : undefined,
      requestId: c.get('requestId'),
    })
    const id = issued.certificate.id
    const escrowed = issuance.escrowsKeys(body.profile)
    return c.json(
      {
        ...toCertificateResource(issued.certificate),
        chainPem: chainPem(issued.chainDer),
        keyEscrowed: escrowed,
        ...(escrowed ? { bundle: `/api/v1/certificates/${id}/bundle` } : { privateKeyPem: toPem(issued.privateKeyPkcs8, 'PRIVATE KEY') }),
      },
      201,
      { Location: `/api/v1/certificates/${id}` },
    )
  })

  app.get('/:ref/bundle', async (c) => {
    const q = parse(bundleQuery, c.req.query())
    const zip = q.format ? q.format === 'zip' : (c.req.header('accept') ?? '').includes('application/zip')
    const bundle = await issuance.keyBundle(c.req.param('ref'), c.get('actor'), c.get('requestId'))
    const files = {
      'server.crt': toPem(bundle.certificateDer, 'CERTIFICATE'),
      'server.key': toPem(bundle.privateKeyPkcs8, 'PRIVATE KEY'),
      'ca-chain.crt': chainPem(bundle.chainDer),
    }
    const headers = { 'Cache-Control': 'no-store' }
    if (!zip) return c.json({ certificateId: bundle.certificate.id, serial: bundle.certificate.serial, version: bundle.version, files }, 200, headers)
    const archive = zipStored(
      Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text), mode: name === 'server.key' ? 0o600 : 0o644 })),
    )
    return c.body(archive, 200, {
      ...headers,
      'Content-Type': 'application/zip',
      'Content-Disposition': `attachment; filename="certificate-${bundle.certificate.id}.zip"`,
    })
  })

  return app
}
