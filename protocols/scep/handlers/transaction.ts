// The state of a transaction as a reply (RFC 8894 §3.3.2): pending until an administrator decides, then the
// certificate, or FAILURE when the request was rejected or failed.
import type { ScepTransaction } from '../../../src/store/index.js'
import type { Outcome, ScepDeps } from '../context.js'
import { ScepFailure } from '../fail-info.js'

export async function transactionOutcome(deps: ScepDeps, t: ScepTransaction): Promise<Outcome> {
  if (!t.certificateId) return { status: 'PENDING' }
  const record = await deps.issuance.find(t.certificateId)
  switch (record.status) {
    case 'pending':
    case 'reserved':
      return { status: 'PENDING' }
    case 'valid':
      if (record.der) return { status: 'SUCCESS', certificates: [record.der] }
      return { status: 'PENDING' }
    case 'rejected':
      throw new ScepFailure('badRequest', `the request was rejected: ${record.failure ?? 'no reason given'}`)
    case 'revoked':
      throw new ScepFailure('badRequest', `the certificate ${record.serial} was revoked`)
    case 'failed':
      throw new ScepFailure('badRequest', `the request failed: ${record.failure ?? 'no reason given'}`)
  }
}
