// RFC 8894 §3.3.4 GetCert and §3.3.5 GetCRL: the content is an IssuerAndSerialNumber; GetCert answers with that
// certificate, GetCRL with the current complete CRL of the CA that issued it (degenerate SignedData either way).
import { isIssuanceError } from '../../../src/errors.js'
import { contents, TAG } from '../../../src/pki/ber.js'
import { x509 } from '../../../src/pki/x509.js'
import type { CertificateRecord } from '../../../src/store/index.js'
import { shardOf } from '../../../src/store/index.js'
import { decodeNamePair } from '../codec/pki-message.js'
import type { Outcome } from '../context.js'
import { ScepFailure } from '../fail-info.js'
import type { RequestContext } from './pkcs-req.js'

async function certificateNamed(ctx: RequestContext, data: Uint8Array): Promise<CertificateRecord> {
  const { first: issuerDer, second } = decodeNamePair(data)
  if (second.tag !== TAG.INTEGER) throw new ScepFailure('badRequest', 'the message data is not an IssuerAndSerialNumber')
  const serial = Buffer.from(contents(second)).toString('hex').replace(/^(00)+(?=.)/, '')
  let record: CertificateRecord
  try {
    record = await ctx.deps.issuance.find(serial || '0')
  } catch (e) {
    if (isIssuanceError(e) && e.kind === 'notFound') throw new ScepFailure('badCertId', `no certificate with serial ${serial}`)
    throw e
  }
  if (!record.der) throw new ScepFailure('badCertId', `serial ${serial} names a request, not an issued certificate`)
  let issuer: string
  try {
    issuer = new x509.Name(new Uint8Array(issuerDer)).toString()
  } catch {
    throw new ScepFailure('badRequest', 'the issuer is not an X.500 Name')
  }
  if (new x509.X509Certificate(record.der).issuer !== issuer) {
    throw new ScepFailure('badCertId', `certificate ${serial} was not issued by that issuer`)
  }
  return record
}

export async function getCert(ctx: RequestContext, data: Uint8Array): Promise<Outcome> {
  const record = await certificateNamed(ctx, data)
  return { status: 'SUCCESS', certificates: [record.der!] }
}

export async function getCrl(ctx: RequestContext, data: Uint8Array): Promise<Outcome> {
  const record = await certificateNamed(ctx, data)
  const crl = ctx.deps.crl
  if (!crl) throw new ScepFailure('badRequest', 'GetCRL is not offered by this server')
  const scope = crl.scopes().find((s) => s.backendId === record.backendId)
  const shard = scope && scope.shards > 0 ? shardOf(record.serial, scope.shards) : -1
  const published = await crl.get(record.backendId, shard, 'full')
  if (!published) throw new ScepFailure('badCertId', `no CRL is published for the issuer of ${record.serial}`)
  return { status: 'SUCCESS', certificates: [], crls: [published.der] }
}
