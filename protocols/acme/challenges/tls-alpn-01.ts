// RFC 8737 tls-alpn-01: a TLS handshake offering only "acme-tls/1", SNI = the domain (RFC 8738 §6: the
// reverse-DNS name for an IP), must present a certificate whose only SAN is the identifier and whose critical
// id-pe-acmeIdentifier extension holds SHA-256(key authorization).
import { createHash } from 'node:crypto'
import { isIP } from 'node:net'
import { connect } from 'node:tls'
import { x509 } from '../../../src/pki/x509.js'
import type { AcmeIdentifier } from '../../../src/store/index.js'
import { AcmeProblem } from '../problems.js'
import { canonicalIp } from '../identifiers.js'
import { resolveHost, type ValidationNetwork } from './resolver.js'

export const ACME_TLS_ALPN = 'acme-tls/1'
export const ID_PE_ACME_IDENTIFIER = '1.3.6.1.5.5.7.1.31'

/** RFC 8738 §6 / RFC 1035 §3.5 and RFC 3596 §2.5: the in-addr.arpa / ip6.arpa name of an address. */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`
  const groups = new URL(`http://[${ip}]/`).hostname.slice(1, -1).split('::')
  const head = groups[0] ? groups[0].split(':') : []
  const tail = groups[1] ? groups[1].split(':') : []
  const full = groups.length === 2 ? [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail] : head
  const nibbles = full.map((g: string) => g.padStart(4, '0')).join('')
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`
}

function handshake(address: string, port: number, servername: string, timeoutMs: number): Promise<{ alpn: string | false; der: Uint8Array | undefined }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, servername, ALPNProtocols: [ACME_TLS_ALPN], rejectUnauthorized: false, timeout: timeoutMs })
    socket.once('secureConnect', () => {
      const cert = socket.getPeerX509Certificate()
      resolve({ alpn: socket.alpnProtocol ?? false, der: cert ? new Uint8Array(cert.raw) : undefined })
      socket.end()
    })
    socket.once('timeout', () => socket.destroy(new Error('timeout')))
    socket.once('error', reject)
  })
}

/** The certificate checks of RFC 8737 §3 (pure; unit-tested). */
export function checkAcmeTlsCertificate(der: Uint8Array, identifier: AcmeIdentifier, keyAuthz: string): void {
  let cert: x509.X509Certificate
  try {
    cert = new x509.X509Certificate(new Uint8Array(der))
  } catch {
    throw new AcmeProblem('tls', 'the presented certificate cannot be parsed')
  }
  const sanExt = cert.getExtension('2.5.29.17')
  const names = sanExt ? new x509.SubjectAlternativeNameExtension(sanExt.rawData).names.items : []
  const matches = (n: x509.GeneralName) =>
    identifier.type === 'dns'
      ? n.type === 'dns' && n.value.toLowerCase() === identifier.value
      : n.type === 'ip' && canonicalIp(n.value) === identifier.value
  if (names.length !== 1 || !matches(names[0]!)) {
    throw new AcmeProblem('unauthorized', `the acme-tls/1 certificate must name exactly ${identifier.value} in its subjectAltName`)
  }
  const ext = cert.getExtension(ID_PE_ACME_IDENTIFIER)
  if (!ext) throw new AcmeProblem('unauthorized', 'the acme-tls/1 certificate has no id-pe-acmeIdentifier extension')
  if (!ext.critical) throw new AcmeProblem('unauthorized', 'the id-pe-acmeIdentifier extension must be critical')
  const digest = createHash('sha256').update(keyAuthz).digest()
  const expected = Buffer.concat([Buffer.from([0x04, 0x20]), digest])
  if (!Buffer.from(ext.value).equals(expected)) {
    throw new AcmeProblem('unauthorized', 'the id-pe-acmeIdentifier extension does not hold SHA-256 of the key authorization')
  }
}

export async function validateTlsAlpn01(identifier: AcmeIdentifier, keyAuthz: string, net: ValidationNetwork): Promise<void> {
  const [address] = await resolveHost(net.resolver, identifier.value)
  const servername = identifier.type === 'ip' ? reverseName(identifier.value) : identifier.value
  let got: { alpn: string | false; der: Uint8Array | undefined }
  try {
    got = await handshake(address!.address, net.tlsAlpn01Port, servername, net.timeoutMs)
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    throw new AcmeProblem('connection', `TLS connection to ${identifier.value}:${net.tlsAlpn01Port}: ${err.code ?? err.message}`)
  }
  if (got.alpn !== ACME_TLS_ALPN) throw new AcmeProblem('tls', `the server did not negotiate ${ACME_TLS_ALPN}`)
  if (!got.der) throw new AcmeProblem('tls', 'the server presented no certificate')
  checkAcmeTlsCertificate(got.der, identifier, keyAuthz)
}
