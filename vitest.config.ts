import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests and benches run on source: every workspace package's `exports` has this condition
// pointing at `src/*.ts`. Otherwise resolve as Node does (no bundler-only `module` condition:
// some dependencies' `module` builds use imports that only a bundler can follow).
const conditions = ['@hotpath/source', 'node', 'development|production']

const roots = [
  ...['packages', 'examples', 'scripts'].flatMap((dir) =>
    existsSync(dir) ? readdirSync(dir).map((name) => `${dir}/${name}`) : [],
  ),
  // The benchmarks' own tests (bench/test): scenario analysis and quick runs.
  'bench',
]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@hotpath/source'] } },
  test: {
    // Process tests run plain `node` on dist/: build what is stale first.
    globalSetup: [fileURLToPath(new URL('./scripts/ensure-built.ts', import.meta.url))],
    projects: [
      ...roots
        .filter((root) => existsSync(`${root}/test`))
        .map((root) => ({
          extends: true as const,
          test: {
            name: root.split('/').at(-1),
            root,
            include: ['test/**/*.test.ts'],
            environment: 'node',
            testTimeout: 30_000,
            hookTimeout: 60_000,
          },
        })),
      {
        extends: true as const,
        // Type tests: every package's `test/*.test-d.ts`, checked by one `tsc` run over
        // tsconfig.type-tests.json. A wrong `expectTypeOf` expectation fails the run.
        test: {
          name: 'types',
          root: '.',
          typecheck: {
            enabled: true,
            only: true,
            include: ['packages/*/test/**/*.test-d.ts'],
            tsconfig: fileURLToPath(new URL('./tsconfig.type-tests.json', import.meta.url)),
          },
        },
      },
    ],
  },
})
