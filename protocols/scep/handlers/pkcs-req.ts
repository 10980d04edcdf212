// RFC 8894 §3.3.1 PKCSReq and RenewalReq: parse the CSR → open the transaction (or find the earlier one) →
// authorize (challengePassword, or the certificate being renewed) → issue with the transaction's reference. A
// request repeated with the same transactionID, signer key and requested key answers from the stored transaction
// (a client retrying, or polling by PKCSReq).
import { createHash } from 'node:crypto'
import { acceptsChallenges } from '../../../src/config/scep.js'
import { isIssuanceError } from '../../../src/errors.js'
import { parseCsr, type ParsedCsr } from '../../../src/pki/csr.js'
import type { Der } from '../../../src/pki/pem.js'
import { x509 } from '../../../src/pki/x509.js'
import type { CertificateRecord, ScepTransaction } from '../../../src/store/index.js'
import { signerKeyDigest, type PkiMessage } from '../codec/pki-message.js'
import type { Outcome, ScepDeps, ScepLabel } from '../context.js'
import { ScepFailure } from '../fail-info.js'
import { transactionOutcome } from './transaction.js'

export interface RequestContext {
  deps: ScepDeps
  label: ScepLabel
  requestId: string
  /** The SUCCESS CertRep carrying these certificates, as the PKIOperation handler would build it. */
  successReply?: ((certificates: Uint8Array[]) => Promise<Der>) | undefined
}

async function csrOf(data: Uint8Array): Promise<ParsedCsr> {
  try {
    return await parseCsr(data)
  } catch (e) {
    if (isIssuanceError(e)) throw new ScepFailure('badRequest', e.detail)
    throw e
  }
}

/**
 * PKCSReq authorization (RFC 8894 §2.3): the CSR's challengePassword must be the label's static secret or a live
 * dynamic challenge (used up by this check). A label without any challenge refuses enrollment.
 */
async function requireChallenge(ctx: RequestContext, csr: ParsedCsr, transactionId: string): Promise<string> {
  const { label } = ctx
  if (!acceptsChallenges(label.config)) {
    throw new ScepFailure('badRequest', `enrollment on SCEP label "${label.name}" is disabled: no challenge is configured`)
  }
  const check = await ctx.deps.scep!.challenges.verify(label.name, csr.challengePassword, csr.commonName, `scep:${transactionId}`)
  if (!check.ok) throw new ScepFailure('badRequest', 'the challengePassword is missing, wrong, expired or already used')
  return check.kind === 'static' ? `scep:${label.name}:static-challenge` : `scep:${label.name}:challenge#${check.id}`
}

/**
 * RenewalReq authorization (RFC 8894 §3.3.1.2): signed with a certificate this server issued that is still valid —
 * the same DER as in the inventory, not revoked, not expired. The issuance service then checks the identity stays.
 */
async function requireRenewable(ctx: RequestContext, signerDer: Uint8Array): Promise<CertificateRecord> {
  if (!ctx.deps.config.scep.caps.renewal) throw new ScepFailure('badRequest', 'RenewalReq is not offered by this server')
  let serial: string
  try {
    serial = new x509.X509Certificate(new Uint8Array(signerDer)).serialNumber
  } catch {
    throw new ScepFailure('badMessageCheck', 'the signer certificate cannot be read')
  }
  let record: CertificateRecord
  try {
    record = await ctx.deps.issuance.find(serial)
  } catch (e) {
    if (isIssuanceError(e) && e.kind === 'notFound') {
      throw new ScepFailure('badRequest', 'RenewalReq must be signed with a certificate this server issued')
    }
    throw e
  }
  if (!record.der || !Buffer.from(record.der).equals(Buffer.from(signerDer))) {
    throw new ScepFailure('badRequest', 'RenewalReq must be signed with a certificate this server issued')
  }
  if (record.status !== 'valid') throw new ScepFailure('badRequest', `the certificate being renewed is ${record.status}`)
  if ((record.notAfter?.getTime() ?? 0) <= Date.now()) throw new ScepFailure('badRequest', 'the certificate being renewed has expired')
  return record
}

/** What a stored transaction answers, or undefined when it is spent (renewed, expired) or was refused. */
async function liveOutcome(deps: ScepDeps, t: ScepTransaction): Promise<Outcome | undefined> {
  if (t.certificateId) {
    const record = await deps.issuance.find(t.certificateId)
    if (record.status === 'valid' && (record.supersededBy || (record.notAfter?.getTime() ?? 0) <= Date.now())) return undefined
  }
  try {
    return await transactionOutcome(deps, t)
  } catch (e) {
    if (e instanceof ScepFailure) return undefined
    throw e
  }
}

/** Who is enrolling, and the certificate a RenewalReq replaces: the request's authorization. */
async function authorize(ctx: RequestContext, csr: ParsedCsr, msg: PkiMessage, kind: 'PKCSReq' | 'RenewalReq') {
  if (kind === 'RenewalReq') {
    const old = await requireRenewable(ctx, msg.signerCertificate!)
    return { requester: `scep:${ctx.label.name}:cert#${old.serial}`, replaces: old.id as string | undefined }
  }
  return { requester: await requireChallenge(ctx, csr, msg.transactionId), replaces: undefined }
}

export async function enroll(ctx: RequestContext, msg: PkiMessage, data: Uint8Array, kind: 'PKCSReq' | 'RenewalReq'): Promise<Outcome> {
  const { deps, label } = ctx
  const store = deps.store.scep
  const csr = await csrOf(data)
  const signerKey = signerKeyDigest(msg)
  const requestKey = createHash('sha256').update(csr.publicKeyDer).digest('hex')
  const code = kind === 'PKCSReq' ? 19 : 17
  const opening = {
    transactionId: msg.transactionId,
    signerKeySha256: signerKey,
    label: label.name,
    messageType: code,
    requestKeySha256: requestKey,
  }
  const remove = () => store.removeTransaction(msg.transactionId, signerKey)
  // Most requests open a new transaction: it is opened first, in one statement that returns the earlier one when
  // this transactionID and signer key were seen before. A new transaction whose request is then refused is removed.
  let begun = await store.beginTransaction(opening)
  let who: Awaited<ReturnType<typeof authorize>>
  if (begun.created) {
    try {
      who = await authorize(ctx, csr, msg, kind)
    } catch (e) {
      await remove()
      throw e
    }
  } else {
    const existing = begun.transaction
    if (existing.requestKeySha256 === requestKey && existing.messageType === code) {
      // The same enrollment again — a retry, an old client polling by PKCSReq, or certmonger resubmitting a fresh
      // CSR for the same key: answer from the transaction, unless its certificate has since been renewed or
      // expired, or it was refused (then this is a new enrollment of that key).
      const answer = await liveOutcome(deps, existing)
      if (answer) return answer
    }
    if ((await liveOutcome(deps, existing))?.status === 'PENDING') {
      throw new ScepFailure('badRequest', `transaction ${msg.transactionId} awaits approval of a different request`)
    }
    who = await authorize(ctx, csr, msg, kind)
    await remove()
    begun = await store.beginTransaction(opening)
    if (!begun.created) return transactionOutcome(deps, begun.transaction)
  }
  let outcome
  try {
    // The transaction's reference goes with the reservation: the transaction finds its certificate by it. The
    // CertRep is built while the certificate is recorded.
    const successReply = ctx.successReply
    outcome = await deps.issuance.issue(
      { csr, profile: label.config.profile, protocol: 'scep', ...who, requestId: ctx.requestId, requestRef: begun.transaction.ref },
      { replyWhileRecording: successReply && ((certificateDer) => successReply([certificateDer])) },
    )
  } catch (e) {
    await remove()
    throw e
  }
  return outcome.status === 'issued'
    ? { status: 'SUCCESS', certificates: [outcome.certificateDer], reply: outcome.reply }
    : { status: 'PENDING' }
}
