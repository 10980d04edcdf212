// RFC 8894 §3.2.2 pkcsPKIEnvelope: a CMS EnvelopedData (RFC 5652 §6) with RSA key transport. Requests are
// opened with the RA key (PKCS#1 v1.5 with implicit rejection, or OAEP); replies are sealed to the requester's
// certificate with the content-encryption algorithm the requester used (AES-CBC or DES-EDE3-CBC).
import { constants, createCipheriv, createDecipheriv, publicEncrypt, randomBytes } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { NULL, octetString, oid, sequence, tlv } from '../../../src/pki/der.js'
import type { Der } from '../../../src/pki/pem.js'
import { x509 } from '../../../src/pki/x509.js'
import type { KeyTransport, RaCredential } from '../../../src/scep/index.js'
import { ScepFailure } from '../fail-info.js'
import {
  cipherByOid,
  cipherIvLength,
  cipherKeyLength,
  cipherOid,
  contentInfo,
  digestByOid,
  issuerAndSerialNumber,
  issuerAndSerialParts,
  certificateInfo,
  nodeCipher,
  octets,
  OID,
  parseBer,
  type ContentCipher,
} from './cms.js'

export interface KeyTransRecipient {
  /** IssuerAndSerialNumber (raw issuer Name and serial INTEGER encodings) or a subjectKeyIdentifier. */
  rid: { issuer: Uint8Array; serial: pkijs.IssuerAndSerialNumber } | { ski: Uint8Array }
  transport: KeyTransport | undefined
  transportOid: string
  encryptedKey: Uint8Array
}

export interface Envelope {
  recipients: KeyTransRecipient[]
  cipher: ContentCipher
  iv: Uint8Array
  encryptedContent: Uint8Array
}

const malformed = (detail: string) => new ScepFailure('badMessageCheck', `pkcsPKIEnvelope: ${detail}`)

function keyTransport(alg: pkijs.AlgorithmIdentifier): KeyTransport | undefined {
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

/** Reads an EnvelopedData, wrapped in a ContentInfo (RFC 8894) or bare. */
export function decodeEnvelope(der: Uint8Array): Envelope {
  try {
    return readEnvelope(der)
  } catch (e) {
    if (e instanceof ScepFailure) throw e
    throw malformed(`malformed (${(e as Error).message})`)
  }
}

function readEnvelope(der: Uint8Array): Envelope {
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
  const recipients: KeyTransRecipient[] = []
  for (const ri of enveloped.recipientInfos) {
    if (ri.variant !== 1) continue
    const ktri = ri.value as pkijs.KeyTransRecipientInfo
    const rid =
      ktri.rid instanceof pkijs.IssuerAndSerialNumber
        ? { issuer: new Uint8Array(ktri.rid.issuer.toSchema().toBER(false)), serial: ktri.rid }
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

const parsedRa = new WeakMap<RaCredential, pkijs.Certificate>()

function isRecipient(r: KeyTransRecipient, ra: RaCredential): boolean {
  if ('ski' in r.rid) {
    const keyId = ra.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId
    return keyId !== undefined && keyId.toLowerCase() === Buffer.from(r.rid.ski).toString('hex')
  }
  let mine = parsedRa.get(ra)
  if (!mine) parsedRa.set(ra, (mine = pkijs.Certificate.fromBER(ra.certificateDer)))
  return mine.serialNumber.isEqual(r.rid.serial.serialNumber) && mine.issuer.isEqual(r.rid.serial.issuer)
}

/**
 * Decrypts the envelope with whichever RA it names. The content key is unwrapped with implicit rejection: a bad
 * PKCS#1 block yields a synthetic key, and a key of the wrong length is replaced by a random one, so every
 * tampered envelope ends the same way — in the content decryption — with badMessageCheck.
 */
export function openEnvelope(env: Envelope, ras: RaCredential[], allowed: ReadonlySet<ContentCipher>): Uint8Array {
  if (!allowed.has(env.cipher)) throw new ScepFailure('badAlg', `content encryption ${env.cipher} is not offered by this server`)
  let match: { r: KeyTransRecipient; ra: RaCredential } | undefined
  for (const r of env.recipients) {
    const ra = ras.find((c) => isRecipient(r, c))
    if (ra) {
      match = { r, ra }
      break
    }
  }
  if (!match) throw new ScepFailure('badMessageCheck', "pkcsPKIEnvelope: not encrypted to this server's RA certificate")
  const { r, ra } = match
  if (!r.transport) throw new ScepFailure('badAlg', `key transport ${r.transportOid} is not supported`)
  const wanted = cipherKeyLength[env.cipher]
  let key: Buffer
  try {
    key = ra.unwrapKey(r.encryptedKey, r.transport)
  } catch {
    // Publicly invalid (wrong length, ≥ modulus) or an OAEP failure: continue with a random key, same ending.
    key = randomBytes(wanted)
  }
  if (key.length !== wanted) key = randomBytes(wanted)
  try {
    const n = nodeCipher(env.cipher, key)
    const decipher = createDecipheriv(n.name, n.key, env.iv)
    n.key.fill(0)
    return new Uint8Array(Buffer.concat([decipher.update(env.encryptedContent), decipher.final()]))
  } catch {
    throw new ScepFailure('badMessageCheck', 'pkcsPKIEnvelope: the content does not decrypt')
  } finally {
    key.fill(0)
  }
}

/** RSAES-PKCS1-v1_5 key transport to a certificate's RSA key (encryption is allowed in Node; decryption is not). */
function wrapKeyFor(certificateDer: Uint8Array, contentKey: Uint8Array): Buffer {
  const info = certificateInfo(certificateDer)
  if (!info.isRsa) throw new ScepFailure('badAlg', 'the requester certificate has no RSA key to encrypt the reply to')
  return publicEncrypt({ key: info.publicKey, padding: constants.RSA_PKCS1_PADDING }, contentKey)
}

/** Seals `content` to the requester's certificate: ContentInfo(EnvelopedData) with one KeyTransRecipientInfo. */
export function sealEnvelope(content: Uint8Array, recipientCertificateDer: Uint8Array, cipher: ContentCipher): Der {
  issuerAndSerialParts(recipientCertificateDer)
  const key = randomBytes(cipherKeyLength[cipher])
  const iv = randomBytes(cipherIvLength[cipher])
  const n = nodeCipher(cipher, key)
  const c = createCipheriv(n.name, n.key, iv)
  n.key.fill(0)
  const encrypted = Buffer.concat([c.update(content), c.final()])
  const recipient = sequence(
    Uint8Array.of(0x02, 0x01, 0x00),
    issuerAndSerialNumber(recipientCertificateDer),
    sequence(oid(OID.rsaEncryption), NULL),
    octetString(wrapKeyFor(recipientCertificateDer, key)),
  )
  key.fill(0)
  const enveloped = sequence(
    Uint8Array.of(0x02, 0x01, 0x00),
    tlv(0x31, recipient),
    sequence(oid(OID.data), sequence(oid(cipherOid[cipher]), octetString(iv)), tlv(0x80, encrypted)),
  )
  return contentInfo(OID.envelopedData, enveloped)
}

/** The requester's certificate must hold an RSA key for a SUCCESS reply to be encrypted to it (RFC 8894 §3.3.2). */
export function requireRsaRequester(certificateDer: Uint8Array | undefined): void {
  if (!certificateDer) throw new ScepFailure('badMessageCheck', 'the message carries no certificate of its signer')
  let rsa: boolean
  try {
    rsa = certificateInfo(certificateDer).isRsa
  } catch (e) {
    throw new ScepFailure('badMessageCheck', `the signer certificate cannot be read: ${(e as Error).message}`)
  }
  if (!rsa) throw new ScepFailure('badAlg', 'the signer certificate must hold an RSA key: the reply is encrypted to it')
}
