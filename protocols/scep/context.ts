// What the SCEP app is built from, and what its middleware hands to the handlers.
import type { Handler } from 'hono'
import type { Logger } from 'pino'
import type { ScepLabelConfig } from '../../src/config/scep.js'
import type { Config } from '../../src/config/schema.js'
import type { IssuanceService } from '../../src/issuance/service.js'
import type { CrlService } from '../../src/revocation/index.js'
import type { ScepServices } from '../../src/scep/index.js'
import type { Der } from '../../src/pki/pem.js'
import type { Store } from '../../src/store/index.js'

export interface ScepDeps {
  config: Pick<Config, 'scep' | 'profiles'>
  issuance: Pick<IssuanceService, 'issue' | 'find' | 'chainFor'>
  store: Pick<Store, 'scep'>
  /** RA credentials and challenge checks (src/scep); SCEP is not served without them. */
  scep: Pick<ScepServices, 'ra' | 'challenges'> | undefined
  /** GetCRL answers from the published CRLs; without it GetCRL is badRequest. */
  crl?: Pick<CrlService, 'get' | 'scopes'> | undefined
  logger: Logger
}

/** A configured label, resolved once at start. */
export interface ScepLabel {
  name: string
  config: ScepLabelConfig
  /** CA backend of the label's profile: whose RA answers. */
  backendId: string
}

export type ScepEnv = { Variables: { requestId: string; label: ScepLabel } }
export type ScepHandler = Handler<ScepEnv>

/** What an operation decided; the PKIOperation handler encodes it as a CertRep. */
export type Outcome =
  /** `reply`: the CertRep already built (RequestContext.successReply), sent as it is. */
  | { status: 'SUCCESS'; certificates: Uint8Array[]; crls?: Uint8Array[]; reply?: Der | undefined }
  | { status: 'PENDING' }
