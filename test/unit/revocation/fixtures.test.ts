// What the server sent real clients, parsed with pkijs: OCSP responses (RFC 6960 §4.2) captured by openssl ocsp,
// complete and delta CRLs (RFC 5280 §5) fetched with curl (fixtures/ocsp, fixtures/crl; see fixtures/README.md).
import { createHash, webcrypto } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { beforeAll, describe, expect, it } from 'vitest'

pkijs.setEngine(
  'node',
  new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }),
)

const read = (name: string) => readFileSync(new URL(`../../../fixtures/${name}`, import.meta.url))
const fixture = (name: string) => new Uint8Array(read(name))
const hex = (b: ArrayBuffer | Uint8Array) =>
  Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex')
const HOUR = 3_600_000

/** The issuing CA of the capture run (TEST ONLY): it signed the CRLs and the OCSP responder certificate. */
let ca: pkijs.Certificate
beforeAll(() => {
  const pem = read('pki/revocation-issuing-ca.pem').toString('utf8')
  ca = pkijs.Certificate.fromBER(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'))
})
const caKeyId = () =>
  hex(ca.extensions!.find((e) => e.extnID === '2.5.29.14')!.parsedValue.valueBlock.valueHexView)

// Serials of the capture run, as the admin API returned them.
const SERIAL = {
  good: '0f5e0a2566115cc71de6013e64c2fffe',
  keyCompromise: '5b1a69569f5236533ee3f61d8df551c2',
  superseded: '2d6a2678e318c464536e0ba1346d8969',
  cessationOfOperation: '65209193f11be4586e16a3030271c02a',
  unspecified: '0d9180602bf3b6dae0e980b21647e757',
  keyCompromiseViaApi: '4381e319a3e1f69120be29e33f049124',
  keyCompromiseViaCli: '6d2cc97d1db4eb15550793e96f93499a',
  neverIssued: '0123456789abcdef0123456789abcdef',
}

const ID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1'
const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2'

interface Decoded {
  responseStatus: number
  basic?: pkijs.BasicOCSPResponse
}

function decodeResponse(der: Uint8Array<ArrayBuffer>): Decoded {
  const response = pkijs.OCSPResponse.fromBER(der)
  const responseStatus = response.responseStatus.valueBlock.valueDec
  if (!response.responseBytes) return { responseStatus }
  expect(response.responseBytes.responseType).toBe(ID_PKIX_OCSP_BASIC)
  return {
    responseStatus,
    basic: pkijs.BasicOCSPResponse.fromBER(
      response.responseBytes.response.valueBlock.valueHexView.slice(),
    ),
  }
}

/** certStatus CHOICE (RFC 6960 §4.2.1): good [0], revoked [1] { revocationTime, [0] revocationReason }, unknown [2]. */
function certStatusOf(single: pkijs.SingleResponse): {
  kind: string
  revokedAt?: Date
  reason?: number
} {
  const status = single.certStatus as asn1js.BaseBlock
  expect(status.idBlock.tagClass).toBe(3)
  const kind = ['good', 'revoked', 'unknown'][status.idBlock.tagNumber]!
  if (kind !== 'revoked') return { kind }
  const [time, reason] = (status as asn1js.Constructed).valueBlock.value as [
    asn1js.GeneralizedTime,
    asn1js.Constructed | undefined,
  ]
  return {
    kind,
    revokedAt: time.toDate(),
    reason: reason
      ? (reason.valueBlock.value[0] as asn1js.Enumerated).valueBlock.valueDec
      : undefined,
  }
}

/** The checks every successful response passes: delegated responder by key, its certificate, the signature. */
async function checkSigned(basic: pkijs.BasicOCSPResponse) {
  expect(basic.certs).toHaveLength(1)
  const responder = basic.certs![0]!
  expect(await responder.verify(ca)).toBe(true)
  const ext = (oid: string) => responder.extensions?.find((e) => e.extnID === oid)
  expect(ext('2.5.29.37')!.parsedValue.keyPurposes).toEqual(['1.3.6.1.5.5.7.3.9']) // id-kp-OCSPSigning
  expect(ext('1.3.6.1.5.5.7.48.1.5')).toBeDefined() // id-pkix-ocsp-nocheck
  // ResponderID byKey [2] EXPLICIT OCTET STRING: SHA-1 of the responder's subjectPublicKey (RFC 6960 §4.2.2.3).
  // pkijs hands over the inner value, so the tag is read from the signed bytes (after the SEQUENCE header).
  const keyHash = createHash('sha1')
    .update(responder.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
    .digest('hex')
  expect(basic.tbsResponseData.responderID).toBeInstanceOf(asn1js.OctetString)
  expect(
    hex((basic.tbsResponseData.responderID as asn1js.OctetString).valueBlock.valueHexView),
  ).toBe(keyHash)
  const tbs = basic.tbsResponseData.tbsView
  const header = tbs[1]! < 0x80 ? 2 : 2 + (tbs[1]! & 0x7f)
  expect(hex(tbs.subarray(header, header + 24))).toBe(`a2160414${keyHash}`)
  const signed = await pkijs
    .getCrypto(true)
    .verifyWithPublicKey(
      basic.tbsResponseData.tbsView.slice(),
      basic.signature,
      responder.subjectPublicKeyInfo,
      basic.signatureAlgorithm,
    )
  expect(signed).toBe(true)
}

describe('OCSP responses captured by openssl ocsp (RFC 6960 §4.2)', () => {
  it.each([
    ['ok/good-with-nonce', 'openssl-ocsp-response-good.der', SERIAL.good, { kind: 'good' }],
    [
      'ok/revoked-keyCompromise',
      'openssl-ocsp-response-revoked.der',
      SERIAL.keyCompromise,
      { kind: 'revoked', revokedAt: new Date('2026-11-23T19:08:22Z'), reason: 1 },
    ],
    [
      'ok/unknown-never-issued',
      'openssl-ocsp-response-unknown.der',
      SERIAL.neverIssued,
      { kind: 'unknown' },
    ],
  ])('%s', async (_name, file, serial, status) => {
    const { responseStatus, basic } = decodeResponse(fixture(`ocsp/${file}`))
    expect(responseStatus).toBe(0)
    await checkSigned(basic!)
    const [single, ...more] = basic!.tbsResponseData.responses
    expect(more).toEqual([])
    expect(hex(single!.certID.serialNumber.valueBlock.valueHexView)).toBe(serial)
    expect(single!.certID.hashAlgorithm.algorithmId).toBe('1.3.14.3.2.26')
    expect(certStatusOf(single!)).toEqual(status)
    // Default revocation.ocsp.validitySeconds: 24 h; thisUpdate = producedAt, whole seconds.
    expect(single!.nextUpdate!.getTime() - single!.thisUpdate.getTime()).toBe(24 * HOUR)
    expect(single!.thisUpdate.getTime()).toBe(basic!.tbsResponseData.producedAt.getTime())
    expect(single!.thisUpdate.getTime() % 1000).toBe(0)
  })

  it('ok/good-echoes-the-request-nonce (RFC 8954 §2.1)', () => {
    const { basic } = decodeResponse(fixture('ocsp/openssl-ocsp-response-good.der'))
    const request = pkijs.OCSPRequest.fromBER(fixture('ocsp/openssl-ocsp-request-nonce.der'))
    const sent = request.tbsRequest.requestExtensions!.find((e) => e.extnID === ID_PKIX_OCSP_NONCE)!
    const echoed = basic!.tbsResponseData.responseExtensions!.find(
      (e) => e.extnID === ID_PKIX_OCSP_NONCE,
    )!
    expect(hex(echoed.extnValue.valueBlock.valueHexView)).toBe(
      hex(sent.extnValue.valueBlock.valueHexView),
    )
  })

  it('ok/nonce-less-responses-carry-no-extensions', () => {
    for (const file of ['openssl-ocsp-response-revoked.der', 'openssl-ocsp-response-unknown.der']) {
      expect(
        decodeResponse(fixture(`ocsp/${file}`)).basic!.tbsResponseData.responseExtensions,
      ).toBeUndefined()
    }
  })

  it('fail/a-changed-byte-breaks-the-signature', async () => {
    const { basic } = decodeResponse(fixture('ocsp/openssl-ocsp-response-revoked.der'))
    const tbs = basic!.tbsResponseData.tbsView.slice()
    tbs[tbs.length - 1]! ^= 1
    const responder = basic!.certs![0]!
    expect(
      await pkijs
        .getCrypto(true)
        .verifyWithPublicKey(
          tbs,
          basic!.signature,
          responder.subjectPublicKeyInfo,
          basic!.signatureAlgorithm,
        ),
    ).toBe(false)
  })

  it('fail/foreign-issuer-is-unauthorized-without-responseBytes (RFC 6960 §2.3)', () => {
    expect(hex(fixture('ocsp/openssl-ocsp-response-unauthorized.der'))).toBe('30030a0106')
    expect(decodeResponse(fixture('ocsp/openssl-ocsp-response-unauthorized.der'))).toEqual({
      responseStatus: 6,
    })
  })
})

/** serial → reasonCode (undefined when the entry has no reasonCode extension). */
function entriesOf(crl: pkijs.CertificateRevocationList): Map<string, number | undefined> {
  return new Map(
    (crl.revokedCertificates ?? []).map((entry) => {
      const reason = entry.crlEntryExtensions?.extensions.find((e) => e.extnID === '2.5.29.21')
      return [
        hex(entry.userCertificate.valueBlock.valueHexView),
        reason ? (reason.parsedValue as asn1js.Enumerated).valueBlock.valueDec : undefined,
      ]
    }),
  )
}

const ALL_REVOKED = new Map<string, number | undefined>([
  [SERIAL.keyCompromise, 1],
  [SERIAL.superseded, 4],
  [SERIAL.cessationOfOperation, 5],
  [SERIAL.unspecified, undefined], // RFC 5280 §5.3.1: absent rather than unspecified (0)
  [SERIAL.keyCompromiseViaApi, 1],
  [SERIAL.keyCompromiseViaCli, 1],
])

describe('CRLs fetched with curl (RFC 5280 §5)', () => {
  const load = (file: string) => pkijs.CertificateRevocationList.fromBER(fixture(`crl/${file}`))
  const extension = (crl: pkijs.CertificateRevocationList, oid: string) =>
    crl.crlExtensions?.extensions.find((e) => e.extnID === oid)

  it.each([
    ['ok/complete-crl', 'curl-crl-full.der', { number: 5, base: undefined, validityHours: 24 }],
    ['ok/delta-crl', 'curl-crl-delta.der', { number: 6, base: 5, validityHours: 1 }],
  ])('%s', async (_name, file, expected) => {
    const crl = load(file)
    expect(crl.version).toBe(1) // v2
    expect(await crl.verify({ issuerCertificate: ca })).toBe(true)
    expect(crl.issuer.isEqual(ca.subject)).toBe(true)
    expect(crl.thisUpdate.value).toEqual(new Date('2026-11-23T19:08:29Z'))
    expect(crl.nextUpdate!.value.getTime() - crl.thisUpdate.value.getTime()).toBe(
      expected.validityHours * HOUR,
    )
    expect(
      hex(extension(crl, '2.5.29.35')!.parsedValue.keyIdentifier.valueBlock.valueHexView),
    ).toBe(caKeyId())
    const number = extension(crl, '2.5.29.20')!
    expect(number.critical).toBe(false)
    expect((number.parsedValue as asn1js.Integer).valueBlock.valueDec).toBe(expected.number)
    const indicator = extension(crl, '2.5.29.27')
    if (expected.base === undefined) {
      expect(indicator).toBeUndefined()
      // Freshest CRL (RFC 5280 §5.2.6) names the delta.
      expect(
        Buffer.from(extension(crl, '2.5.29.46')!.extnValue.valueBlock.valueHexView).toString(
          'latin1',
        ),
      ).toMatch(/\/crl\/local\/delta$/)
    } else {
      expect(indicator!.critical).toBe(true)
      expect(
        (asn1js.fromBER(indicator!.extnValue.valueBlock.valueHexView).result as asn1js.Integer)
          .valueBlock.valueDec,
      ).toBe(expected.base)
      expect(extension(crl, '2.5.29.46')).toBeUndefined()
    }
    expect(entriesOf(crl)).toEqual(ALL_REVOKED)
    expect(entriesOf(crl).has(SERIAL.good)).toBe(false)
  })
})
