// SCEP services of one server instance (RFC 8894): the RA credentials and the challenge checks. The wire
// protocol (protocols/scep) uses these; the admin API and the CLI mint challenges through them.
import type { Logger } from 'pino'
import { canKeepSecrets } from '../ca/backend.js'
import type { BackendRegistry } from '../ca/registry.js'
import { acceptsChallenges } from '../config/scep.js'
import type { Config } from '../config/schema.js'
import type { IssuanceService } from '../issuance/service.js'
import type { Store } from '../store/index.js'
import { createChallengeService, type ChallengeService } from './challenges.js'
import { fileRaKeyStore, secretRaKeyStore, startRaService, type RaKeyStore, type RaService } from './ra.js'

export type { ChallengeCheck, ChallengeService, MintedChallenge } from './challenges.js'
export type { KeyTransport, RaCredential, RaService } from './ra.js'
export { raCredential } from './ra.js'

export interface ScepServices {
  ra: RaService
  challenges: ChallengeService
  /** Labels whose PKCSReq is refused because no challenge is configured (announced at start). */
  enrollmentDisabled: string[]
  stop(): void
}

/** Backends the SCEP labels issue from: each needs an RA. */
export const scepBackends = (config: Pick<Config, 'scep' | 'profiles'>) => [
  ...new Set(Object.values(config.scep.labels).map((l) => config.profiles[l.profile]!.backend)),
]

export async function startScep(deps: {
  config: Pick<Config, 'scep' | 'profiles' | 'dataDir'>
  store: Store
  issuance: IssuanceService
  logger: Logger
  /** CA backends; one with a secret store (Vault KV) keeps its RA key there instead of the data dir. */
  backends?: Pick<BackendRegistry, 'get'> | undefined
}): Promise<ScepServices> {
  const { config, logger } = deps
  const files = fileRaKeyStore(config.dataDir)
  const keyStoreFor = (id: string): RaKeyStore => {
    const backend = deps.backends?.get(id)
    return backend && canKeepSecrets(backend) ? secretRaKeyStore(backend) : files
  }
  const ra = await startRaService({
    dataDir: config.dataDir,
    backendIds: scepBackends(config),
    keyBits: config.scep.raKeyBits,
    issuance: deps.issuance,
    logger,
    keyStoreFor,
  })
  const enrollmentDisabled = Object.entries(config.scep.labels)
    .filter(([, label]) => !acceptsChallenges(label))
    .map(([name]) => name)
  for (const name of enrollmentDisabled) {
    logger.warn(
      `scep: enrollment (PKCSReq) on label "${name}" is disabled: no challenge is configured. Set ` +
        `scep.labels.${name}.challenge${name === 'default' ? ' (or ENROLL_SCEP_CHALLENGE)' : ''}, or ` +
        `scep.labels.${name}.dynamicChallenges: true and mint challenges with the admin API.`,
    )
  }
  return { ra, challenges: createChallengeService(deps), enrollmentDisabled, stop: () => ra.stop() }
}
