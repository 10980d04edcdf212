// A TLS-terminating recording proxy (conformance only): clients talk to it with the server's own TLS
// certificate, it forwards to the server and keeps each request/response pair, to be written as fixtures.
import { readFileSync } from 'node:fs'
import { createServer, request } from 'node:https'
import { join } from 'node:path'

export interface Exchange {
  request: { method: string; url: string; headers: Record<string, string>; body: string }
  response: { status: number; headers: Record<string, string | string[]>; body: string }
}

const keep = (h: Record<string, unknown>, names: string[]) =>
  Object.fromEntries(names.filter((n) => h[n] !== undefined).map((n) => [n, h[n] as string]))

/** Response headers as sent: a header sent on several lines (Link) is kept as an array of its lines. */
function rawKeep(raw: string[], names: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    if (!names.includes(name)) continue
    const prev = out[name]
    out[name] = prev === undefined ? raw[i + 1]! : [...(Array.isArray(prev) ? prev : [prev]), raw[i + 1]!]
  }
  return out
}

export async function startCaptureProxy(port: number, dataDir: string, upstreamPort: number) {
  const exchanges: Exchange[] = []
  const server = createServer(
    { key: readFileSync(join(dataDir, 'tls', 'server.key.pem')), cert: readFileSync(join(dataDir, 'tls', 'server.crt.pem')) },
    (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks)
        const up = request(
          { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, rejectUnauthorized: false },
          (upRes) => {
            const out: Buffer[] = []
            upRes.on('data', (c: Buffer) => out.push(c))
            upRes.on('end', () => {
              const resBody = Buffer.concat(out)
              exchanges.push({
                request: {
                  method: req.method ?? 'GET',
                  url: req.url ?? '/',
                  headers: keep(req.headers, ['content-type', 'user-agent']),
                  body: body.toString('utf8'),
                },
                response: {
                  status: upRes.statusCode ?? 0,
                  headers: rawKeep(upRes.rawHeaders, ['content-type', 'location', 'link', 'replay-nonce', 'retry-after', 'cache-control']),
                  body: resBody.toString('utf8'),
                },
              })
              res.writeHead(upRes.statusCode ?? 502, upRes.rawHeaders)
              res.end(resBody)
            })
          },
        )
        up.on('error', () => res.writeHead(502).end())
        up.end(body)
      })
    },
  )
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return { exchanges, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}
