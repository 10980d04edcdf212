// CA certificate download on the HTTP listener (RFC 8615 /.well-known/pki/; RFC 2585 media types).
// The default CA is the one signing the "default" profile; /ca/<backend-id>.{pem,der} names one.
import { Hono } from 'hono'
import type { IssuanceService } from '../issuance/service.js'
import { toPem } from '../pki/pem.js'
import type { AppEnv } from './middleware.js'

const pemChain = (chain: Uint8Array[]) => chain.map((d) => toPem(d, 'CERTIFICATE')).join('')

export function caDownloadApp(issuance: IssuanceService) {
  const app = new Hono<AppEnv>()
  const pem = (chain: Uint8Array[]) =>
    new Response(pemChain(chain), { headers: { 'Content-Type': 'application/pem-certificate-chain' } })
  const der = (chain: Uint8Array[]) =>
    new Response(Buffer.from(chain[0]!), { headers: { 'Content-Type': 'application/pkix-cert' } })
  const notFound = () =>
    new Response(JSON.stringify({ title: 'Not Found', status: 404, detail: 'no such CA' }), {
      status: 404,
      headers: { 'Content-Type': 'application/problem+json' },
    })

  /** The chain (issuing first, root last) as PEM; the issuing CA certificate alone as DER. */
  app.get('/ca.pem', async () => pem(await issuance.chainFor('default')))
  app.get('/ca.der', async () => der(await issuance.chainFor('default')))
  app.get('/ca/:file{[a-z0-9-]+\\.(pem|der)}', async (c) => {
    const file = c.req.param('file')
    const id = file.slice(0, -4)
    const chain = await issuance.chainForBackend(id)
    if (!chain?.length) return notFound()
    return file.endsWith('.pem') ? pem(chain) : der(chain)
  })
  return app
}
