// Revocation services of one server instance: CRL publication and the OCSP responder, sharing the event bus.
import type { Logger } from 'pino'
import type { BackendRegistry } from '../ca/registry.js'
import type { Config } from '../config/schema.js'
import type { EventBus } from '../events.js'
import type { IssuanceService } from '../issuance/service.js'
import type { Store } from '../store/index.js'
import { createCrlService, type CrlService } from './crl-service.js'
import { createResponderPool } from './ocsp-responder.js'
import { createOcspService, type OcspService } from './ocsp-service.js'

export type { CrlService, PublishedCrl } from './crl-service.js'
export type { CertIdHash, CertIdQuery, OcspAnswer, OcspQuery, OcspService } from './ocsp-service.js'
export { errorResponse, type OcspResponseStatus } from './ocsp-response.js'

export interface Revocation {
  crl: CrlService
  ocsp: OcspService
  start(): Promise<void>
  stop(): Promise<void>
}

export function createRevocation(deps: {
  config: Pick<Config, 'revocation'>
  store: Store
  backends: BackendRegistry
  issuance: IssuanceService
  events: EventBus
  logger: Logger
  now?: () => Date
}): Revocation {
  const responders = createResponderPool({ issuance: deps.issuance, logger: deps.logger, now: deps.now })
  const crl = createCrlService(deps)
  const ocsp = createOcspService({ ...deps, responders })
  return {
    crl,
    ocsp,
    async start() {
      await crl.start()
      await ocsp.start()
    },
    async stop() {
      await ocsp.stop()
      await crl.stop()
    },
  }
}
