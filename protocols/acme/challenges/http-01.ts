// RFC 8555 §8.3 http-01: GET http://<identifier>/.well-known/acme-challenge/<token> must return the key
// authorization (trailing whitespace ignored). Redirects are followed (at most 10, http/https, to the
// challenge ports only); the name is resolved through our resolver, never the system one.
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import { isIP } from 'node:net'
import type { AcmeIdentifier } from '../../../src/store/index.js'
import { AcmeProblem } from '../problems.js'
import { resolveHost, type ValidationNetwork } from './resolver.js'

const MAX_BODY = 8 * 1024
const MAX_REDIRECTS = 10

/** A connect-time lookup answering with the address we resolved (keeps Host and SNI the identifier). */
function fixedLookup(address: string, family: 4 | 6): LookupFunction {
  return ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (options?.all) cb(null, [{ address, family }])
    else cb(null, address, family)
  }) as unknown as LookupFunction
}

function get(url: URL, net: ValidationNetwork, address: { address: string; family: 4 | 6 }): Promise<{ res: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:'
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const req = (https ? httpsRequest : httpRequest)(
      {
        host,
        port: url.port || (https ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        lookup: fixedLookup(address.address, address.family),
        headers: { 'User-Agent': 'enroll-acme-validator', Accept: '*/*', Connection: 'close' },
        timeout: net.timeoutMs,
        ...(https ? { rejectUnauthorized: false, servername: isIP(host) ? undefined : host } : {}),
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
          if (body.length > MAX_BODY) req.destroy(new Error('response body too large'))
        })
        res.on('end', () => resolve({ res, body }))
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

export async function validateHttp01(identifier: AcmeIdentifier, token: string, keyAuthz: string, net: ValidationNetwork): Promise<void> {
  const host = identifier.type === 'ip' && isIP(identifier.value) === 6 ? `[${identifier.value}]` : identifier.value
  let url = new URL(`http://${host}:${net.http01Port}/.well-known/acme-challenge/${token}`)
  const allowedPorts = new Set(['', '80', '443', String(net.http01Port)])
  for (let hop = 0; ; hop++) {
    const [address] = await resolveHost(net.resolver, url.hostname.replace(/^\[|\]$/g, ''))
    let got: { res: IncomingMessage; body: string }
    try {
      got = await get(url, net, address!)
    } catch (e) {
      const err = e as NodeJS.ErrnoException
      throw new AcmeProblem('connection', `fetching ${url.href}: ${err.code ?? err.message}`)
    }
    const status = got.res.statusCode ?? 0
    const location = got.res.headers.location
    if (status >= 300 && status < 400 && location) {
      if (hop >= MAX_REDIRECTS) throw new AcmeProblem('connection', `too many redirects fetching ${url.href}`)
      const next = new URL(location, url)
      if (!['http:', 'https:'].includes(next.protocol) || !allowedPorts.has(next.port)) {
        throw new AcmeProblem('connection', `redirect to ${next.href} is not allowed (http/https on ports 80/443 only)`)
      }
      url = next
      continue
    }
    if (status !== 200) throw new AcmeProblem('unauthorized', `fetching ${url.href}: HTTP ${status}`)
    const body = got.body.replace(/[\s]+$/, '')
    if (body !== keyAuthz) {
      throw new AcmeProblem('unauthorized', `the key authorization at ${url.href} is "${body.slice(0, 100)}", expected "${keyAuthz}"`)
    }
    return
  }
}
