// Store targets for tests: the real PostgreSQL (own schema per call, dropped after) and PGlite (own dir).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { inject } from 'vitest'
import { openStore, type Store } from '../../src/store/index.js'

export interface StoreTarget {
  name: 'postgres' | 'pglite'
  /** Opens a fresh, empty, migrated store; `cleanup` drops it. */
  open(): Promise<{ store: Store; url: string | undefined; schema: string; dataDir: string; cleanup(): Promise<void> }>
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'enroll-test-'))

export function storeTargets(): StoreTarget[] {
  const url = inject('postgresUrl')
  const targets: StoreTarget[] = []
  if (url) {
    targets.push({
      name: 'postgres',
      async open() {
        const schema = `t_${randomBytes(6).toString('hex')}`
        const dataDir = tempDir()
        const store = await openStore({ url, dataDir, schema, poolSize: 8 })
        return {
          store,
          url,
          schema,
          dataDir,
          async cleanup() {
            await store.close()
            const sql = postgres(url, { max: 1, onnotice: () => {} })
            await sql`drop schema if exists ${sql(schema)} cascade`
            await sql.end()
            rmSync(dataDir, { recursive: true, force: true })
          },
        }
      },
    })
  }
  targets.push({
    name: 'pglite',
    async open() {
      const dataDir = tempDir()
      const store = await openStore({ url: undefined, dataDir, schema: 'public', poolSize: 1 })
      return {
        store,
        url: undefined,
        schema: 'public',
        dataDir,
        async cleanup() {
          await store.close()
          rmSync(dataDir, { recursive: true, force: true })
        },
      }
    },
  })
  return targets
}

/** Drops a test schema on the real PostgreSQL (for tests that reopen a target's store themselves). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  await sql`drop schema if exists ${sql(schema)} cascade`
  await sql.end()
}
