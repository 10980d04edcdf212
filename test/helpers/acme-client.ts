// A minimal ACME client for integration tests (never for conformance): jose-signed flattened JWS over any
// fetch-like function (Hono's app.request or real HTTP). Keys are TEST ONLY, generated per run.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { calculateJwkThumbprint, exportJWK, FlattenedSign, generateKeyPair, type JWK, type JWSHeaderParameters } from 'jose'

export type Fetcher = (url: string, init?: RequestInit) => Promise<Response> | Response
export type AccountAlg = 'ES256' | 'ES384' | 'RS256' | 'EdDSA'

export interface AcmeResponse<T = any> {
  status: number
  headers: Headers
  body: T
  text: string
}

export interface SignOptions {
  /** Sign with the embedded jwk instead of the kid. */
  jwk?: boolean
  nonce?: string | null
  url?: string
  keys?: CryptoKeyPair
  alg?: string
  extraHeader?: JWSHeaderParameters
}

export class AcmeTestClient {
  directory!: Record<string, any>
  nonce: string | undefined
  kid: string | undefined
  keys!: CryptoKeyPair
  jwk!: JWK
  thumbprint!: string

  constructor(
    readonly fetch: Fetcher,
    readonly directoryUrl: string,
    readonly alg: AccountAlg = 'ES256',
  ) {}

  static async create(fetch: Fetcher, directoryUrl: string, alg: AccountAlg = 'ES256'): Promise<AcmeTestClient> {
    const c = new AcmeTestClient(fetch, directoryUrl, alg)
    c.directory = await (await fetch(directoryUrl)).json()
    await c.setKeys(await AcmeTestClient.keyPair(alg))
    return c
  }

  static keyPair(alg: AccountAlg): Promise<CryptoKeyPair> {
    return generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, { extractable: true }) as Promise<CryptoKeyPair>
  }

  async setKeys(keys: CryptoKeyPair): Promise<void> {
    this.keys = keys
    this.jwk = await exportJWK(keys.publicKey)
    this.thumbprint = await calculateJwkThumbprint(this.jwk)
  }

  async freshNonce(): Promise<string> {
    const r = await this.fetch(this.directory['newNonce'], { method: 'HEAD' })
    return r.headers.get('replay-nonce')!
  }

  async sign(url: string, payload: unknown, o: SignOptions = {}): Promise<Record<string, string>> {
    const keys = o.keys ?? this.keys
    const nonce = o.nonce === undefined ? (this.nonce ?? (await this.freshNonce())) : o.nonce
    this.nonce = undefined
    const header: JWSHeaderParameters = { alg: o.alg ?? this.alg, url: o.url ?? url, ...o.extraHeader }
    if (nonce !== null) header['nonce'] = nonce
    if (o.jwk || !this.kid) header.jwk = o.keys ? await exportJWK(o.keys.publicKey) : this.jwk
    else header.kid = this.kid
    const bytes = payload === '' ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(payload))
    return (await new FlattenedSign(bytes).setProtectedHeader(header).sign(keys.privateKey)) as unknown as Record<string, string>
  }

  async postRaw(url: string, body: string, contentType = 'application/jose+json', headers: Record<string, string> = {}): Promise<AcmeResponse> {
    const r = await this.fetch(url, { method: 'POST', headers: { 'Content-Type': contentType, ...headers }, body })
    this.nonce = r.headers.get('replay-nonce') ?? undefined
    const text = await r.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // PEM or empty
    }
    return { status: r.status, headers: r.headers, body: parsed, text }
  }

  /** `accept`: the Accept header to send (e.g. a certificate format, RFC 8555 §7.4.2). */
  async post(url: string, payload: unknown, o: SignOptions & { accept?: string } = {}): Promise<AcmeResponse> {
    const headers: Record<string, string> = o.accept ? { Accept: o.accept } : {}
    return this.postRaw(url, JSON.stringify(await this.sign(url, payload, o)), 'application/jose+json', headers)
  }

  async newAccount(payload: Record<string, unknown> = { termsOfServiceAgreed: true }): Promise<AcmeResponse> {
    const r = await this.post(this.directory['newAccount'], payload, { jwk: true })
    if (r.status === 201 || r.status === 200) this.kid = r.headers.get('location')!
    return r
  }

  keyAuthorization(token: string): string {
    return `${token}.${this.thumbprint}`
  }

  /** Polls a resource (POST-as-GET) until its status is not pending/processing. */
  async poll(url: string, timeoutMs = 20_000): Promise<AcmeResponse> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const r = await this.post(url, '')
      if (!['pending', 'processing'].includes(r.body?.status) || Date.now() > deadline) return r
      await new Promise((res) => setTimeout(res, 50))
    }
  }
}

/** An http-01 responder on 127.0.0.1 (TEST ONLY): serves key authorizations the test puts in `tokens`, after `delays`. */
export async function startHttp01Responder(): Promise<{
  port: number
  tokens: Map<string, string>
  /** Milliseconds to wait before answering a token (a slow web server). */
  delays: Map<string, number>
  requests: string[]
  close(): Promise<void>
}> {
  const tokens = new Map<string, string>()
  const delays = new Map<string, number>()
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    requests.push(`${req.headers.host} ${req.url}`)
    const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1]
    const value = token ? tokens.get(token) : undefined
    const answer = () => {
      res.writeHead(value ? 200 : 404, { 'Content-Type': 'text/plain' })
      res.end(value ?? 'not found')
    }
    const delay = token ? delays.get(token) : undefined
    if (delay) setTimeout(answer, delay)
    else answer()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    tokens,
    delays,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/**
 * A tls-alpn-01 responder on 127.0.0.1 (TEST ONLY, RFC 8737 §3): for SNI names in `keyAuthorizations` it presents
 * a self-signed certificate with that one SAN and the critical id-pe-acmeIdentifier extension.
 */
export async function startTlsAlpnResponder(): Promise<{ port: number; keyAuthorizations: Map<string, string>; close(): Promise<void> }> {
  const { createServer: createTlsServer, createSecureContext } = await import('node:tls')
  const { createHash, webcrypto } = await import('node:crypto')
  const { x509 } = await import('../../src/pki/x509.js')
  const { toPem } = await import('../../src/pki/pem.js')
  const keyAuthorizations = new Map<string, string>()
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const keyPem = toPem(new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as never)), 'PRIVATE KEY')
  const contextFor = async (name: string, keyAuthz: string) => {
    const digest = createHash('sha256').update(keyAuthz).digest()
    const isIp = /^[\d.]+$/.test(name) || name.includes(':')
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=acme-tls-alpn-01',
      keys,
      signingAlgorithm: alg,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: isIp ? 'ip' : 'dns', value: name }]),
        new x509.Extension('1.3.6.1.5.5.7.1.31', true, new Uint8Array([0x04, 0x20, ...digest])),
      ],
    })
    return createSecureContext({ key: keyPem, cert: cert.toString('pem') })
  }
  const server = createTlsServer({
    ALPNProtocols: ['acme-tls/1'],
    SNICallback: (servername, cb) => {
      const keyAuthz = keyAuthorizations.get(servername)
      if (!keyAuthz) return cb(new Error(`no challenge for ${servername}`))
      contextFor(servername, keyAuthz).then((ctx) => cb(null, ctx), cb)
    },
  })
  server.on('secureConnection', (s) => s.end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    keyAuthorizations,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
