// RFC 5652 §6 EnvelopedData, read by position from the BER walk (src/pki/ber.ts), with the field names of §6.1–§6.2.
// Values stay raw (views into the message); envelope.ts decides what it accepts and opens it. Only the structure is
// checked here, as pkijs's schema check did; recipients other than key transport are skipped.
import { algorithmIdentifier, BerError, children, childrenOf, expectTag, readOctetString, oidString, stringOctets, TAG, type AlgorithmIdentifier, type Tlv } from '../../../src/pki/ber.js'
import { OID } from './cms.js'
import { readIssuerAndSerialNumber, type IssuerAndSerialNumber } from './signed-data.js'

/** RecipientIdentifier ::= CHOICE { issuerAndSerialNumber, subjectKeyIdentifier [0] } (§6.2.1) */
export type RecipientIdentifier = { issuerAndSerialNumber: IssuerAndSerialNumber } | { subjectKeyIdentifier: Uint8Array }

/** KeyTransRecipientInfo ::= SEQUENCE { version, rid, keyEncryptionAlgorithm, encryptedKey } (§6.2.1) */
export interface KeyTransRecipientInfo {
  rid: RecipientIdentifier
  keyEncryptionAlgorithm: AlgorithmIdentifier
  encryptedKey: Uint8Array
}

/** EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm, encryptedContent [0] OPTIONAL } (§6.1) */
export interface EncryptedContentInfo {
  contentType: string
  contentEncryptionAlgorithm: AlgorithmIdentifier
  encryptedContent: Uint8Array | undefined
}

/** EnvelopedData (§6.1) with its key-transport recipients (the only kind SCEP uses: RFC 8894 §3.2.2). */
export interface EnvelopedData {
  recipientInfos: KeyTransRecipientInfo[]
  encryptedContentInfo: EncryptedContentInfo
}

function readKeyTransRecipientInfo(v: Tlv): KeyTransRecipientInfo {
  const [version, rid, keyEncryptionAlgorithm, encryptedKey] = childrenOf(v, TAG.SEQUENCE, 'KeyTransRecipientInfo')
  expectTag(version, TAG.INTEGER, 'KeyTransRecipientInfo version')
  if (!rid) throw new BerError('KeyTransRecipientInfo rid is missing')
  let identifier: RecipientIdentifier
  if (rid.tag === TAG.SEQUENCE) identifier = { issuerAndSerialNumber: readIssuerAndSerialNumber(rid, 'rid') }
  else if (rid.tag === 0x80) identifier = { subjectKeyIdentifier: rid.bytes.subarray(rid.contentStart, rid.contentEnd) }
  else throw new BerError('KeyTransRecipientInfo rid is neither an IssuerAndSerialNumber nor a subjectKeyIdentifier')
  return {
    rid: identifier,
    keyEncryptionAlgorithm: algorithmIdentifier(keyEncryptionAlgorithm, 'keyEncryptionAlgorithm'),
    encryptedKey: readOctetString(encryptedKey, 'encryptedKey'),
  }
}

/** Reads an EnvelopedData, wrapped in a ContentInfo (as RFC 8894 sends it) or bare. Throws BerError otherwise. */
export function decodeEnvelopedData(root: Tlv): EnvelopedData {
  let enveloped = root
  const first = childrenOf(root, TAG.SEQUENCE, 'EnvelopedData')[0]
  if (first?.tag === TAG.OID) {
    const [contentType, explicit] = children(root)
    const type = oidString(contentType, 'ContentInfo contentType')
    if (type !== OID.envelopedData) throw new BerError(`content type ${type} is not envelopedData`)
    const [content] = childrenOf(explicit, 0xa0, 'ContentInfo content')
    expectTag(content, TAG.SEQUENCE, 'EnvelopedData')
    enveloped = content
  }
  const fields = childrenOf(enveloped, TAG.SEQUENCE, 'EnvelopedData')
  let i = 0
  expectTag(fields[i++], TAG.INTEGER, 'EnvelopedData version')
  if (fields[i]?.tag === 0xa0) i++
  const recipientInfos = childrenOf(fields[i++], TAG.SET, 'EnvelopedData recipientInfos')
    // RecipientInfo (§6.2): KeyTransRecipientInfo is the untagged choice; [1]–[4] are other key management kinds.
    .filter((ri) => ri.tag === TAG.SEQUENCE)
    .map(readKeyTransRecipientInfo)
  const [contentType, contentEncryptionAlgorithm, encryptedContent] = childrenOf(fields[i], TAG.SEQUENCE, 'EncryptedContentInfo')
  if (encryptedContent && encryptedContent.tag !== 0x80 && encryptedContent.tag !== 0xa0) {
    throw new BerError('encryptedContent is not [0] IMPLICIT OCTET STRING')
  }
  return {
    recipientInfos,
    encryptedContentInfo: {
      contentType: oidString(contentType, 'EncryptedContentInfo contentType'),
      contentEncryptionAlgorithm: algorithmIdentifier(contentEncryptionAlgorithm, 'contentEncryptionAlgorithm'),
      encryptedContent: encryptedContent ? stringOctets(encryptedContent) : undefined,
    },
  }
}
