// RFC 8894 §3.3 PKIOperation: read → identify (else HTTP 400) → verify the signature → open the envelope with
// the RA key → the operation → CertRep signed by the RA. From identification on, every refusal is a CertRep
// FAILURE with a failInfo (failInfoFor maps the domain error); only "CA unavailable" is an HTTP 503.
import { isIssuanceError } from '../../../src/errors.js'
import type { Der } from '../../../src/pki/pem.js'
import { degenerate, type ContentCipher } from '../codec/cms.js'
import { encodeCertRep, type PkiStatus } from '../codec/cert-rep.js'
import { decodeEnvelope, openEnvelope, requireRsaRequester, sealEnvelope } from '../codec/envelope.js'
import { decodePkiMessage, messageTypeName, verifyPkiMessage, type PkiMessage } from '../codec/pki-message.js'
import type { Outcome, ScepDeps, ScepHandler } from '../context.js'
import { failInfoFor, ScepFailure, ScepHttpError, type FailInfo } from '../fail-info.js'
import { certPoll } from './cert-poll.js'
import { getCert, getCrl } from './get-cert.js'
import { enroll, type RequestContext } from './pkcs-req.js'
import { readPkiMessage } from './transport.js'

type Operation = (ctx: RequestContext, msg: PkiMessage, data: Uint8Array) => Promise<Outcome>

const operations: Partial<Record<NonNullable<ReturnType<typeof messageTypeName>>, Operation>> = {
  PKCSReq: (ctx, msg, data) => enroll(ctx, msg, data, 'PKCSReq'),
  RenewalReq: (ctx, msg, data) => enroll(ctx, msg, data, 'RenewalReq'),
  CertPoll: (ctx, msg) => certPoll(ctx, msg),
  GetCert: (ctx, _msg, data) => getCert(ctx, data),
  GetCRL: (ctx, _msg, data) => getCrl(ctx, data),
}

const replyDigests = new Set(['sha1', 'sha224', 'sha256', 'sha384', 'sha512'])

export const pkiOperation = (deps: ScepDeps): ScepHandler => {
  const ciphers = new Set<ContentCipher>(['aes-128-cbc', 'aes-192-cbc', 'aes-256-cbc'])
  if (deps.config.scep.caps.des3) ciphers.add('des-ede3-cbc')
  if (deps.config.scep.allowSingleDes) ciphers.add('des-cbc')
  return async (c) => {
    const label = c.get('label')
    const ra = deps.scep!.ra
    const msg = decodePkiMessage(await readPkiMessage(c))
    const certRep = (status: PkiStatus, failInfo?: FailInfo, envelope?: Uint8Array) =>
      encodeCertRep({
        transactionId: msg.transactionId,
        transactionIdTag: msg.transactionIdTag,
        transactionIdOctets: msg.transactionIdOctets,
        recipientNonce: msg.senderNonce,
        status,
        failInfo,
        envelope,
        digest: msg.digest && replyDigests.has(msg.digest) ? msg.digest : 'sha256',
        signer: ra.current(label.backendId),
      })
    let reply: Der
    try {
      verifyPkiMessage(msg)
      const name = messageTypeName(msg.messageType)
      const operation = name ? operations[name] : undefined
      if (!operation) throw new ScepFailure('badRequest', `messageType ${msg.messageType} is not a request this server answers`)
      requireRsaRequester(msg.signerCertificate)
      const sealed = decodeEnvelope(msg.content)
      const data = openEnvelope(sealed, ra.recipients(label.backendId), ciphers)
      // SUCCESS: the certificates sealed to the requester with the cipher it used (RFC 8894 §3.3.2).
      const successReply = (certificates: Uint8Array[], crls?: Uint8Array[]) =>
        certRep('SUCCESS', undefined, sealEnvelope(degenerate(certificates, crls), msg.signerCertificate!, sealed.cipher))
      const outcome = await operation({ deps, label, requestId: c.get('requestId'), successReply }, msg, data)
      if (outcome.status === 'SUCCESS') reply = outcome.reply ?? (await successReply(outcome.certificates, outcome.crls))
      else reply = await certRep(outcome.status)
    } catch (e) {
      let failInfo: FailInfo
      let detail: string
      if (e instanceof ScepFailure) {
        failInfo = e.failInfo
        detail = e.detail
      } else if (isIssuanceError(e)) {
        const mapped = failInfoFor[e.kind]
        if (mapped === 'retryLater') {
          deps.logger.error({ err: e, requestId: c.get('requestId') }, 'SCEP request failed: CA unavailable')
          throw new ScepHttpError(503, 'the CA cannot sign right now; send the same message again later', { 'Retry-After': '30' })
        }
        failInfo = mapped
        detail = e.detail
      } else {
        throw e
      }
      deps.logger.info(
        { requestId: c.get('requestId'), label: label.name, transactionId: msg.transactionId, messageType: msg.messageType, failInfo, detail },
        'SCEP request refused',
      )
      reply = await certRep('FAILURE', failInfo)
    }
    return c.body(reply, 200, { 'Content-Type': 'application/x-pki-message' })
  }
}
