// RFC 8894 §3.2.2 pkcsPKIEnvelope: a CMS EnvelopedData (RFC 5652 §6) with RSA key transport. Requests are
// opened with the RA key (PKCS#1 v1.5 with implicit rejection, or OAEP); replies are sealed to the requester's
// certificate with the content-encryption algorithm the requester used (AES-CBC or DES-EDE3-CBC).
import { constants, createCipheriv, createDecipheriv, publicEncrypt, randomBytes } from 'node:crypto'
import { childrenOf, decodeBer, readOctetString, sameBytes, TAG, type AlgorithmIdentifier, type Tlv } from '../../../src/pki/ber.js'
import { NULL, octetString, oid, sequence, tlv } from '../../../src/pki/der.js'
import type { Der } from '../../../src/pki/pem.js'
import type { KeyTransport, RaCredential } from '../../../src/scep/index.js'
import { ScepFailure } from '../fail-info.js'
import {
  certificateInfo,
  certificateParts,
  cipherByOid,
  cipherIvLength,
  cipherKeyLength,
  cipherOid,
  contentInfo,
  issuerAndSerialNumber,
  issuerAndSerialParts,
  maskGenDigest,
  nodeCipher,
  OID,
  sameName,
  sameSerial,
  subjectKeyIdentifier,
  taggedDigest,
  type ContentCipher,
  type DigestName,
} from './cms.js'
import { decodeEnvelopedData, type EnvelopedData, type RecipientIdentifier } from './enveloped-data.js'

export interface KeyTransRecipient {
  /** IssuerAndSerialNumber (raw issuer Name and serial INTEGER encodings) or a subjectKeyIdentifier. */
  rid: RecipientIdentifier
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

/** RSAES-OAEP-params (RFC 4055 §4.1: hashAlgorithm [0] DEFAULT sha1, maskGenAlgorithm [1] DEFAULT mgf1SHA1). */
function keyTransport(alg: AlgorithmIdentifier): KeyTransport | undefined {
  if (alg.algorithm === OID.rsaEncryption) return { scheme: 'rsaes-pkcs1-v1_5' }
  if (alg.algorithm !== OID.rsaesOaep) return undefined
  try {
    let hash: DigestName | undefined = 'sha1'
    let mgfHash: DigestName | undefined = 'sha1'
    if (alg.parameters) {
      for (const field of childrenOf(alg.parameters, TAG.SEQUENCE, 'RSAES-OAEP-params')) {
        if (field.tag === 0xa0) hash = taggedDigest(field)
        else if (field.tag === 0xa1) mgfHash = maskGenDigest(field)
      }
    }
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
  let root: Tlv
  try {
    root = decodeBer(der)
  } catch {
    throw malformed('not one BER value')
  }
  let enveloped: EnvelopedData
  try {
    enveloped = decodeEnvelopedData(root)
  } catch (e) {
    throw malformed(`not a CMS EnvelopedData (${(e as Error).message})`)
  }
  const info = enveloped.encryptedContentInfo
  const cipher = cipherByOid[info.contentEncryptionAlgorithm.algorithm]
  if (!cipher) throw new ScepFailure('badAlg', `content encryption ${info.contentEncryptionAlgorithm.algorithm} is not supported`)
  const ivParameter = info.contentEncryptionAlgorithm.parameters
  let iv: Uint8Array = new Uint8Array(0)
  if (ivParameter?.tag === TAG.OCTET_STRING || ivParameter?.tag === (TAG.OCTET_STRING | 0x20)) iv = readOctetString(ivParameter, 'IV')
  if (iv.byteLength !== cipherIvLength[cipher]) throw malformed(`${cipher} needs a ${cipherIvLength[cipher]}-octet IV`)
  if (!info.encryptedContent) throw malformed('the encrypted content is absent')
  const recipients: KeyTransRecipient[] = enveloped.recipientInfos.map((ri) => ({
    rid: ri.rid,
    transport: keyTransport(ri.keyEncryptionAlgorithm),
    transportOid: ri.keyEncryptionAlgorithm.algorithm,
    encryptedKey: ri.encryptedKey,
  }))
  if (!recipients.length) throw malformed('no key transport recipient (RSA) is listed')
  return { recipients, cipher, iv, encryptedContent: info.encryptedContent }
}

const raKeyIds = new WeakMap<RaCredential, Uint8Array | null>()

/** Whether a recipient names this RA: its subjectKeyIdentifier, or its issuer and serial number (compared as Names). */
function isRecipient(r: KeyTransRecipient, ra: RaCredential): boolean {
  if ('subjectKeyIdentifier' in r.rid) {
    let keyId = raKeyIds.get(ra)
    if (keyId === undefined) raKeyIds.set(ra, (keyId = subjectKeyIdentifier(ra.certificateDer) ?? null))
    return keyId !== null && sameBytes(keyId, r.rid.subjectKeyIdentifier)
  }
  const mine = certificateParts(ra.certificateDer)
  const want = r.rid.issuerAndSerialNumber
  return sameSerial(mine.serialNumber, want.serialNumber) && sameName(mine.issuer, want.issuer)
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
