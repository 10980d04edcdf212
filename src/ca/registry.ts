// Builds the configured CA backends, keyed by id. Each backend kind parses its own options.
import type { Config } from '../config/schema.js'
import type { CaBackend } from './backend.js'
import { LocalCa } from './local/index.js'

export interface BackendRegistry {
  get(id: string): CaBackend | undefined
  all(): CaBackend[]
  /** Ids of backends generated during this start (first start), for the banner. */
  generated: string[]
}

export async function openBackends(config: Config, options: { create: boolean }): Promise<BackendRegistry> {
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
    }
  }
  return { get: (id) => backends.get(id), all: () => [...backends.values()], generated }
}
