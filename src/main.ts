// `enroll serve`: load config → open store and CA → listen; banner, signals, graceful stop.
import { resolve } from 'node:path'
import { loadConfig } from './config/load.js'
import { createLogger } from './logging.js'
import { startServer, type RunningServer } from './server.js'
import type { Config } from './config/schema.js'

function banner(config: Config, s: RunningServer): string {
  const https = config.publicUrl
  const http = config.publicHttpUrl
  const lines = [
    `enroll is serving (https :${s.httpsPort}, http :${s.httpPort}, store: ${s.store.kind})`,
    `  ACME directory   ${https}/acme/directory`,
    `  EST base         ${https}/.well-known/est`,
    `  SCEP             ${http}/scep`,
    `  OCSP             ${http}/.well-known/pki/ocsp`,
    `  CRL              ${http}/.well-known/pki/crl`,
    `  CA certificates  ${http}/.well-known/pki/ca.pem`,
    `  Admin API        ${https}/api/v1   (OpenAPI: ${https}/api/v1/openapi.json)`,
    `  CA bundle        ${s.caBundlePath}`,
    `                   trust it: REQUESTS_CA_BUNDLE=${s.caBundlePath} (certbot), LEGO_CA_CERTIFICATES=${s.caBundlePath} (lego)`,
  ]
  if (s.adminKeyFile) lines.push(`  Admin API key    in ${s.adminKeyFile} (send as "Authorization: Bearer <key>")`)
  if (s.generatedCa.length) lines.push(`  Generated a new CA (${s.generatedCa.join(', ')}) in ${resolve(config.dataDir, 'ca')}`)
  if (config.developmentDefaults) {
    lines.push(
      '',
      'WARNING: running on development defaults: embedded PGlite store in the data directory and CA keys on local',
      '         disk. Set DATABASE_URL (PostgreSQL) and a config file with your profiles before production use.',
    )
  }
  return lines.join('\n') + '\n'
}

export async function serve(configPath?: string): Promise<void> {
  const config = loadConfig({ configPath })
  const logger = createLogger(config.logLevel)
  const server = await startServer(config, logger)
  process.stdout.write(banner(config, server))
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down: finishing in-flight requests')
    server.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}
