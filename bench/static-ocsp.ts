// The HTTP ceilings of `npm run bench -- revocation`: a server whose POST /.well-known/pki/ocsp reads the request
// body and answers fixed bytes with fixed headers — the same response, byte for byte, that the OCSP responder sends
// for the cached request. Two stacks:
//   hono — a Hono app on @hono/node-server (the stack `enroll serve` uses for every other route);
//   node — a bare node:http listener (the floor of any Node server: node's own HTTP parser and response writer).
// Run as its own process:
//   node static-ocsp.js <response.der> <headers.json> <port> [hono|node]
// and prints "ready" once listening on 127.0.0.1.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const [bodyFile, headersFile, port, stack = 'hono'] = process.argv.slice(2)
if (!bodyFile || !headersFile || !port || !['hono', 'node'].includes(stack))
  throw new Error('usage: static-ocsp <response.der> <headers.json> <port> [hono|node]')
const body = new Uint8Array(readFileSync(bodyFile))
const headers = JSON.parse(readFileSync(headersFile, 'utf8')) as Record<string, string>
const ready = () => process.stdout.write('ready\n')

let server: { close(done: () => void): unknown }
if (stack === 'hono') {
  const app = new Hono()
  app.post('/.well-known/pki/ocsp', async (c) => {
    await c.req.arrayBuffer()
    return new Response(body, { status: 200, headers })
  })
  server = serve({ fetch: app.fetch, port: Number(port), hostname: '127.0.0.1' }, ready)
} else {
  const list = [...Object.entries(headers).flat(), 'Content-Length', String(body.byteLength)]
  const node = createServer((req, res) => {
    req.resume()
    req.once('end', () => {
      res.writeHead(200, list)
      res.end(body)
    })
  })
  node.listen(Number(port), '127.0.0.1', ready)
  server = node
}
process.once('SIGTERM', () => server.close(() => process.exit(0)))
