// A minimal SCEP requester for integration and bad-input tests (never for conformance): builds RFC 8894
// pkiMessages with a self-signed RSA signer (TEST ONLY keys, generated per run), and reads CertReps.
import { createHash, createPrivateKey, randomBytes, sign as cryptoSign, webcrypto } from 'node:crypto'
import { NULL, octetString, oid, sequence, tlv } from '../../src/pki/der.js'
import { toPem, type Der } from '../../src/pki/pem.js'
import { x509 } from '../../src/pki/x509.js'
import { raCredential, type RaCredential } from '../../src/scep/index.js'
import { contentInfo, digestOid, issuerAndSerialNumber, OID, type ContentCipher, type DigestName } from '../../protocols/scep/codec/cms.js'
import { decodeEnvelope, openEnvelope, sealEnvelope } from '../../protocols/scep/codec/envelope.js'
import { decodePkiMessage, type PkiMessage } from '../../protocols/scep/codec/pki-message.js'
import { decodeSignedData } from '../../protocols/scep/codec/signed-data.js'
import { decodeBer } from '../../src/pki/ber.js'

export interface Requester {
  keys: CryptoKeyPair
  keyPem: string
  certificateDer: Der
  /** The requester as a decryptor of replies (same shape as an RA credential). */
  credential: RaCredential
}

const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }

/** An RSA key with a self-signed certificate (what a client signs its first PKCSReq with). */
export async function makeRequester(subject = 'CN=SCEP test requester', keys?: CryptoKeyPair): Promise<Requester> {
  const pair = keys ?? ((await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify'])) as unknown as CryptoKeyPair)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: subject,
    keys: pair,
    signingAlgorithm: rsa,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
  })
  return withCertificate(pair, new Uint8Array(cert.rawData))
}

/** The same key with another certificate (the one issued to it: RenewalReq signer). */
export async function withCertificate(keys: CryptoKeyPair, certificateDer: Uint8Array): Promise<Requester> {
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey))
  const keyPem = toPem(pkcs8, 'PRIVATE KEY')
  const der = new Uint8Array(certificateDer)
  return { keys, keyPem, certificateDer: der, credential: raCredential('requester', toPem(der, 'CERTIFICATE'), keyPem) }
}

export interface BuildOptions {
  messageType: number | string
  /** undefined: a random one; null: leave the attribute out. */
  transactionId?: string | null
  senderNonce?: Uint8Array | null
  /** Plain messageData (a CSR, IssuerAndSerialNumber, …), sealed to `recipientDer`. */
  data: Uint8Array
  recipientDer: Uint8Array
  /** Use these bytes as the pkcsPKIEnvelope instead of sealing `data` (malformed-envelope tests). */
  envelope?: Uint8Array
  cipher?: ContentCipher
  digest?: DigestName
  signer: Requester
  /** Flip one bit of the signature. */
  badSignature?: boolean
}

const printable = (s: string) => tlv(0x13, Buffer.from(s, 'latin1'))
const attribute = (type: string, value: Uint8Array) => sequence(oid(type), tlv(0x31, value))

/** RFC 8894 §3.2 pkiMessage: SignedData over the sealed envelope, signed by the requester. */
export function buildPkiMessage(o: BuildOptions): Der {
  const digest = o.digest ?? 'sha256'
  const envelope = o.envelope ?? sealEnvelope(o.data, o.recipientDer, o.cipher ?? 'aes-128-cbc')
  const tid = o.transactionId === undefined ? randomBytes(20).toString('hex') : o.transactionId
  const nonce = o.senderNonce === undefined ? randomBytes(16) : o.senderNonce
  const attrs = [
    attribute(OID.contentType, oid(OID.data)),
    attribute(OID.messageDigest, octetString(createHash(digest).update(envelope).digest())),
    attribute(OID.messageType, printable(String(o.messageType))),
    ...(tid === null ? [] : [attribute(OID.transactionID, printable(tid))]),
    ...(nonce === null ? [] : [attribute(OID.senderNonce, octetString(nonce))]),
  ].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  const signedAttrs = tlv(0x31, ...attrs)
  const signature = cryptoSign(digest, signedAttrs, createPrivateKey(o.signer.keyPem))
  if (o.badSignature) signature[signature.length - 1]! ^= 1
  const digestAlgorithm = sequence(oid(digestOid[digest]), NULL)
  const signerInfo = sequence(
    Uint8Array.of(0x02, 0x01, 0x01),
    issuerAndSerialNumber(o.signer.certificateDer),
    digestAlgorithm,
    tlv(0xa0, ...attrs),
    sequence(oid(OID.rsaEncryption), NULL),
    octetString(signature),
  )
  const signedData = sequence(
    Uint8Array.of(0x02, 0x01, 0x01),
    tlv(0x31, digestAlgorithm),
    sequence(oid(OID.data), tlv(0xa0, octetString(envelope))),
    tlv(0xa0, o.signer.certificateDer),
    tlv(0x31, signerInfo),
  )
  return contentInfo(OID.signedData, signedData)
}

export interface ReadCertRep {
  message: PkiMessage
  /** '0' SUCCESS, '2' FAILURE, '3' PENDING. */
  pkiStatus: string | undefined
  failInfo: string | undefined
  certificates: Der[]
  crls: Der[]
}

/** Reads a CertRep and, on SUCCESS, opens its envelope with the requester's key. */
export function readCertRep(der: Uint8Array, requester?: Requester): ReadCertRep {
  const message = decodePkiMessage(der)
  const out: ReadCertRep = { message, pkiStatus: message.pkiStatus, failInfo: message.failInfo, certificates: [], crls: [] }
  if (message.pkiStatus === '0' && requester) {
    const env = decodeEnvelope(message.content)
    const plain = openEnvelope(env, [requester.credential], new Set([env.cipher]))
    const signed = decodeSignedData(decodeBer(plain))
    out.certificates.push(...signed.certificates.map((c) => c.slice()))
    out.crls.push(...signed.crls.map((c) => c.slice()))
  }
  return out
}

/** IssuerAndSerialNumber of a certificate (GetCert / GetCRL message data). */
export const issuerAndSerialOf = (certificateDer: Uint8Array) => issuerAndSerialNumber(certificateDer)

/** IssuerAndSubject (CertPoll message data). */
export function issuerAndSubject(issuerCertificateDer: Uint8Array, subject: string): Der {
  const issuer = new x509.X509Certificate(new Uint8Array(issuerCertificateDer)).subjectName.toArrayBuffer()
  return sequence(new Uint8Array(issuer), new Uint8Array(new x509.Name(subject).toArrayBuffer()))
}

/** The certificates of a degenerate certs-only SignedData (GetCACert), in order. */
export function degenerateCerts(der: Uint8Array): Der[] {
  return decodeSignedData(decodeBer(der)).certificates.map((c) => c.slice())
}
