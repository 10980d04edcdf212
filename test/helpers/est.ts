// EST over real TLS for tests: one request per fresh connection, optionally with a client certificate, a pinned
// TLS version, and a body computed from the connection (channel binding) before it is sent.
import { webcrypto } from 'node:crypto'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { once } from 'node:events'
import { connect, type TLSSocket } from 'node:tls'
import { toPem } from '../../src/pki/pem.js'

export interface EstCall {
  method?: 'GET' | 'POST' | 'PUT'
  path: string
  /** The body, or a function of the connected socket (to put its channel binding into a CSR). */
  body?: string | ((socket: TLSSocket) => Promise<string>)
  contentType?: string
  basic?: [user: string, password: string]
  /** PEM private key and certificate (chain) for TLS client authentication. */
  clientKey?: string
  clientCert?: string
  maxVersion?: 'TLSv1.2' | 'TLSv1.3'
  headers?: Record<string, string>
}

export interface EstReply {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

export async function estCall(port: number, caPem: string, o: EstCall): Promise<EstReply> {
  const socket = connect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca: caPem,
    ...(o.clientKey ? { key: o.clientKey, cert: o.clientCert } : {}),
    ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
  })
  await once(socket, 'secureConnect')
  try {
    const body = typeof o.body === 'function' ? await o.body(socket) : o.body
    const headers: Record<string, string> = { Host: 'localhost', ...o.headers }
    if (o.basic) headers['Authorization'] = `Basic ${Buffer.from(o.basic.join(':')).toString('base64')}`
    if (body !== undefined) {
      headers['Content-Type'] ??= o.contentType ?? 'application/pkcs10'
      headers['Content-Length'] = String(Buffer.byteLength(body))
    }
    return await new Promise<EstReply>((resolve, reject) => {
      const req = httpRequest({ createConnection: () => socket, method: o.method ?? (body === undefined ? 'GET' : 'POST'), path: o.path, headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
      })
      req.on('error', reject)
      if (body !== undefined) req.write(body)
      req.end()
    })
  } finally {
    socket.destroy()
  }
}

/** PKCS#8 PEM of a WebCrypto private key (for TLS client authentication). */
export async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey)
  return toPem(new Uint8Array(der), 'PRIVATE KEY')
}

/** The CSR body as an EST client sends it: base64 DER on one line. */
export const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64')
