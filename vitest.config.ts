import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Store tests share one PostgreSQL server (each file in its own schema); PGlite is CPU-bound.
    maxWorkers: 2,
  },
})
