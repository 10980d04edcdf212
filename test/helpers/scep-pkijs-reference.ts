// TEST ONLY oracle: the SCEP request decoders as they were written on pkijs/asn1js object models (before the lean
// BER walk in protocols/scep/codec/signed-data.ts and enveloped-data.ts). The codec tests decode the same bytes both
// ways — captured client messages and mutated ones — and expect the same fields and the same refusals.
import { createHash } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { cipherByOid, cipherIvLength, digestByOid, OID, type ContentCipher, type DigestName } from '../../protocols/scep/codec/cms.js'
import { ScepFailure, ScepHttpError } from '../../protocols/scep/fail-info.js'

export interface ReferencePkiMessage {
  messageType: number
  transactionId: string
  transactionIdTag: number
  senderNonce: Uint8Array
  pkiStatus: string | undefined
  failInfo: string | undefined
  recipientNonce: Uint8Array | undefined
  signerCertificate: Uint8Array | undefined
  digest: DigestName | undefined
  content: Uint8Array
  signature: {
    algorithm: string
    /** DER of the parameters, for comparison. */
    parameters: Uint8Array | undefined
    value: Uint8Array
    signedAttributes: Uint8Array
    messageDigest: Uint8Array | undefined
    digestAlgorithm: string
  }
}

export interface ReferenceEnvelope {
  recipients: {
    rid: { issuer: Uint8Array; serialNumber: Uint8Array } | { ski: Uint8Array }
    transport: { scheme: string; hash?: string } | undefined
    transportOid: string
    encryptedKey: Uint8Array
  }[]
  cipher: ContentCipher
  iv: Uint8Array
  encryptedContent: Uint8Array
}

function parseBer(der: Uint8Array): asn1js.AsnType | undefined {
  try {
    const parsed = asn1js.fromBER(der)
    if (parsed.offset === -1 || parsed.offset !== der.byteLength) return undefined
    return parsed.result
  } catch {
    return undefined
  }
}

function octets(block: asn1js.BaseBlock): Uint8Array {
  if (block.idBlock.tagClass === 1 && block.idBlock.tagNumber !== 4) throw new Error('not an OCTET STRING')
  if (block.idBlock.isConstructed) {
    const segments = (block as asn1js.Constructed).valueBlock.value
    if (!Array.isArray(segments)) throw new Error('malformed constructed OCTET STRING')
    return Buffer.concat(segments.map(octets))
  }
  const hex = (block as asn1js.OctetString).valueBlock.valueHexView
  if (!(hex instanceof Uint8Array)) throw new Error('malformed OCTET STRING')
  return new Uint8Array(hex)
}

function issuerAndSerialParts(certificateDer: Uint8Array): { issuer: Uint8Array; serial: Uint8Array } {
  const cert = parseBer(certificateDer)
  const tbs = (cert as asn1js.Sequence | undefined)?.valueBlock.value[0] as asn1js.Sequence | undefined
  const fields = tbs?.valueBlock.value ?? []
  const at = fields[0]?.idBlock.tagClass === 3 ? 1 : 0
  const serial = fields[at]
  const issuer = fields[at + 2]
  if (!serial || !issuer) throw new Error('not an X.509 certificate')
  return { issuer: new Uint8Array(issuer.valueBeforeDecodeView), serial: new Uint8Array(serial.valueBeforeDecodeView) }
}

const bad = (detail: string) => new ScepHttpError(400, `not a pkiMessage this server can answer: ${detail}`)

function attributeMap(attrs: pkijs.Attribute[]): Map<string, asn1js.AsnType> {
  const map = new Map<string, asn1js.AsnType>()
  for (const a of attrs) if (a.values[0] && !map.has(a.type)) map.set(a.type, a.values[0] as asn1js.AsnType)
  return map
}

const stringTags = new Set([12, 19, 20, 22, 26, 30])

function stringValue(v: asn1js.AsnType | undefined): { value: string; tag: number } | undefined {
  if (!v || v.idBlock.tagClass !== 1 || !stringTags.has(v.idBlock.tagNumber)) return undefined
  const value = (v as asn1js.PrintableString).valueBlock.value
  return typeof value === 'string' ? { value, tag: v.idBlock.tagNumber } : undefined
}

function findSignerCertificate(signed: pkijs.SignedData, sid: pkijs.SignerInfo['sid']): Uint8Array | undefined {
  const certs = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
  for (const cert of certs) {
    const der = new Uint8Array(cert.toSchema().toBER(false))
    if (sid instanceof pkijs.IssuerAndSerialNumber) {
      const parts = issuerAndSerialParts(der)
      const want = { issuer: new Uint8Array(sid.issuer.toSchema().toBER(false)), serial: new Uint8Array(sid.serialNumber.toBER(false)) }
      if (Buffer.from(parts.serial).equals(Buffer.from(want.serial)) && Buffer.from(parts.issuer).equals(Buffer.from(want.issuer))) return der
      if (cert.serialNumber.isEqual(sid.serialNumber) && cert.issuer.isEqual(sid.issuer)) return der
    } else if (sid instanceof asn1js.Primitive || sid instanceof asn1js.OctetString) {
      const ski = Buffer.from((sid as asn1js.OctetString).valueBlock.valueHexView)
      const spkiBits = Buffer.from(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
      if (createHash('sha1').update(spkiBits).digest().equals(ski)) return der
      const ext = cert.extensions?.find((e) => e.extnID === '2.5.29.14')
      const inner = ext ? parseBer(new Uint8Array(ext.extnValue.valueBlock.valueHexView)) : undefined
      if (inner && Buffer.from((inner as asn1js.OctetString).valueBlock.valueHexView).equals(ski)) return der
    }
  }
  return certs.length === 1 ? new Uint8Array(certs[0]!.toSchema().toBER(false)) : undefined
}

/** The pkijs-based decodePkiMessage, field for field. */
export function referenceDecodePkiMessage(der: Uint8Array): ReferencePkiMessage {
  try {
    return readPkiMessage(der)
  } catch (e) {
    if (e instanceof ScepHttpError) throw e
    throw bad(`the message is malformed (${(e as Error).message})`)
  }
}

function readPkiMessage(der: Uint8Array): ReferencePkiMessage {
  if (der.byteLength === 0) throw bad('the message is empty')
  const parsed = parseBer(der)
  if (!parsed) throw bad('the message is not one BER value')
  let signed: pkijs.SignedData
  try {
    const ci = new pkijs.ContentInfo({ schema: parsed })
    if (ci.contentType !== OID.signedData) throw new Error(`content type ${ci.contentType} is not signedData`)
    signed = new pkijs.SignedData({ schema: ci.content })
  } catch (e) {
    throw bad(`the message is not a CMS SignedData (${(e as Error).message})`)
  }
  if (signed.signerInfos.length !== 1) throw bad(`the SignedData has ${signed.signerInfos.length} signers, not 1`)
  const signer = signed.signerInfos[0]!
  if (!signer.signedAttrs) throw bad('the signer has no signed attributes')
  const attrs = attributeMap(signer.signedAttrs.attributes)
  const transactionId = stringValue(attrs.get(OID.transactionID))
  if (!transactionId || transactionId.value.length === 0) throw bad('the transactionID attribute is missing')
  const type = stringValue(attrs.get(OID.messageType))
  if (!type || !/^\d{1,4}$/.test(type.value)) throw bad('the messageType attribute is missing or not a number')
  const nonce = attrs.get(OID.senderNonce)
  if (!(nonce instanceof asn1js.OctetString)) throw bad('the senderNonce attribute is missing')
  const senderNonce = octets(nonce)
  if (senderNonce.byteLength === 0 || senderNonce.byteLength > 64) throw bad('the senderNonce is not 1 to 64 octets')
  const md = attrs.get(OID.messageDigest)
  const eContent = signed.encapContentInfo.eContent
  let signerCertificate: Uint8Array | undefined
  try {
    signerCertificate = findSignerCertificate(signed, signer.sid)
  } catch {
    signerCertificate = undefined
  }
  const params = signer.signatureAlgorithm.algorithmParams as asn1js.AsnType | undefined
  return {
    messageType: Number(type.value),
    transactionId: transactionId.value,
    transactionIdTag: transactionId.tag,
    senderNonce,
    pkiStatus: stringValue(attrs.get(OID.pkiStatus))?.value,
    failInfo: stringValue(attrs.get(OID.failInfo))?.value,
    recipientNonce: attrs.get(OID.recipientNonce) instanceof asn1js.OctetString ? octets(attrs.get(OID.recipientNonce)!) : undefined,
    signerCertificate,
    digest: digestByOid[signer.digestAlgorithm.algorithmId],
    content: eContent ? octets(eContent) : new Uint8Array(0),
    signature: {
      algorithm: signer.signatureAlgorithm.algorithmId,
      parameters: params ? new Uint8Array(params.toBER(false)) : undefined,
      value: new Uint8Array(signer.signature.valueBlock.valueHexView),
      signedAttributes: new Uint8Array(signer.signedAttrs.encodedValue),
      messageDigest: md instanceof asn1js.OctetString ? octets(md) : undefined,
      digestAlgorithm: signer.digestAlgorithm.algorithmId,
    },
  }
}

const malformed = (detail: string) => new ScepFailure('badMessageCheck', `pkcsPKIEnvelope: ${detail}`)

function keyTransport(alg: pkijs.AlgorithmIdentifier): ReferenceEnvelope['recipients'][number]['transport'] {
  if (alg.algorithmId === OID.rsaEncryption) return { scheme: 'rsaes-pkcs1-v1_5' }
  if (alg.algorithmId !== OID.rsaesOaep) return undefined
  try {
    const p = alg.algorithmParams ? new pkijs.RSAESOAEPParams({ schema: alg.algorithmParams }) : new pkijs.RSAESOAEPParams()
    const hash = digestByOid[p.hashAlgorithm.algorithmId]
    const mgfHash = p.maskGenAlgorithm.algorithmParams
      ? digestByOid[new pkijs.AlgorithmIdentifier({ schema: p.maskGenAlgorithm.algorithmParams }).algorithmId]
      : 'sha1'
    if (!hash || hash !== mgfHash || hash === 'md5' || hash === 'sha224') return undefined
    return { scheme: 'rsaes-oaep', hash }
  } catch {
    return undefined
  }
}

/** The pkijs-based decodeEnvelope, field for field. */
export function referenceDecodeEnvelope(der: Uint8Array): ReferenceEnvelope {
  try {
    return readEnvelope(der)
  } catch (e) {
    if (e instanceof ScepFailure) throw e
    throw malformed(`malformed (${(e as Error).message})`)
  }
}

function readEnvelope(der: Uint8Array): ReferenceEnvelope {
  if (der.byteLength === 0) throw malformed('the message has no pkcsPKIEnvelope')
  const parsed = parseBer(der)
  if (!parsed) throw malformed('not one BER value')
  let enveloped: pkijs.EnvelopedData
  try {
    const first = (parsed as asn1js.Sequence).valueBlock.value?.[0]
    if (first instanceof asn1js.ObjectIdentifier) {
      const ci = new pkijs.ContentInfo({ schema: parsed })
      if (ci.contentType !== OID.envelopedData) throw new Error(`content type ${ci.contentType} is not envelopedData`)
      enveloped = new pkijs.EnvelopedData({ schema: ci.content })
    } else {
      enveloped = new pkijs.EnvelopedData({ schema: parsed })
    }
  } catch (e) {
    throw malformed(`not a CMS EnvelopedData (${(e as Error).message})`)
  }
  const info = enveloped.encryptedContentInfo
  const cipher = cipherByOid[info.contentEncryptionAlgorithm.algorithmId]
  if (!cipher) throw new ScepFailure('badAlg', `content encryption ${info.contentEncryptionAlgorithm.algorithmId} is not supported`)
  const ivBlock = info.contentEncryptionAlgorithm.algorithmParams as asn1js.BaseBlock | undefined
  const iv = ivBlock instanceof asn1js.OctetString ? octets(ivBlock) : new Uint8Array(0)
  if (iv.byteLength !== cipherIvLength[cipher]) throw malformed(`${cipher} needs a ${cipherIvLength[cipher]}-octet IV`)
  if (!info.encryptedContent) throw malformed('the encrypted content is absent')
  const recipients: ReferenceEnvelope['recipients'] = []
  for (const ri of enveloped.recipientInfos) {
    if (ri.variant !== 1) continue
    const ktri = ri.value as pkijs.KeyTransRecipientInfo
    const rid =
      ktri.rid instanceof pkijs.IssuerAndSerialNumber
        ? { issuer: new Uint8Array(ktri.rid.issuer.toSchema().toBER(false)), serialNumber: new Uint8Array(ktri.rid.serialNumber.toBER(false)) }
        : { ski: new Uint8Array((ktri.rid as asn1js.OctetString).valueBlock.valueHexView) }
    recipients.push({
      rid,
      transport: keyTransport(ktri.keyEncryptionAlgorithm),
      transportOid: ktri.keyEncryptionAlgorithm.algorithmId,
      encryptedKey: new Uint8Array(ktri.encryptedKey.valueBlock.valueHexView),
    })
  }
  if (!recipients.length) throw malformed('no key transport recipient (RSA) is listed')
  return { recipients, cipher, iv, encryptedContent: octets(info.encryptedContent) }
}
