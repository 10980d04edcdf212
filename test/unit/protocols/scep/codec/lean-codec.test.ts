// The lean SCEP codec (BER walk by position, RFC 5652 §5 SignedData and §6 EnvelopedData) against the pkijs object
// model it replaced (test/helpers/scep-pkijs-reference.ts): the captured client messages of fixtures/scep/ decode to
// the same fields, and mutated messages are refused the same way. CertReps from the lean encoder are read by pkijs.
import { execFileSync } from 'node:child_process'
import { createHash, verify, webcrypto, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { afterAll, describe, expect, it } from 'vitest'
import { children, decodeBer, encoding } from '../../../../../src/pki/ber.js'
import { NULL, oid, sequence, tlv } from '../../../../../src/pki/der.js'
import { fromPemAll, toPem } from '../../../../../src/pki/pem.js'
import { x509 } from '../../../../../src/pki/x509.js'
import { raCredential } from '../../../../../src/scep/index.js'
import { certificateInfo, degenerate, OID } from '../../../../../protocols/scep/codec/cms.js'
import { encodeCertRep, type PkiStatus } from '../../../../../protocols/scep/codec/cert-rep.js'
import { decodeEnvelope, sealEnvelope } from '../../../../../protocols/scep/codec/envelope.js'
import { decodePkiMessage } from '../../../../../protocols/scep/codec/pki-message.js'
import { ScepFailure, ScepHttpError } from '../../../../../protocols/scep/fail-info.js'
import { referenceDecodeEnvelope, referenceDecodePkiMessage } from '../../../../helpers/scep-pkijs-reference.js'

const fixture = (name: string) => new Uint8Array(readFileSync(`fixtures/scep/${name}`))
const text = (name: string) => readFileSync(`fixtures/scep/${name}`, 'utf8')
const messages = readdirSync('fixtures/scep').filter((f) => f.endsWith('.der'))
const requests = messages.filter((f) => !f.includes('certrep'))

const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'))

/** What decodePkiMessage yields, in a comparable form (either implementation). */
function leanFields(der: Uint8Array) {
  const m = decodePkiMessage(der)
  return {
    messageType: m.messageType,
    transactionId: m.transactionId,
    transactionIdTag: m.transactionIdTag,
    senderNonce: hex(m.senderNonce),
    pkiStatus: m.pkiStatus,
    failInfo: m.failInfo,
    recipientNonce: hex(m.recipientNonce),
    signerCertificate: hex(m.signerCertificate),
    digest: m.digest,
    content: hex(m.content),
    signature: {
      algorithm: m.signature.algorithm,
      parameters: hex(m.signature.parameters && encoding(m.signature.parameters)),
      value: hex(m.signature.value),
      signedAttributes: hex(m.signature.signedAttributes),
      messageDigest: hex(m.signature.messageDigest),
      digestAlgorithm: m.signature.digestAlgorithm,
    },
  }
}

function referenceFields(der: Uint8Array) {
  const m = referenceDecodePkiMessage(der)
  return {
    ...m,
    senderNonce: hex(m.senderNonce),
    recipientNonce: hex(m.recipientNonce),
    signerCertificate: hex(m.signerCertificate),
    content: hex(m.content),
    signature: {
      ...m.signature,
      parameters: hex(m.signature.parameters),
      value: hex(m.signature.value),
      signedAttributes: hex(m.signature.signedAttributes),
      messageDigest: hex(m.signature.messageDigest),
    },
  }
}

function leanEnvelope(der: Uint8Array) {
  const e = decodeEnvelope(der)
  return {
    cipher: e.cipher,
    iv: hex(e.iv),
    encryptedContent: hex(e.encryptedContent),
    recipients: e.recipients.map((r) => ({
      rid:
        'subjectKeyIdentifier' in r.rid
          ? { ski: hex(r.rid.subjectKeyIdentifier) }
          : { issuer: hex(r.rid.issuerAndSerialNumber.issuer), serialNumber: hex(r.rid.issuerAndSerialNumber.serialNumber) },
      transport: r.transport,
      transportOid: r.transportOid,
      encryptedKey: hex(r.encryptedKey),
    })),
  }
}

function referenceEnvelope(der: Uint8Array) {
  const e = referenceDecodeEnvelope(der)
  return {
    cipher: e.cipher,
    iv: hex(e.iv),
    encryptedContent: hex(e.encryptedContent),
    recipients: e.recipients.map((r) => ({
      rid: 'ski' in r.rid ? { ski: hex(r.rid.ski) } : { issuer: hex(r.rid.issuer), serialNumber: hex(r.rid.serialNumber) },
      transport: r.transport,
      transportOid: r.transportOid,
      encryptedKey: hex(r.encryptedKey),
    })),
  }
}

/** The outcome of a decode: its fields, or how it refused (HTTP status or failInfo). */
function outcome<T>(decode: () => T): { fields: T } | { refused: string } {
  try {
    return { fields: decode() }
  } catch (e) {
    if (e instanceof ScepHttpError) return { refused: `http ${e.status}` }
    if (e instanceof ScepFailure) return { refused: e.failInfo }
    throw e
  }
}

/** xorshift32: reproducible mutations (a failing case names its seed). */
function rng(seed: number) {
  let s = seed >>> 0 || 1
  return (n: number) => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s % n
  }
}

function mutate(der: Uint8Array, seed: number): Uint8Array {
  const next = rng(seed)
  const m = der.slice()
  switch (next(4)) {
    case 0:
      return m.subarray(0, next(m.length))
    case 1: {
      for (let i = next(3) + 1; i > 0; i--) m[next(m.length)]! ^= next(255) + 1
      return m
    }
    case 2: {
      // Aim at the structure: flip a byte that is a tag or a length octet of some value.
      const headers: number[] = []
      const walk = (at: number, end: number, depth: number) => {
        while (at < end && depth < 12) {
          try {
            const v = decodeBer(m.subarray(at, end))
            headers.push(at, at + 1)
            if (v.tag & 0x20) walk(at + v.contentStart, at + v.contentEnd, depth + 1)
            at += v.end
          } catch {
            return
          }
        }
      }
      try {
        const root = decodeBer(m)
        headers.push(0, 1)
        walk(root.contentStart, root.contentEnd, 0)
      } catch {
        // not BER: flip anything
      }
      const at = headers.length ? headers[next(headers.length)]! : next(m.length)
      m[at]! ^= 1 << next(8)
      return m
    }
    default: {
      const at = next(m.length)
      return Uint8Array.from([...m.subarray(0, at), ...m.subarray(at + 1 + next(4))])
    }
  }
}

describe('lean decodePkiMessage = the pkijs decoder (RFC 8894 §3.2, RFC 5652 §5)', () => {
  it.each(messages)('ok/%s', (name) => {
    expect(leanFields(fixture(name))).toEqual(referenceFields(fixture(name)))
  })
})

describe('lean decodeEnvelope = the pkijs decoder (RFC 8894 §3.2.2, RFC 5652 §6)', () => {
  it.each(requests)('ok/%s', (name) => {
    const content = decodePkiMessage(fixture(name)).content
    expect(leanEnvelope(content)).toEqual(referenceEnvelope(content))
  })
})

/**
 * Where the lean decoder and asn1js/pkijs may part on malformed input, both refusing it in the end:
 * - overrun: a value's length runs past the end of the value containing it. That is not BER (X.690 §8.1.1.3:
 *   the contents are exactly the encodings of the components); asn1js parses on regardless, the walk refuses.
 * - opaque: the change sits inside the octets of an OCTET STRING or BIT STRING (the pkcsPKIEnvelope, a
 *   signature, a key). asn1js parses such octets as BER when they look like it and fails the whole message when
 *   that parse errs; the walk leaves them opaque, and the signature or messageDigest check refuses them later.
 * Anything else is a difference in what the decoders accept, and fails the test.
 */
function divergence(original: Uint8Array, mutated: Uint8Array, lean: { refused: string } | { fields: unknown }): 'overrun' | 'opaque' | undefined {
  if ('refused' in lean) {
    const asn1 = asn1js.fromBER(mutated)
    let overrun = false
    try {
      decodeBer(mutated)
    } catch (e) {
      overrun = /truncated \(contents\)/.test((e as Error).message)
    }
    return asn1.offset === mutated.length && overrun ? 'overrun' : undefined
  }
  let at = 0
  while (at < original.length && at < mutated.length && original[at] === mutated[at]) at++
  // The innermost values around the first changed octet: is one of them an opaque string?
  const inOpaque = (v: ReturnType<typeof decodeBer>): boolean => {
    if (v.tag === 0x04 || v.tag === 0x03 || v.tag === 0x80) return true
    if (!(v.tag & 0x20)) return false
    const child = children(v).find((c) => c.start <= at && at < c.end)
    return child ? inOpaque(child) : false
  }
  return inOpaque(decodeBer(mutated)) ? 'opaque' : undefined
}

describe('mutated messages: the same fields or the same refusal, save the documented divergences', () => {
  const CASES = 4000
  const run = (base: (seed: number) => { name: string; der: Uint8Array }, decodeLean: (d: Uint8Array) => unknown, decodeReference: (d: Uint8Array) => unknown) => {
    const tally = { same: 0, overrun: 0, opaque: 0 }
    const unexplained: string[] = []
    for (let seed = 1; seed <= CASES; seed++) {
      const { name, der: original } = base(seed)
      const der = mutate(original, seed)
      const lean = outcome(() => decodeLean(der))
      const reference = outcome(() => decodeReference(der))
      if (JSON.stringify(lean) === JSON.stringify(reference)) {
        tally.same++
        continue
      }
      const kind = divergence(original, der, lean)
      if (kind) tally[kind]++
      else unexplained.push(`seed ${seed} (${name}): lean ${JSON.stringify(lean).slice(0, 100)} · reference ${JSON.stringify(reference).slice(0, 100)}`)
    }
    return { tally, unexplained }
  }

  it(`fail/${CASES}-mutations-of-the-captured-pkiMessages`, () => {
    const { tally, unexplained } = run((seed) => {
      const name = messages[seed % messages.length]!
      return { name, der: fixture(name) }
    }, leanFields, referenceFields)
    expect(unexplained).toEqual([])
    expect(tally.same).toBeGreaterThan(CASES * 0.99)
    process.stdout.write(`pkiMessage mutations: ${JSON.stringify(tally)}\n`)
  })

  it(`fail/${CASES}-mutations-of-the-captured-pkcsPKIEnvelopes`, () => {
    const { tally, unexplained } = run((seed) => {
      const name = requests[seed % requests.length]!
      return { name, der: decodePkiMessage(fixture(name)).content }
    }, leanEnvelope, referenceEnvelope)
    expect(unexplained).toEqual([])
    expect(tally.same).toBeGreaterThan(CASES * 0.99)
    process.stdout.write(`pkcsPKIEnvelope mutations: ${JSON.stringify(tally)}\n`)
  })
})

describe('CertReps of the lean encoder read by pkijs and by openssl cms (RFC 8894 §3.3.2)', () => {
  const ra = raCredential('local', text('ra.crt.pem'), text('ra-test-only.key.pem'))
  const request = decodePkiMessage(fixture('strongswan-pkcsreq-aes128.der'))
  const requesterCert = request.signerCertificate!
  const issued = fromPemAll(text('ca-chain.pem'), 'CERTIFICATE')[0]!
  const dir = mkdtempSync(join(tmpdir(), 'enroll-certrep-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })

  const reply = (status: PkiStatus) =>
    encodeCertRep({
      transactionId: request.transactionId,
      transactionIdTag: request.transactionIdTag,
      recipientNonce: request.senderNonce,
      status,
      failInfo: status === 'FAILURE' ? 'badRequest' : undefined,
      envelope: status === 'SUCCESS' ? sealEnvelope(degenerate([issued]), requesterCert, 'aes-128-cbc') : undefined,
      digest: 'sha256',
      signer: ra,
    })

  it.each(['SUCCESS', 'FAILURE', 'PENDING'] as const)('ok/%s-parses-and-verifies-in-pkijs', async (status) => {
    const der = await reply(status)
    const ci = new pkijs.ContentInfo({ schema: asn1js.fromBER(der).result })
    expect(ci.contentType).toBe(OID.signedData)
    const signed = new pkijs.SignedData({ schema: ci.content })
    const signer = signed.signerInfos[0]!
    const attrs = new Map(signer.signedAttrs!.attributes.map((a) => [a.type, a.values[0] as asn1js.AsnType]))
    const str = (o: string) => (attrs.get(o) as asn1js.PrintableString | undefined)?.valueBlock.value
    expect(str(OID.messageType)).toBe('3')
    expect(str(OID.pkiStatus)).toBe({ SUCCESS: '0', FAILURE: '2', PENDING: '3' }[status])
    expect(str(OID.failInfo)).toBe(status === 'FAILURE' ? '2' : undefined)
    expect(str(OID.transactionID)).toBe(request.transactionId)
    expect(hex((attrs.get(OID.recipientNonce) as asn1js.OctetString).valueBlock.valueHexView)).toBe(hex(request.senderNonce))
    const raCert = signed.certificates![0] as pkijs.Certificate
    expect(hex(new Uint8Array(raCert.toSchema().toBER(false)))).toBe(hex(ra.certificateDer))
    const raKey = new X509Certificate(ra.certificateDer).publicKey
    expect(verify('sha256', new Uint8Array(signer.signedAttrs!.encodedValue), raKey, new Uint8Array(signer.signature.valueBlock.valueHexView))).toBe(true)
    if (status === 'SUCCESS') {
      const eContent = signed.encapContentInfo.eContent!
      const enveloped = new pkijs.EnvelopedData({ schema: new pkijs.ContentInfo({ schema: asn1js.fromBER(eContent.getValue()).result }).content })
      expect(enveloped.encryptedContentInfo.contentEncryptionAlgorithm.algorithmId).toBe('2.16.840.1.101.3.4.1.2')
      expect((enveloped.recipientInfos[0]!.value as pkijs.KeyTransRecipientInfo).keyEncryptionAlgorithm.algorithmId).toBe(OID.rsaEncryption)
    }
  })

  it.each(['SUCCESS', 'FAILURE', 'PENDING'] as const)('ok/%s-verifies-with-openssl-cms', async (status) => {
    writeFileSync(join(dir, `${status}.der`), await reply(status))
    openssl('cms', '-verify', '-noverify', '-binary', '-inform', 'DER', '-in', `${status}.der`, '-out', `${status}.content`)
    const content = readFileSync(join(dir, `${status}.content`))
    expect(content.length > 0).toBe(status === 'SUCCESS')
    if (status !== 'SUCCESS') return
    // The pkcsPKIEnvelope opens with the requester's key (TEST ONLY) and holds the issued certificate.
    writeFileSync(join(dir, 'requester.crt'), toPem(requesterCert, 'CERTIFICATE'))
    writeFileSync(join(dir, 'requester.key'), text('strongswan-requester-test-only.key.pem'))
    openssl('cms', '-decrypt', '-binary', '-inform', 'DER', '-in', `${status}.content`, '-recip', 'requester.crt', '-inkey', 'requester.key', '-out', 'degenerate.der')
    const certs = openssl('pkcs7', '-inform', 'DER', '-in', 'degenerate.der', '-print_certs').toString()
    expect(certs).toContain(toPem(issued, 'CERTIFICATE').trim().split('\n')[1])
  })
})

describe('certificateInfo: the signer key digest transactions are stored under', () => {
  const exported = (der: Uint8Array) =>
    createHash('sha256').update(new X509Certificate(der).publicKey.export({ format: 'der', type: 'spki' })).digest('hex')

  it.each(requests)('ok/%s-signer-digest-is-the-exported-spki-digest', (name) => {
    const cert = decodePkiMessage(fixture(name)).signerCertificate!
    expect(certificateInfo(cert.slice()).spkiSha256).toBe(exported(cert))
  })

  it('ok/ecdsa-signer-digest-is-the-exported-spki-digest', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
    const cert = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=ec signer', keys, signingAlgorithm: alg })
    const der = new Uint8Array(cert.rawData)
    expect(certificateInfo(der)).toMatchObject({ isRsa: false, spkiSha256: exported(der) })
  })

  it('ok/rsa-spki-without-null-parameters-digests-as-openssl-writes-it', () => {
    // The same certificate with the RSA AlgorithmIdentifier's NULL left out (its signature no longer matters here).
    const cert = decodePkiMessage(fixture('strongswan-pkcsreq-aes128.der')).signerCertificate!
    const [tbs, sigAlg, sig] = children(decodeBer(cert))
    const fields = children(tbs!).map(encoding)
    const at = fields.findIndex((f) => Buffer.from(f).includes(Buffer.from(sequence(oid(OID.rsaEncryption), NULL))))
    const [, bits] = children(decodeBer(fields[at]!))
    fields[at] = sequence(sequence(oid(OID.rsaEncryption)), encoding(bits!))
    const edited = sequence(sequence(...fields), encoding(sigAlg!), encoding(sig!))
    expect(certificateInfo(edited).spkiSha256).toBe(exported(edited))
    expect(certificateInfo(edited).spkiSha256).not.toBe(createHash('sha256').update(fields[at]!).digest('hex'))
  })
})

describe('BER forms a client may send (X.690 §8.1.3.6, §8.23.6)', () => {
  const signer = decodePkiMessage(fixture('strongswan-pkcsreq-aes128.der')).signerCertificate!
  const attribute = (type: string, value: Uint8Array) => sequence(oid(type), tlv(0x31, value))
  /** A pkiMessage (signature not checked here) with the given transactionID value, definite or indefinite lengths. */
  function message(transactionId: Uint8Array, indefinite: boolean): Uint8Array {
    const wrap = (tag: number, ...content: Uint8Array[]) =>
      indefinite ? Uint8Array.from([tag, 0x80, ...Buffer.concat(content), 0, 0]) : tlv(tag, ...content)
    const attrs = [
      attribute(OID.messageType, tlv(0x13, Buffer.from('19'))),
      attribute(OID.senderNonce, tlv(0x04, new Uint8Array(16).fill(9))),
      attribute(OID.transactionID, transactionId),
    ]
    const alg = sequence(oid('2.16.840.1.101.3.4.2.1'), NULL)
    const signerInfo = wrap(0x30, Uint8Array.of(2, 1, 1), issuerAndSerial(signer), alg, wrap(0xa0, ...attrs), sequence(oid(OID.rsaEncryption), NULL), tlv(0x04, new Uint8Array(8)))
    const content = wrap(0x24, tlv(0x04, Uint8Array.of(1, 2)), tlv(0x04, Uint8Array.of(3)))
    const signed = wrap(0x30, Uint8Array.of(2, 1, 1), tlv(0x31, alg), wrap(0x30, oid(OID.data), wrap(0xa0, content)), wrap(0xa0, signer), wrap(0x31, signerInfo))
    return wrap(0x30, oid(OID.signedData), wrap(0xa0, signed))
  }
  const issuerAndSerial = (cert: Uint8Array) => {
    const [tbs] = children(decodeBer(cert))
    const fields = children(tbs!)
    const at = fields[0]!.tag === 0xa0 ? 1 : 0
    return sequence(encoding(fields[at + 2]!), encoding(fields[at]!))
  }

  it.each([false, true])('ok/indefinite-lengths-%s-decode-to-the-same-fields', (indefinite) => {
    const m = decodePkiMessage(message(tlv(0x13, Buffer.from('tid-1')), indefinite))
    expect(m).toMatchObject({ messageType: 19, transactionId: 'tid-1', transactionIdTag: 0x13 })
    expect(hex(m.content)).toBe('010203')
    expect(hex(m.signerCertificate)).toBe(hex(signer))
  })

  it('ok/constructed-printable-string-transactionID-is-joined', () => {
    const m = decodePkiMessage(message(tlv(0x33, tlv(0x04, Buffer.from('ab')), tlv(0x04, Buffer.from('cd'))), false))
    expect(m).toMatchObject({ transactionId: 'abcd', transactionIdTag: 0x13 })
  })

  /** The transactionID attribute value of a CertRep, as encoded. */
  async function echoed(transactionId: Uint8Array): Promise<string> {
    const request = decodePkiMessage(message(transactionId, false))
    const rep = await encodeCertRep({
      transactionId: request.transactionId,
      transactionIdTag: request.transactionIdTag,
      transactionIdOctets: request.transactionIdOctets,
      recipientNonce: request.senderNonce,
      status: 'PENDING',
      digest: 'sha256',
      signer: raCredential('local', text('ra.crt.pem'), text('ra-test-only.key.pem')),
    })
    const ci = new pkijs.ContentInfo({ schema: asn1js.fromBER(rep).result })
    const signed = new pkijs.SignedData({ schema: ci.content })
    const attr = signed.signerInfos[0]!.signedAttrs!.attributes.find((a) => a.type === OID.transactionID)!
    return Buffer.from((attr.values[0] as asn1js.AsnType).toBER()).toString('hex')
  }

  it.each([
    ['BMPString', tlv(0x1e, Uint8Array.of(0, 0x74, 0, 0x69, 0x04, 0x34))],
    ['UTF8String', tlv(0x0c, Buffer.from('tïd-é'))],
    ['PrintableString', tlv(0x13, Buffer.from('tid-42'))],
  ])('ok/%s-transactionID-is-echoed-byte-for-byte', async (_, value) => {
    expect(await echoed(value)).toBe(Buffer.from(value).toString('hex'))
  })

  it('ok/constructed-transactionID-is-echoed-as-its-joined-octets', async () => {
    const constructed = tlv(0x33, tlv(0x04, Buffer.from('ab')), tlv(0x04, Buffer.from('cd')))
    expect(await echoed(constructed)).toBe(Buffer.from(tlv(0x13, Buffer.from('abcd'))).toString('hex'))
  })
})
