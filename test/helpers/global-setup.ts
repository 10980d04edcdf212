// Finds out once whether the real PostgreSQL answers; store tests run against it and PGlite, or PGlite only.
import postgres from 'postgres'
import type { TestProject } from 'vitest/node'

export const testDatabaseUrl = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

export default async function setup(project: TestProject) {
  const sql = postgres(testDatabaseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} })
  let available = false
  try {
    await sql`select 1`
    available = true
  } catch (e) {
    process.stdout.write(
      `PostgreSQL at ${testDatabaseUrl.replace(/:[^:@/]*@/, ':***@')} does not answer (${(e as Error).message}); store tests run on PGlite only\n`,
    )
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
  project.provide('postgresUrl', available ? testDatabaseUrl : '')
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string
  }
}
