// The ACME bench's floor: what the same load costs on this host when a server does only what the flow cannot do
// without — HTTPS, one ES256 JWS verification per request, the CSR's signature check, one ECDSA signature for the
// certificate and the http-01 fetch — and nothing else: no store, no framework, no policy, no real certificate.
// A bare node:https handler in its own process, answering the requests bench/acme.ts makes with the JSON that
// client reads. Its issuances/s bound what any Node ACME server, ours included, can reach here; the bench prints
// ours as a share of it, measured in the same run.
import { fork } from 'node:child_process'
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto'
import { request } from 'node:http'
import { createServer } from 'node:https'
import { fileURLToPath } from 'node:url'
import { children, decodeBer, encoding } from '../src/pki/ber.js'

export interface AcmeFloor {
  base: string
  pid: number
  stop(): void
}

/** Starts the floor server as its own process, on `port`, with the TLS key and certificate of the real server. */
export async function startAcmeFloor(o: { port: number; keyFile: string; certFile: string; http01Port: number }): Promise<AcmeFloor> {
  const child = fork(fileURLToPath(import.meta.url), [String(o.port), o.keyFile, o.certFile, String(o.http01Port)], {
    stdio: 'ignore',
  })
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve())
    child.once('exit', (code) => reject(new Error(`the ACME floor server exited (${code})`)))
  })
  return { base: `https://localhost:${o.port}`, pid: child.pid!, stop: () => child.kill() }
}

function fetchToken(port: number, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/.well-known/acme-challenge/${token}`, headers: { Connection: 'close' } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve(body))
    })
    req.on('error', reject)
    req.end()
  })
}

/** The CSR's self-signature (RFC 2986 §4.2), checked as parseCsr does for an EC key: node:crypto on the SPKI. */
function csrVerifies(der: Uint8Array): boolean {
  const [info, , signature] = children(decodeBer(der))
  const spki = encoding(children(info!)[2]!)
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
  return verify('sha256', encoding(info!), key, encoding(signature!).subarray(3))
}

async function serve(port: number, keyFile: string, certFile: string, http01Port: number): Promise<void> {
  const { readFileSync } = await import('node:fs')
  const base = `https://localhost:${port}`
  const caKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  const accounts = new Map<string, KeyObject>()
  const tokens = new Map<string, string>()
  let seq = 0
  const server = createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void answer(req.method!, req.url!, Buffer.concat(chunks)).then(
        ([status, body, headers]) => {
          res.writeHead(status, {
            'Replay-Nonce': randomBytes(16).toString('base64url'),
            'Cache-Control': 'no-store',
            Link: `<${base}/acme/directory>;rel="index"`,
            ...headers,
          })
          res.end(body)
        },
        () => res.writeHead(500).end(),
      )
    })
  })

  type Answer = [number, string, Record<string, string>?]
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => [
    status,
    JSON.stringify(body),
    { 'Content-Type': 'application/json', ...headers },
  ]
  async function answer(method: string, path: string, body: Buffer): Promise<Answer> {
    if (method === 'HEAD') return [200, '']
    const jws = JSON.parse(body.toString()) as { protected: string; payload: string; signature: string }
    const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString()) as { jwk?: object; kid?: string }
    const key = header.jwk ? createPublicKey({ key: header.jwk as never, format: 'jwk' }) : accounts.get(header.kid!)
    const signed = Buffer.from(`${jws.protected}.${jws.payload}`)
    if (!key || !verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(jws.signature, 'base64url'))) {
      return json(400, { type: 'urn:ietf:params:acme:error:malformed' })
    }
    const payload = jws.payload ? (JSON.parse(Buffer.from(jws.payload, 'base64url').toString()) as Record<string, unknown>) : undefined
    if (path === '/acme/new-account') {
      const kid = `${base}/acme/account/${++seq}`
      accounts.set(kid, key)
      return json(201, { status: 'valid' }, { Location: kid })
    }
    if (path === '/acme/new-order') {
      const id = String(++seq)
      tokens.set(id, randomBytes(16).toString('base64url'))
      return json(201, {
        status: 'pending',
        identifiers: payload!['identifiers'],
        authorizations: [`${base}/acme/authz/${id}`],
        finalize: `${base}/acme/order/${id}/finalize`,
      })
    }
    const [, kind, id] = /^\/acme\/(authz|challenge|order|certificate)\/(\d+)/.exec(path) ?? []
    const token = tokens.get(id ?? '')
    if (!token) return json(404, {})
    if (kind === 'authz') {
      return json(200, { status: 'pending', challenges: [{ type: 'http-01', url: `${base}/acme/challenge/${id}`, token }] })
    }
    if (kind === 'challenge') {
      const valid = (await fetchToken(http01Port, token)).startsWith(`${token}.`)
      return json(200, { type: 'http-01', token, status: valid ? 'valid' : 'invalid' })
    }
    if (kind === 'order') {
      const csr = Buffer.from(String(payload!['csr']), 'base64url')
      if (!csrVerifies(csr)) return json(400, { type: 'urn:ietf:params:acme:error:badCSR' })
      const signature = sign('sha256', csr, { key: caKey, dsaEncoding: 'der' })
      return json(200, { status: 'valid', certificate: `${base}/acme/certificate/${id}`, bytes: signature.length })
    }
    tokens.delete(id!)
    return [200, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', { 'Content-Type': 'application/pem-certificate-chain' }]
  }

  server.listen(port, '127.0.0.1', () => process.send?.('ready'))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port, keyFile, certFile, http01Port] = process.argv.slice(2)
  void serve(Number(port), keyFile!, certFile!, Number(http01Port))
}
