// src/pki/path-validation.ts: RFC 5280 §6 path validation as EST client authentication uses it — chains built
// at run time with TEST ONLY keys: root → intermediate → leaf, and each defect named.
import { beforeAll, describe, expect, it } from 'vitest'
import { ekuClientAuth, TrustAnchors, validatePath } from '../../../src/pki/path-validation.js'
import type { Der } from '../../../src/pki/pem.js'
import { x509 } from '../../../src/pki/x509.js'
import { makeKeys } from '../../helpers/csr.js'

const alg = { name: 'ECDSA', hash: 'SHA-256' }
const DAY = 86_400_000
const der = (c: x509.X509Certificate): Der => new Uint8Array(c.rawData)

interface Issued {
  cert: x509.X509Certificate
  keys: CryptoKeyPair
}

async function issue(
  subject: string,
  issuer: Issued | undefined,
  o: { ca?: boolean; pathLength?: number; eku?: string[]; keyUsage?: number; notAfter?: Date } = {},
): Promise<Issued> {
  const keys = await makeKeys('ecdsa-p256')
  const extensions: x509.Extension[] = []
  if (o.ca !== undefined) extensions.push(new x509.BasicConstraintsExtension(o.ca, o.pathLength, true))
  if (o.keyUsage !== undefined) extensions.push(new x509.KeyUsagesExtension(o.keyUsage, true))
  if (o.eku) extensions.push(new x509.ExtendedKeyUsageExtension(o.eku))
  const common = { notBefore: new Date(Date.now() - DAY), notAfter: o.notAfter ?? new Date(Date.now() + DAY), extensions, signingAlgorithm: alg }
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({ ...common, subject, issuer: issuer.cert.subject, publicKey: keys.publicKey, signingKey: issuer.keys.privateKey })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: subject, keys })
  return { cert, keys }
}

let root: Issued
let intermediate: Issued
let leaf: Issued
let anchors: TrustAnchors

beforeAll(async () => {
  root = await issue('CN=Root (TEST ONLY)', undefined, { ca: true, keyUsage: x509.KeyUsageFlags.keyCertSign })
  intermediate = await issue('CN=Issuing (TEST ONLY)', root, { ca: true, pathLength: 0, keyUsage: x509.KeyUsageFlags.keyCertSign })
  leaf = await issue('CN=device', intermediate, { ca: false, eku: [ekuClientAuth] })
  anchors = new TrustAnchors([der(root.cert)])
})

describe('validatePath (RFC 5280 §6.1)', () => {
  it('ok/leaf-intermediate-root', async () => {
    const r = await validatePath(der(leaf.cert), [der(intermediate.cert)], anchors, { extendedKeyUsage: ekuClientAuth })
    expect(r.ok && r.anchor.subject).toBe('CN=Root (TEST ONLY)')
  })

  it('ok/intermediate-as-anchor-and-extra-certificates-ignored', async () => {
    const stray = await issue('CN=Stray', undefined, { ca: true })
    const r = await validatePath(der(leaf.cert), [der(stray.cert), der(root.cert)], new TrustAnchors([der(intermediate.cert)]))
    expect(r.ok).toBe(true)
  })

  it('ok/anchor-itself-presented', async () => {
    const r = await validatePath(der(root.cert), [], anchors)
    expect(r.ok).toBe(true)
  })

  it.each([
    ['fail/missing-intermediate', async () => validatePath(der(leaf.cert), [], anchors), /does not chain to a trusted CA/],
    ['fail/untrusted-root', async () => validatePath(der(leaf.cert), [der(intermediate.cert)], new TrustAnchors([der((await issue('CN=Other', undefined, { ca: true })).cert)])), /does not chain/],
    ['fail/expired-leaf', async () => validatePath(der((await issue('CN=old', intermediate, { notAfter: new Date(Date.now() - 1000) })).cert), [der(intermediate.cert)], anchors), /expired or not yet valid/],
    ['fail/server-auth-only', async () => validatePath(der((await issue('CN=web', intermediate, { eku: ['1.3.6.1.5.5.7.3.1'] })).cert), [der(intermediate.cert)], anchors, { extendedKeyUsage: ekuClientAuth }), /not valid for 1.3.6.1.5.5.7.3.2/],
    ['fail/intermediate-not-a-ca', async () => {
      const notCa = await issue('CN=NotCA', root, { ca: false })
      return validatePath(der((await issue('CN=child', notCa)).cert), [der(notCa.cert)], anchors)
    }, /"CN=NotCA" is not a CA certificate/],
    ['fail/intermediate-without-keycertsign', async () => {
      const noSign = await issue('CN=NoSign', root, { ca: true, keyUsage: x509.KeyUsageFlags.digitalSignature })
      return validatePath(der((await issue('CN=child', noSign)).cert), [der(noSign.cert)], anchors)
    }, /may not sign certificates/],
    ['fail/path-length-exceeded', async () => {
      const sub = await issue('CN=Sub', intermediate, { ca: true })
      return validatePath(der((await issue('CN=deep', sub)).cert), [der(sub.cert), der(intermediate.cert)], anchors)
    }, /path length constraint exceeded/],
    ['fail/garbage', async () => validatePath(new Uint8Array([1, 2, 3]), [], anchors), /cannot be parsed/],
  ])('%s', async (_name, run, reason) => {
    const r = await run()
    expect(r.ok).toBe(false)
    expect(!r.ok && r.reason).toMatch(reason)
  })
})
