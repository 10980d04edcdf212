// RFC 8555 §7.6 revokeCert, signed by the account (which holds the certificate or valid authorizations for all
// its identifiers) or by the certificate's own key (jwk). Revoked through src/issuance so OCSP and CRL see it.
import { createPublicKey } from 'node:crypto'
import { isIssuanceError } from '../../../src/errors.js'
import { normalizeSerial } from '../../../src/pki/serial.js'
import { x509 } from '../../../src/pki/x509.js'
import type { AcmeIdentifier, CertificateRecord } from '../../../src/store/index.js'
import { sameKey } from '../codec/jws.js'
import { decodeRevokeCert } from '../codec/resources.js'
import type { AcmeContext, AcmeHandler } from '../context.js'
import { AcmeProblem, fromIssuanceError } from '../problems.js'

/** RFC 5280 reasons a subscriber may give (not cACompromise, certificateHold, removeFromCRL, aACompromise). */
export const acmeRevocationReasons: ReadonlySet<number> = new Set([0, 1, 3, 4, 5, 9])

/** The inventory row of exactly these certificate bytes (same serial is not enough: the bytes must match). */
async function findIssued(ctx: AcmeContext, der: Uint8Array): Promise<CertificateRecord> {
  let serial: string
  try {
    serial = normalizeSerial(new x509.X509Certificate(new Uint8Array(der)).serialNumber)
  } catch {
    throw new AcmeProblem('malformed', 'certificate is not a DER X.509 certificate')
  }
  const record = await ctx.issuance.find(serial).catch(() => undefined)
  if (!record?.der || !Buffer.from(record.der).equals(Buffer.from(der))) {
    throw new AcmeProblem('malformed', 'certificate was not issued by this server', { status: 404 })
  }
  return record
}

export const revokeCert = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const { account, jwk, payload } = c.get('jws')
  const req = decodeRevokeCert(payload)
  const reason = req.reason ?? 0
  if (!acmeRevocationReasons.has(reason)) throw new AcmeProblem('badRevocationReason', `reason ${reason} cannot be requested`)
  const record = await findIssued(ctx, req.certificate)
  if (jwk) {
    const certJwk = createPublicKey({ key: Buffer.from(new x509.X509Certificate(new Uint8Array(req.certificate)).publicKey.rawData), format: 'der', type: 'spki' }).export({ format: 'jwk' })
    if (!(await sameKey(certJwk, jwk))) throw new AcmeProblem('unauthorized', 'the JWS key is not the certificate key')
  } else {
    const accountUrl = ctx.links.account(account!.id)
    const identifiers = record.sans.filter((s): s is AcmeIdentifier => s.type === 'dns' || s.type === 'ip')
    const owns = record.requester === accountUrl
    if (!owns && !(await ctx.store.acme.authorizations.coversAll(account!.id, identifiers))) {
      throw new AcmeProblem('unauthorized', 'the account neither holds the certificate nor authorizations for all its names')
    }
  }
  try {
    await ctx.issuance.revoke({
      serial: record.serial,
      reason,
      actor: account ? ctx.links.account(account.id) : 'acme:certificate-key',
      protocol: 'acme',
      requestId: c.get('requestId'),
    })
  } catch (e) {
    throw isIssuanceError(e) ? fromIssuanceError(e) : e
  }
  return c.body(null, 200)
}
