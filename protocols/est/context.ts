// What the EST app is built from, and what its middleware hands to the handlers.
import type { IncomingMessage } from 'node:http'
import type { Handler } from 'hono'
import type { Logger } from 'pino'
import type { EstLabelConfig } from '../../src/config/est.js'
import type { Config } from '../../src/config/schema.js'
import type { IssuanceService } from '../../src/issuance/service.js'
import type { TrustAnchors } from '../../src/pki/path-validation.js'
import type { CertificateRecord } from '../../src/store/index.js'

export interface EstDeps {
  config: Pick<Config, 'est' | 'profiles'>
  issuance: Pick<IssuanceService, 'issue' | 'issueWithServerKey' | 'heldOutcome' | 'chainFor' | 'find'>
  logger: Logger
}

/** A configured label (RFC 7030 §3.2.2), resolved once at start. */
export interface EstLabel {
  name: string
  config: EstLabelConfig
  /** Externally configured CAs trusted for client certificates on this label. */
  externalCas: TrustAnchors
  /** Profiles whose certificates (issued here) authenticate on this label. */
  clientProfiles: string[]
}

/** Who is asking, as authenticated by auth.ts. */
export interface EstClient {
  /** Recorded as the requester: `basic:<user>` or `cert:<subject>#<serial>`. */
  requester: string
  /** The accepted TLS client certificate; `record` when this server issued it (the inventory row). */
  certificate?: { serial: string; subject: string; record: CertificateRecord | undefined }
}

export type EstEnv = {
  /** @hono/node-server passes the Node request; absent in in-process tests (app.request). */
  Bindings: { incoming?: IncomingMessage }
  Variables: { requestId: string; label: EstLabel; client: EstClient }
}

export type EstHandler = Handler<EstEnv>
