import { defineConfig } from 'vitest/config'

// Three tiers, told apart by file name (README "Tests"):
// - unit: `*.test.ts` — no sockets, no processes (test/unit-guard.ts makes either fail at once);
// - integration: `*.int.test.ts` — an in-process node, sockets on loopback, real LevelDB, services;
// - e2e: `*.e2e.test.ts` — processes (the `cairn` CLI, crash kills), real clients, the browser, conformance.
// `npm test` runs all three; `npm run test:unit` is the inner loop.
const INT = '**/*.int.test.ts'
const E2E = '**/*.e2e.test.ts'
const ROOTS = ['packages/*/test/**', 'conformance/**', 'test/**']

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ROOTS.map((r) => `${r}/*.test.ts`),
          exclude: [INT, E2E, '**/node_modules/**'],
          setupFiles: ['test/unit-guard.ts'],
        },
      },
      { extends: true, test: { name: 'integration', include: ROOTS.map((r) => `${r}/*.int.test.ts`) } },
      { extends: true, test: { name: 'e2e', include: ROOTS.map((r) => `${r}/*.e2e.test.ts`) } },
    ],
  },
})
