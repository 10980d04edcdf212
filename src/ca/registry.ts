// Builds the configured CA backends, keyed by id. Each backend kind parses its own options.
import { pino, type Logger } from 'pino'
import type { Config } from '../config/schema.js'
import type { CaBackend } from './backend.js'
import { LocalCa } from './local/index.js'
import { PcaBackend, PcaBackendWithCrl } from './pca/index.js'
import { VaultBackend } from './vault/index.js'

export interface BackendRegistry {
  get(id: string): CaBackend | undefined
  all(): CaBackend[]
  /** Ids of backends generated during this start (first start), for the banner. */
  generated: string[]
  /** Stops backends' timers and connections (Vault token renewal, AWS SDK sockets). */
  close?(): void
}

export async function openBackends(
  config: Config,
  options: { create: boolean; logger?: Logger | undefined; env?: Record<string, string | undefined> },
): Promise<BackendRegistry> {
  const backends = new Map<string, CaBackend>()
  const generated: string[] = []
  for (const [id, backend] of Object.entries(config.backends)) {
    switch (backend.kind) {
      case 'local': {
        const opened = await LocalCa.open(
          { id, dataDir: config.dataDir, config: backend, publicHttpUrl: config.publicHttpUrl },
          options.create,
        )
        backends.set(id, opened.ca)
        if (opened.generated) generated.push(id)
        break
      }
      case 'vault':
        backends.set(id, new VaultBackend({ id, config: backend, env: options.env ?? process.env, logger: loggerOf(options) }))
        break
      case 'pca': {
        const Pca = backend.crlUrl ? PcaBackendWithCrl : PcaBackend
        backends.set(id, new Pca({ id, config: backend, logger: loggerOf(options) }))
        break
      }
    }
  }
  return {
    get: (id) => backends.get(id),
    all: () => [...backends.values()],
    generated,
    close() {
      for (const b of backends.values()) (b as { close?: () => void }).close?.()
    },
  }
}

const loggerOf = (o: { logger?: Logger | undefined }) => o.logger ?? pino({ level: 'silent' })
