// RFC 6960 §4.1 OCSPRequest in (parsed with pkijs), as the protocol-neutral OcspQuery the revocation service
// answers. Anything this cannot make sense of is an OcspProblem('malformedRequest').
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import type { CertIdHash, CertIdQuery, OcspQuery } from '../../src/revocation/index.js'

export class OcspProblem extends Error {
  override readonly name = 'OcspProblem'
  constructor(
    readonly status: 'malformedRequest' | 'unauthorized',
    detail: string,
  ) {
    super(detail)
  }
}

/** More CertIDs than this in one request is refused (each costs a lookup and a SingleResponse). */
export const MAX_CERT_IDS = 32
/** RFC 8954 §2.1 as updated by RFC 9654: a nonce is 1 to 128 octets. */
export const MAX_NONCE_OCTETS = 128

const ID_NONCE = '1.3.6.1.5.5.7.48.1.2'
const hashAlgorithms: Record<string, { name: CertIdHash; length: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', length: 20 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', length: 32 },
}

const malformed = (detail: string) => new OcspProblem('malformedRequest', detail)

/** asn1js.fromBER, requiring exactly one value and turning its throws (e.g. bad time strings) into problems. */
function fromBer(der: Uint8Array, what: string): asn1js.AsnType {
  let parsed: ReturnType<typeof asn1js.fromBER>
  try {
    parsed = asn1js.fromBER(der)
  } catch (e) {
    throw malformed(`${what} is not valid BER: ${(e as Error).message}`)
  }
  if (parsed.offset === -1 || parsed.offset !== der.byteLength) throw malformed(`${what} is not one DER value`)
  return parsed.result
}
const bytes = (v: ArrayBuffer) => new Uint8Array(v)

/** Serial as normalized lowercase hex (no leading zero octets), from the INTEGER's content octets. */
function serialHex(n: asn1js.Integer): string {
  const hex = Buffer.from(n.valueBlock.valueHexView).toString('hex').replace(/^(00)+(?=..)/, '')
  if (!hex) throw malformed('CertID serialNumber is empty')
  return hex
}

function certId(req: pkijs.Request): CertIdQuery {
  const id = req.reqCert
  const alg = hashAlgorithms[id.hashAlgorithm.algorithmId]
  if (!alg) throw malformed(`CertID hash algorithm ${id.hashAlgorithm.algorithmId} is not supported`)
  const issuerNameHash = bytes(id.issuerNameHash.valueBlock.valueHexView.slice().buffer)
  const issuerKeyHash = bytes(id.issuerKeyHash.valueBlock.valueHexView.slice().buffer)
  if (issuerNameHash.length !== alg.length || issuerKeyHash.length !== alg.length) {
    throw malformed(`CertID hashes must be ${alg.length} octets for ${alg.name}`)
  }
  return { hashAlgorithm: alg.name, issuerNameHash, issuerKeyHash, serial: serialHex(id.serialNumber), der: bytes(id.toSchema().toBER()) }
}

/** The nonce's extnValue content, which must itself be an OCTET STRING of 1..128 octets (RFC 8954 §2.1). */
function nonceOf(ext: pkijs.Extension): Uint8Array {
  const value = bytes(ext.extnValue.valueBlock.valueHexView.slice().buffer)
  const inner = fromBer(value, 'nonce')
  if (!(inner instanceof asn1js.OctetString)) throw malformed('nonce is not an OCTET STRING')
  const length = inner.valueBlock.valueHexView.byteLength
  if (length < 1 || length > MAX_NONCE_OCTETS) throw malformed(`nonce of ${length} octets (1 to ${MAX_NONCE_OCTETS} allowed)`)
  return value
}

export function decodeOcspRequest(der: Uint8Array): OcspQuery {
  if (der.byteLength === 0) throw malformed('empty request')
  const parsed = fromBer(der, 'request')
  let request: pkijs.OCSPRequest
  try {
    request = new pkijs.OCSPRequest({ schema: parsed })
  } catch (e) {
    throw malformed(`not an OCSPRequest: ${(e as Error).message}`)
  }
  const tbs = request.tbsRequest
  if (tbs.version !== undefined && tbs.version !== 0) throw malformed(`version ${tbs.version} is not v1`)
  if (tbs.requestList.length === 0) throw malformed('requestList is empty')
  if (tbs.requestList.length > MAX_CERT_IDS) throw malformed(`more than ${MAX_CERT_IDS} CertIDs`)
  let nonce: Uint8Array | undefined
  for (const ext of tbs.requestExtensions ?? []) {
    if (ext.extnID === ID_NONCE) nonce = nonceOf(ext)
    else if (ext.critical) throw malformed(`unsupported critical extension ${ext.extnID}`)
  }
  for (const r of tbs.requestList) {
    if (r.singleRequestExtensions?.some((e) => e.critical)) throw malformed('unsupported critical singleRequestExtension')
  }
  return { certIds: tbs.requestList.map(certId), nonce }
}
