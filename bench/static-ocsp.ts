// The HTTP ceiling of `npm run bench -- revocation`: a Hono app on @hono/node-server (the stack `enroll serve` uses)
// whose POST /.well-known/pki/ocsp reads the request body and answers fixed bytes with fixed headers — the same
// response, byte for byte, that the OCSP responder sends for the cached request. Run as its own process:
//   node static-ocsp.js <response.der> <headers.json> <port>
// and prints "ready" once listening on 127.0.0.1.
import { readFileSync } from 'node:fs'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const [bodyFile, headersFile, port] = process.argv.slice(2)
if (!bodyFile || !headersFile || !port)
  throw new Error('usage: static-ocsp <response.der> <headers.json> <port>')
const body = new Uint8Array(readFileSync(bodyFile))
const headers = JSON.parse(readFileSync(headersFile, 'utf8')) as Record<string, string>

const app = new Hono()
app.post('/.well-known/pki/ocsp', async (c) => {
  await c.req.arrayBuffer()
  return new Response(body, { status: 200, headers })
})
const server = serve({ fetch: app.fetch, port: Number(port), hostname: '127.0.0.1' }, () =>
  process.stdout.write('ready\n'),
)
process.once('SIGTERM', () => server.close(() => process.exit(0)))
