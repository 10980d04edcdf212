// Builds every dependency from the validated config and runs the two listeners.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { join, resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import type { Logger } from 'pino'
import { resolveApiKeys } from './admin/keys.js'
import { createApp } from './app.js'
import { AuditAction } from './audit/events.js'
import { openBackends, type BackendRegistry } from './ca/registry.js'
import type { Config } from './config/schema.js'
import { createIssuanceService, type IssuanceMetrics, type IssuanceService } from './issuance/service.js'
import { createEventBus, type EventBus } from './events.js'
import { linkLinesPerRelation } from './http/link-lines.js'
import { createMetrics } from './metrics.js'
import { createRevocation } from './revocation/index.js'
import { toPem } from './pki/pem.js'
import { startScep, type ScepServices } from './scep/index.js'
import { openStore, type Store } from './store/index.js'
import { ensureServerCertificate, tlsNames } from './tls/server-cert.js'

export class StartupError extends Error {
  override readonly name = 'StartupError'
}

export interface Core {
  config: Config
  store: Store
  backends: BackendRegistry
  issuance: IssuanceService
  events: EventBus
}

/** Opens store and CA backends and builds the issuance service (shared by `serve`, the CLI and benchmarks). */
export async function openCore(
  config: Config,
  logger: Logger,
  options: { createCa: boolean; metrics?: IssuanceMetrics },
): Promise<Core> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const store = await openStore({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    schema: config.databaseSchema,
    poolSize: config.databasePoolSize,
  })
  try {
    const backends = await openBackends(config, { create: options.createCa, logger })
    for (const id of backends.generated) {
      await store.audit.append({ action: AuditAction.caGenerated, actor: 'system', detail: { backend: id } })
    }
    const events = createEventBus()
    const issuance = createIssuanceService({ config, store, backends, logger, metrics: options.metrics, events })
    return { config, store, backends, issuance, events }
  } catch (e) {
    await store.close().catch(() => {})
    throw e
  }
}

/** Writes <dataDir>/ca.pem, the bundle clients trust, when its content changed. */
function writeCaBundle(dataDir: string, chain: Uint8Array[]): string {
  const path = resolve(join(dataDir, 'ca.pem'))
  const pem = chain.map((d) => toPem(d, 'CERTIFICATE')).join('')
  if (!existsSync(path) || readFileSync(path, 'utf8') !== pem) writeFileSync(path, pem, { mode: 0o644 })
  return path
}

function listen(server: Server, port: number, host: string, what: string, envName: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new StartupError(`${what}: port ${port} is already in use (set ${envName})`))
      else if (e.code === 'EACCES') reject(new StartupError(`${what}: no permission to bind port ${port} (set ${envName})`))
      else reject(new StartupError(`${what}: cannot listen on ${host}:${port}: ${e.code ?? e.message}`))
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolvePort((server.address() as AddressInfo).port)
    })
  })
}

export interface RunningServer extends Core {
  httpsPort: number
  httpPort: number
  caBundlePath: string
  adminKeyFile: string | undefined
  generatedCa: string[]
  close(): Promise<void>
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const metrics = createMetrics()
  const core = await openCore(config, logger, { createCa: true, metrics })
  const { store, backends, issuance } = core
  const revocation = createRevocation({ ...core, logger })
  metrics.setCertificateCounter(() => store.certificates.countByStatus())
  const servers: Server[] = []
  let reconcileTimer: NodeJS.Timeout | undefined
  let scep: ScepServices | undefined
  const close = async (graceMs = config.shutdownGraceSeconds * 1000) => {
    clearInterval(reconcileTimer)
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((done) => {
            const force = setTimeout(() => s.closeAllConnections(), graceMs)
            s.close(() => {
              clearTimeout(force)
              done()
            })
            s.closeIdleConnections()
          }),
      ),
    )
    await revocation.stop()
    scep?.stop()
    backends.close?.()
    await store.close()
  }
  try {
    await issuance.reconcile()
    const caBundlePath = writeCaBundle(config.dataDir, await issuance.chainFor('default'))
    const names = tlsNames([config.publicUrl, config.publicHttpUrl], config.tlsNames)
    const tls = await ensureServerCertificate(config.dataDir, names, issuance)
    const { keys, generatedFile } = resolveApiKeys(config)
    await revocation.start()
    if (config.scep.enabled) scep = await startScep({ config, store, issuance, logger, backends })
    const apps = createApp({ config, store, backends, issuance, logger, metrics, apiKeys: keys, revocation, scep })

    const caPem = (await Promise.all(backends.all().map((b) => b.chain())))
      .flat()
      .map((d) => toPem(d, 'CERTIFICATE'))
    // EST client authentication needs the TLS layer to request, not require, a client certificate.
    const https = createHttpsServer(
      { key: tls.keyPem, cert: tls.certPem, ca: caPem, requestCert: true, rejectUnauthorized: false },
      linkLinesPerRelation(getRequestListener(apps.https.fetch)),
    )
    const http = createHttpServer(apps.httpFastPath(getRequestListener(apps.http.fetch)))
    servers.push(https, http)
    const httpsPort = await listen(https, config.httpsPort, config.listenHost, 'https listener', 'ENROLL_HTTPS_PORT')
    const httpPort = await listen(http, config.httpPort, config.listenHost, 'http listener', 'ENROLL_HTTP_PORT')
    reconcileTimer = setInterval(() => {
      issuance.reconcile().catch((err) => logger.error({ err }, 'reconcile failed'))
    }, 60_000).unref()
    await store.audit.append({ action: AuditAction.serverStarted, actor: 'system', detail: { httpsPort, httpPort } })
    return {
      ...core,
      httpsPort,
      httpPort,
      caBundlePath,
      adminKeyFile: generatedFile,
      generatedCa: backends.generated,
      close,
    }
  } catch (e) {
    await close(0).catch(() => {})
    throw e
  }
}
