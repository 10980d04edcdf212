// TEST ONLY: an HTTP double of AWS Private CA (ACM PCA) speaking the AWS JSON 1.1 protocol, so the production
// client (@aws-sdk/client-acm-pca) runs unchanged against it: POST / with X-Amz-Target: ACMPrivateCA.<Operation>,
// a SigV4 Authorization header that is verified with the test secret, errors as {"__type", "message"} with
// x-amzn-ErrorType. Operations: IssueCertificate (IdempotencyToken honoured for 5 minutes, APIPassthrough subject/
// SANs/custom extensions, templates), GetCertificate (RequestInProgressException while pending,
// RequestFailedException), RevokeCertificate, GetCertificateAuthorityCertificate, DescribeCertificateAuthority; and
// GET /crl/<ca-id>.crl standing in for the CRL PCA publishes to S3.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AsnConvert } from '@peculiar/asn1-schema'
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509'
import { x509 } from '../../src/pki/x509.js'
import { KU, makeTestCa, randomSerialHex, signCrl, signLeaf, type TestCa } from './ca.js'

export const PCA_REGION = 'eu-west-1'
export const PCA_ACCOUNT = '111122223333'
export const PCA_ACCESS_KEY_ID = 'AKIDTESTONLY0000EXAMPLE'
export const PCA_SECRET_ACCESS_KEY = 'test-only-secret-key-not-a-real-one/0123456'

const OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5'
const EKU = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2', ocspSigning: '1.3.6.1.5.5.7.3.9' }

/** The AWS-managed templates the double knows (https://docs.aws.amazon.com/privateca/latest/userguide/template-definitions.html). */
const templates: Record<string, { keyUsage: number; eku: string[]; api: boolean }> = {
  'EndEntityCertificate/V1': { keyUsage: KU.digitalSignature | KU.keyEncipherment, eku: [EKU.serverAuth, EKU.clientAuth], api: false },
  'EndEntityCertificate_APIPassthrough/V1': { keyUsage: KU.digitalSignature | KU.keyEncipherment, eku: [EKU.serverAuth, EKU.clientAuth], api: true },
  'EndEntityClientAuthCertificate_APIPassthrough/V1': { keyUsage: KU.digitalSignature, eku: [EKU.clientAuth], api: true },
  'OCSPSigningCertificate_APIPassthrough/V1': { keyUsage: KU.digitalSignature, eku: [EKU.ocspSigning], api: true },
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
  }
}

interface IssuedCert {
  arn: string
  serialHex: string
  /** GetCertificate calls still to answer RequestInProgressException; Infinity: until release(). */
  pendingPolls: number
  failed: boolean
  der?: Uint8Array
  make: () => Promise<x509.X509Certificate>
}

export interface PcaCall {
  target: string
  status: number
  errorType?: string
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest()

export class PcaDouble {
  readonly url: string
  readonly caArn: string
  readonly ca: TestCa
  readonly calls: PcaCall[] = []
  /** New issuances stay pending for this many GetCertificate calls (Infinity: until release()). */
  pendingPolls = 0
  /** New issuances end failed (GetCertificate → RequestFailedException). */
  failIssuance = false
  /** The next `count` calls (of `target`, or any) answer ThrottlingException. */
  throttle: { target?: string; count: number } = { count: 0 }
  /** The next `count` calls of `target` are carried out but their answer is lost (the connection is dropped). */
  dropAnswers: { target?: string; count: number } = { count: 0 }
  /** Added to the wall clock (idempotency window). */
  clockOffsetMs = 0
  readonly certificates = new Map<string, IssuedCert>()
  readonly tokens = new Map<string, { arn: string; at: number }>()
  readonly revoked = new Map<string, { reason: string; at: Date }>()
  status = 'ACTIVE'
  #crlNumber = 1

  private constructor(
    readonly server: Server,
    ca: TestCa,
  ) {
    this.ca = ca
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    this.caArn = `arn:aws:acm-pca:${PCA_REGION}:${PCA_ACCOUNT}:certificate-authority/${randomUUID()}`
  }

  static async start(): Promise<PcaDouble> {
    const ca = await makeTestCa('PCA Double')
    let double: PcaDouble | undefined
    const server = createServer((req, res) => void double!.handle(req, res))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    double = new PcaDouble(server, ca)
    return double
  }

  get crlUrl(): string {
    return `${this.url}/crl/${this.caArn.split('/').at(-1)}.crl`
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r())
      this.server.closeAllConnections()
    })
  }

  now = () => Date.now() + this.clockOffsetMs

  /** Lets every pending certificate be issued at the next poll. */
  release(): void {
    for (const c of this.certificates.values()) c.pendingPolls = 0
  }

  callsOf(target: string): PcaCall[] {
    return this.calls.filter((c) => c.target === target)
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const raw = Buffer.concat(chunks)
    if (req.method === 'GET' && req.url === new URL(this.crlUrl).pathname) {
      const crl = await signCrl(
        this.ca,
        this.#crlNumber,
        [...this.revoked].map(([serialHex, r]) => ({ serialHex, at: r.at })),
      )
      res.writeHead(200, { 'Content-Type': 'application/pkix-crl' }).end(Buffer.from(crl.rawData))
      return
    }
    const target = String(req.headers['x-amz-target'] ?? '')
    const call: PcaCall = { target: target.replace(/^ACMPrivateCA\./, ''), status: 200 }
    try {
      if (req.method !== 'POST' || req.url !== '/') throw new AwsError('UnknownOperationException', 'not found', 404)
      this.#verifySigV4(req, raw)
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1') throw new AwsError('SerializationException', 'expected application/x-amz-json-1.1')
      if (this.throttle.count > 0 && (!this.throttle.target || this.throttle.target === call.target)) {
        this.throttle.count--
        throw new AwsError('ThrottlingException', 'Rate exceeded')
      }
      const input = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>
      const out = await this.operation(call.target, input)
      if (this.dropAnswers.count > 0 && (!this.dropAnswers.target || this.dropAnswers.target === call.target)) {
        this.dropAnswers.count--
        call.status = 0
        req.socket.destroy()
        return
      }
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': randomUUID() })
      res.end(JSON.stringify(out))
    } catch (e) {
      const err = e instanceof AwsError ? e : new AwsError('InternalFailure', (e as Error).message, 500)
      call.status = err.status
      call.errorType = err.type
      res.writeHead(err.status, {
        'Content-Type': 'application/x-amz-json-1.1',
        'x-amzn-RequestId': randomUUID(),
        'x-amzn-ErrorType': err.type,
      })
      res.end(JSON.stringify({ __type: err.type, message: err.message }))
    } finally {
      this.calls.push(call)
    }
  }

  /** AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html). */
  #verifySigV4(req: IncomingMessage, body: Buffer): void {
    const auth = req.headers['authorization']
    if (!auth) throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400)
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth)
    if (!m) throw new AwsError('IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature', 400)
    const [, keyId, date, region, service, signedHeaders, signature] = m as unknown as string[]
    if (keyId !== PCA_ACCESS_KEY_ID) throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 400)
    if (region !== PCA_REGION || service !== 'acm-pca') throw new AwsError('InvalidSignatureException', `Credential should be scoped to a valid region and service`, 400)
    const amzDate = String(req.headers['x-amz-date'] ?? '')
    const headerValue = (name: string) => {
      const v = req.headers[name]
      return (Array.isArray(v) ? v.join(',') : String(v ?? '')).trim().replace(/\s+/g, ' ')
    }
    const names = signedHeaders!.split(';')
    if (!names.includes('host')) throw new AwsError('InvalidSignatureException', "'Host' must be a signed header", 400)
    const canonical = [
      req.method,
      '/',
      '',
      names.map((n) => `${n}:${headerValue(n)}\n`).join(''),
      signedHeaders,
      (req.headers['x-amz-content-sha256'] as string | undefined) ?? sha256(body),
    ].join('\n')
    const scope = `${date}/${region}/${service}/aws4_request`
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n')
    const key = hmac(hmac(hmac(hmac(`AWS4${PCA_SECRET_ACCESS_KEY}`, date!), region!), service!), 'aws4_request')
    const expected = hmac(key, toSign)
    if (!timingSafeEqual(expected, Buffer.from(signature!, 'hex'))) {
      throw new AwsError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.', 403)
    }
  }

  #requireCa(input: Record<string, unknown>): void {
    if (input['CertificateAuthorityArn'] !== this.caArn) {
      throw new AwsError('ResourceNotFoundException', `Could not find certificate authority ${String(input['CertificateAuthorityArn'])}.`)
    }
  }

  async operation(target: string, input: Record<string, unknown>): Promise<unknown> {
    switch (target) {
      case 'IssueCertificate':
        return this.issueCertificate(input)
      case 'GetCertificate':
        return this.getCertificate(input)
      case 'RevokeCertificate':
        return this.revokeCertificate(input)
      case 'GetCertificateAuthorityCertificate':
        this.#requireCa(input)
        return { Certificate: this.ca.chainPem[0], CertificateChain: this.ca.chainPem[1] }
      case 'DescribeCertificateAuthority':
        this.#requireCa(input)
        return {
          CertificateAuthority: {
            Arn: this.caArn,
            Status: this.status,
            Type: 'SUBORDINATE',
            CertificateAuthorityConfiguration: { KeyAlgorithm: 'EC_prime256v1', SigningAlgorithm: 'SHA256WITHECDSA', Subject: { CommonName: 'PCA Double Issuing CA' } },
          },
        }
      default:
        throw new AwsError('UnknownOperationException', `unknown operation ${target}`)
    }
  }

  async issueCertificate(input: Record<string, unknown>): Promise<unknown> {
    this.#requireCa(input)
    const token = input['IdempotencyToken'] as string | undefined
    if (token !== undefined && (token.length > 36 || !/^[\t\n\r\x20-\xff]*$/.test(token))) {
      throw new AwsError('ValidationException', '1 validation error detected: Value at \'idempotencyToken\' failed to satisfy constraint')
    }
    const seen = token ? this.tokens.get(token) : undefined
    if (seen && this.now() - seen.at < 5 * 60_000) return { CertificateArn: seen.arn }
    if (input['SigningAlgorithm'] !== 'SHA256WITHECDSA') throw new AwsError('InvalidArgsException', 'The signing algorithm does not match the CA key algorithm.')
    const templateArn = String(input['TemplateArn'] ?? 'arn:aws:acm-pca:::template/EndEntityCertificate/V1')
    const template = templates[templateArn.replace(/^arn:aws:acm-pca:::template\//, '')]
    if (!template) throw new AwsError('InvalidArgsException', `Template ${templateArn} is not supported.`)
    let csr: x509.Pkcs10CertificateRequest
    try {
      csr = new x509.Pkcs10CertificateRequest(Buffer.from(String(input['Csr'] ?? ''), 'base64').toString('utf8'))
    } catch {
      throw new AwsError('MalformedCSRException', 'The certificate signing request is invalid.')
    }
    if (!(await csr.verify())) throw new AwsError('MalformedCSRException', 'The certificate signing request signature is invalid.')
    const validity = input['Validity'] as { Type: string; Value: number } | undefined
    const notBeforeIn = input['ValidityNotBefore'] as { Type: string; Value: number } | undefined
    if (validity?.Type !== 'ABSOLUTE' || (notBeforeIn && notBeforeIn.Type !== 'ABSOLUTE')) {
      throw new AwsError('InvalidArgsException', 'the double only knows ABSOLUTE validity')
    }
    const passthrough = input['ApiPassthrough'] as
      | { Subject?: { CustomAttributes?: { ObjectIdentifier: string; Value: string }[] }; Extensions?: { SubjectAlternativeNames?: Record<string, string>[]; CustomExtensions?: { ObjectIdentifier: string; Value: string; Critical?: boolean }[] } }
      | undefined
    if (passthrough && !template.api) throw new AwsError('InvalidArgsException', 'ApiPassthrough is not allowed with this template.')
    let subject: x509.Name = csr.subjectName
    const attrs = passthrough?.Subject?.CustomAttributes
    if (attrs?.length) {
      const name = new Name(attrs.map((a) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type: a.ObjectIdentifier, value: new AttributeValue({ utf8String: a.Value }) })])))
      subject = new x509.Name(AsnConvert.serialize(name))
    }
    const sanKeys: Record<string, x509.JsonGeneralName['type']> = { DnsName: 'dns', IpAddress: 'ip', Rfc822Name: 'email', UniformResourceIdentifier: 'url' }
    const sans: x509.JsonGeneralName[] = passthrough?.Extensions?.SubjectAlternativeNames
      ? passthrough.Extensions.SubjectAlternativeNames.map((g) => {
          const [k, v] = Object.entries(g)[0]!
          return { type: sanKeys[k]!, value: v }
        })
      : (csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [])
    const extra = (passthrough?.Extensions?.CustomExtensions ?? []).map(
      (c) => new x509.Extension(c.ObjectIdentifier, c.Critical ?? false, Buffer.from(c.Value, 'base64')),
    )
    if (extra.some((e) => e.type === OCSP_NOCHECK) && !template.eku.includes(EKU.ocspSigning)) {
      throw new AwsError('InvalidArgsException', 'id-pkix-ocsp-nocheck is only for OCSP signing certificates')
    }
    const serialHex = randomSerialHex(16)
    const arn = `${this.caArn}/certificate/${serialHex}`
    const publicKey = csr.publicKey
    const notBefore = new Date((notBeforeIn?.Value ?? Math.floor(this.now() / 1000)) * 1000)
    const notAfter = new Date(validity.Value * 1000)
    const cert: IssuedCert = {
      arn,
      serialHex,
      pendingPolls: this.pendingPolls,
      failed: this.failIssuance,
      make: () => signLeaf(this.ca, { serialHex, subject, publicKey, notBefore, notAfter, sans, keyUsage: template.keyUsage, extKeyUsage: template.eku, extra }),
    }
    this.certificates.set(arn, cert)
    if (token) this.tokens.set(token, { arn, at: this.now() })
    return { CertificateArn: arn }
  }

  async getCertificate(input: Record<string, unknown>): Promise<unknown> {
    this.#requireCa(input)
    const cert = this.certificates.get(String(input['CertificateArn']))
    if (!cert) throw new AwsError('ResourceNotFoundException', `Could not find certificate ${String(input['CertificateArn'])}.`)
    if (cert.pendingPolls > 0) {
      cert.pendingPolls--
      throw new AwsError('RequestInProgressException', 'The request is in progress.')
    }
    if (cert.failed) throw new AwsError('RequestFailedException', 'The certificate request failed: the CSR does not satisfy the template.')
    cert.der ??= new Uint8Array((await cert.make()).rawData)
    return {
      Certificate: x509.PemConverter.encode(Buffer.from(cert.der), 'CERTIFICATE'),
      CertificateChain: this.ca.chainPem.join('\n'),
    }
  }

  revokeCertificate(input: Record<string, unknown>): unknown {
    this.#requireCa(input)
    const serial = String(input['CertificateSerial'] ?? '')
    if (!/^([0-9a-f]{2}:)*[0-9a-f]{2}$/.test(serial)) throw new AwsError('InvalidArgsException', `The serial ${serial} is not in colon-separated hex form.`)
    const hex = serial.replace(/:/g, '')
    const reason = String(input['RevocationReason'] ?? '')
    const reasons = ['UNSPECIFIED', 'KEY_COMPROMISE', 'CERTIFICATE_AUTHORITY_COMPROMISE', 'AFFILIATION_CHANGED', 'SUPERSEDED', 'CESSATION_OF_OPERATION', 'PRIVILEGE_WITHDRAWN', 'A_A_COMPROMISE']
    if (!reasons.includes(reason)) throw new AwsError('ValidationException', `Value '${reason}' at 'revocationReason' failed to satisfy constraint`)
    if (![...this.certificates.values()].some((c) => c.serialHex === hex && c.der)) {
      throw new AwsError('ResourceNotFoundException', `Could not find certificate with serial ${serial}.`)
    }
    if (this.revoked.has(hex)) throw new AwsError('RequestAlreadyProcessedException', 'The certificate has already been revoked.')
    this.revoked.set(hex, { reason, at: new Date(this.now()) })
    this.#crlNumber++
    return {}
  }
}
