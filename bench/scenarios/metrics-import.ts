import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineScenario } from '../lib/scenario'

// Import time in a fresh process, on the built package (what applications load). Run
// `pnpm --filter @hotpath/metrics build` first.
export default defineScenario(() => {
  const cwd = fileURLToPath(new URL('..', import.meta.url))
  const dist = fileURLToPath(new URL('../../packages/metrics/dist/index.mjs', import.meta.url))
  const modules = [
    'data:text/javascript,export{}',
    '@hotpath/core',
    '@hotpath/metrics',
    'prom-client',
    'hdr-histogram-js',
  ]
  const RUNS = 7

  const timeImport = (specifier: string): number => {
    // The first import() of a process boots the ESM loader; do that before starting the clock.
    const code =
      "await import('data:text/javascript,export const warm=1'); const t = performance.now(); " +
      `await import(${JSON.stringify(specifier)}); console.log(performance.now() - t)`
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8' })
    return Number(out.trim())
  }

  return {
    name: 'metrics/import-time',
    description: `import() time in a fresh Node process, median and max of ${RUNS} runs (ms)`,
    measure: () => {
      if (!existsSync(dist))
        throw new Error('Build @hotpath/metrics first: pnpm --filter @hotpath/metrics build')
      return modules.map((specifier) => {
        const times = Array.from({ length: RUNS }, () => timeImport(specifier)).sort((a, b) => a - b)
        return {
          name: specifier.startsWith('data:') ? 'empty module (loader baseline)' : specifier,
          medianMs: Number(times[RUNS >> 1]!.toFixed(2)),
          minMs: Number(times[0]!.toFixed(2)),
          maxMs: Number(times[RUNS - 1]!.toFixed(2)),
        }
      })
    },
  }
})
