// The SCEP codec (RFC 8894 §3) against pkiMessages captured from real clients (fixtures/scep/, see
// fixtures/README.md): decode, verify, open with the RA key (TEST ONLY), and our own CertReps back to the client.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseCsr } from '../../../../../src/pki/csr.js'
import { toPem } from '../../../../../src/pki/pem.js'
import { x509 } from '../../../../../src/pki/x509.js'
import { raCredential } from '../../../../../src/scep/index.js'
import type { ContentCipher } from '../../../../../protocols/scep/codec/cms.js'
import { degenerate } from '../../../../../protocols/scep/codec/cms.js'
import { encodeCertRep } from '../../../../../protocols/scep/codec/cert-rep.js'
import { decodeEnvelope, openEnvelope, sealEnvelope } from '../../../../../protocols/scep/codec/envelope.js'
import { decodePkiMessage, verifyPkiMessage } from '../../../../../protocols/scep/codec/pki-message.js'
import { ScepFailure, ScepHttpError } from '../../../../../protocols/scep/fail-info.js'
import { readCertRep } from '../../../../helpers/scep.js'

const fixture = (name: string) => new Uint8Array(readFileSync(`fixtures/scep/${name}`))
const text = (name: string) => readFileSync(`fixtures/scep/${name}`, 'utf8')
const ra = raCredential('local', text('ra.crt.pem'), text('ra-test-only.key.pem'))
const all = new Set<ContentCipher>(['aes-128-cbc', 'aes-192-cbc', 'aes-256-cbc', 'des-ede3-cbc', 'des-cbc'])

function open(name: string) {
  const msg = decodePkiMessage(fixture(name))
  verifyPkiMessage(msg)
  const env = decodeEnvelope(msg.content)
  return { msg, env, data: openEnvelope(env, [ra], all) }
}

describe('decodePkiMessage + openEnvelope (RFC 8894 §3.2) on captured requests', () => {
  it.each([
    ['ok/scepclient-pkcsreq-des', 'scepclient-pkcsreq-des.der', 19, 'des-cbc', 'sha1', 'scepclient.example.test'],
    ['ok/scepclient-renewalreq-des', 'scepclient-renewalreq-des.der', 17, 'des-cbc', 'sha1', 'scepclient.example.test'],
    ['ok/strongswan-pkcsreq-aes128', 'strongswan-pkcsreq-aes128.der', 19, 'aes-128-cbc', 'sha256', 'sw-aes.example.test'],
    ['ok/strongswan-pkcsreq-des3', 'strongswan-pkcsreq-des3.der', 19, 'des-ede3-cbc', 'sha256', 'sw-des3.example.test'],
    ['ok/strongswan-renewalreq-aes128', 'strongswan-renewalreq-aes128.der', 17, 'aes-128-cbc', 'sha256', 'sw-aes.example.test'],
    ['ok/strongswan-pkcsreq-held', 'strongswan-pkcsreq-held.der', 19, 'aes-128-cbc', 'sha256', 'sw-held.example.test'],
    ['ok/certmonger-pkcsreq-aes256', 'certmonger-pkcsreq-aes256.der', 19, 'aes-256-cbc', 'sha256', 'certmonger.example.test'],
  ])('%s', async (_name, file, messageType, cipher, digest, cn) => {
    const { msg, env, data } = open(file)
    expect(msg).toMatchObject({ messageType, digest })
    expect(msg.transactionId.length).toBeGreaterThan(0)
    expect(msg.senderNonce.byteLength).toBeGreaterThan(0)
    expect(env.cipher).toBe(cipher)
    const csr = await parseCsr(data)
    expect(csr.commonName).toBe(cn)
    if (messageType === 19) expect(csr.challengePassword).toBe('s3cret')
  })

  it('ok/strongswan-certpoll carries IssuerAndSubject under the transaction of its PKCSReq', () => {
    const poll = open('strongswan-certpoll.der')
    const req = decodePkiMessage(fixture('strongswan-pkcsreq-held.der'))
    expect(poll.msg.messageType).toBe(20)
    expect(poll.msg.transactionId).toBe(req.transactionId)
    expect(poll.data[0]).toBe(0x30)
  })
})

describe('our CertReps as captured by the clients (RFC 8894 §3.3.2)', () => {
  it.each([
    ['ok/scepclient-pkcsreq-des', 'scepclient-pkcsreq-des.der', 'scepclient-requester-test-only.key.pem', '0'],
    ['ok/strongswan-pkcsreq-aes128', 'strongswan-pkcsreq-aes128.der', 'strongswan-requester-test-only.key.pem', '0'],
    ['ok/strongswan-certpoll-success', 'strongswan-certpoll-approved.der', 'strongswan-held-requester-test-only.key.pem', '0'],
    ['ok/certmonger-pkcsreq-aes256', 'certmonger-pkcsreq-aes256.der', 'certmonger-requester-test-only.key.pem', '0'],
  ])('%s', (name, requestFile, keyFile, status) => {
    const request = decodePkiMessage(fixture(requestFile))
    const replyFile = name === 'ok/strongswan-certpoll-success' ? 'strongswan-certpoll-certrep-success.der' : requestFile.replace('.der', '-certrep.der')
    const requester = raCredential('requester', toPem(request.signerCertificate!, 'CERTIFICATE'), text(keyFile))
    const reply = readCertRep(fixture(replyFile), { keys: undefined as never, keyPem: '', certificateDer: request.signerCertificate!, credential: requester })
    verifyPkiMessage(reply.message)
    expect(reply.pkiStatus).toBe(status)
    expect(reply.message.transactionId).toBe(request.transactionId)
    expect(Buffer.from(reply.message.recipientNonce!)).toEqual(Buffer.from(request.senderNonce))
    expect(reply.certificates).toHaveLength(1)
    const cert = new x509.X509Certificate(reply.certificates[0]!)
    expect(cert.issuer).toBe('CN=Enroll Development CA Issuing CA')
  })

  it('ok/pending-certrep-has-no-envelope', () => {
    const reply = decodePkiMessage(fixture('strongswan-pkcsreq-held-certrep-pending.der'))
    verifyPkiMessage(reply)
    expect(reply.pkiStatus).toBe('3')
    expect(reply.content.byteLength).toBe(0)
  })
})

describe('refusals', () => {
  it.each([
    ['fail/empty', new Uint8Array(0)],
    ['fail/junk', new Uint8Array(Buffer.from('GET / HTTP/1.1'))],
    ['fail/truncated', fixture('strongswan-pkcsreq-aes128.der').subarray(0, 700)],
    ['fail/certs-only-not-signed', degenerate([fixture('strongswan-pkcsreq-aes128.der').subarray(0, 10)])],
  ])('%s is an HTTP 400', (_name, der) => {
    expect(() => decodePkiMessage(der)).toThrow(ScepHttpError)
  })

  it('fail/flipped-signed-attribute-is-badMessageCheck', () => {
    const der = fixture('strongswan-pkcsreq-aes128.der').slice()
    const msg = decodePkiMessage(der)
    msg.signature.value[10]! ^= 0x40
    expect(() => verifyPkiMessage(msg)).toThrow(expect.objectContaining({ failInfo: 'badMessageCheck' }))
  })

  it('fail/not-encrypted-to-our-ra-is-badMessageCheck', () => {
    const other = decodePkiMessage(fixture('scepclient-pkcsreq-des.der')).signerCertificate!
    const sealed = sealEnvelope(new Uint8Array([0x30, 0x00]), other, 'aes-128-cbc')
    expect(() => openEnvelope(decodeEnvelope(sealed), [ra], all)).toThrow(expect.objectContaining({ failInfo: 'badMessageCheck' }))
  })

  it('fail/cipher-not-offered-is-badAlg', () => {
    const { env } = open('scepclient-pkcsreq-des.der')
    expect(() => openEnvelope(env, [ra], new Set(['aes-128-cbc']))).toThrow(expect.objectContaining({ failInfo: 'badAlg' }))
  })

  it('fail/corrupted-wrapped-key-ends-in-badMessageCheck (implicit rejection, no padding oracle)', () => {
    // A wrong content key is random (a synthetic key of another length is replaced by random octets), so about 1 in
    // 256 leaves valid CBC padding and "decrypts" to garbage, which the CSR parser then refuses (badRequest). The
    // outcome depends on that key only, never on whether the RSA padding was valid.
    let garbage = 0
    for (let i = 0; i < 20; i++) {
      const { env } = open('strongswan-pkcsreq-aes128.der')
      env.recipients[0]!.encryptedKey[i * 7]! ^= 0x01
      let failure: unknown
      try {
        openEnvelope(env, [ra], all)
        garbage++
        continue
      } catch (e) {
        failure = e
      }
      expect(failure).toBeInstanceOf(ScepFailure)
      expect((failure as ScepFailure).failInfo).toBe('badMessageCheck')
    }
    expect(garbage).toBeLessThanOrEqual(2)
  })
})

describe('encodeCertRep', () => {
  it('ok/failure-echoes-transaction-and-nonce', async () => {
    const der = await encodeCertRep({
      transactionId: 'tid+/=',
      transactionIdTag: 0x13,
      recipientNonce: new Uint8Array(16).fill(7),
      status: 'FAILURE',
      failInfo: 'badCertId',
      digest: 'sha256',
      signer: ra,
    })
    const msg = decodePkiMessage(der)
    verifyPkiMessage(msg)
    expect(msg).toMatchObject({ messageType: 3, transactionId: 'tid+/=', pkiStatus: '2', failInfo: '4' })
    expect(Buffer.from(msg.recipientNonce!)).toEqual(Buffer.alloc(16, 7))
  })
})
