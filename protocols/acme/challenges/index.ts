// Challenge validation: dispatch by type, retried a few times, then CAA for DNS names. Talks only to the
// client's hosts and the DNS; no store or CA here.
import { setTimeout as sleep } from 'node:timers/promises'
import type { AcmeIdentifier } from '../../../src/store/index.js'
import { AcmeProblem } from '../problems.js'
import { requireCaaPermits } from './caa.js'
import { validateDns01 } from './dns-01.js'
import { validateHttp01 } from './http-01.js'
import type { ValidationNetwork } from './resolver.js'
import { validateTlsAlpn01 } from './tls-alpn-01.js'

export { createResolver, type ValidationNetwork } from './resolver.js'

export interface ValidationRequest {
  type: string
  identifier: AcmeIdentifier
  wildcard: boolean
  token: string
  keyAuthorization: string
  accountUrl: string
}

export interface ValidationPolicy {
  attempts: number
  retryDelayMs: number
  caaIdentities: string[]
}

function validateOnce(req: ValidationRequest, net: ValidationNetwork): Promise<void> {
  switch (req.type) {
    case 'http-01':
      return validateHttp01(req.identifier, req.token, req.keyAuthorization, net)
    case 'dns-01':
      return validateDns01(req.identifier, req.keyAuthorization, net)
    case 'tls-alpn-01':
      return validateTlsAlpn01(req.identifier, req.keyAuthorization, net)
    default:
      return Promise.reject(new AcmeProblem('malformed', `challenge type ${req.type} is not supported`))
  }
}

/** Resolves when the challenge is met and CAA permits; rejects with the last attempt's AcmeProblem. */
export async function validate(req: ValidationRequest, net: ValidationNetwork, policy: ValidationPolicy): Promise<void> {
  let last: unknown
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    try {
      await validateOnce(req, net)
      last = undefined
      break
    } catch (e) {
      last = e
      if (attempt < policy.attempts) await sleep(policy.retryDelayMs)
    }
  }
  if (last !== undefined) {
    throw last instanceof AcmeProblem ? last : new AcmeProblem('connection', `validation failed: ${(last as Error).message}`)
  }
  if (req.identifier.type === 'dns') {
    await requireCaaPermits(net.resolver, req.identifier.value, {
      identities: policy.caaIdentities,
      accountUrl: req.accountUrl,
      method: req.type,
      wildcard: req.wildcard,
    })
  }
}
