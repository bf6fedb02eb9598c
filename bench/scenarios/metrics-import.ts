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

  // Wall time and CPU time (user + system) of the import; CPU time is less disturbed by other
  // processes on a shared machine.
  const timeImport = (specifier: string): [number, number] => {
    // The first import() of a process boots the ESM loader; do that before starting the clock.
    const code =
      "await import('data:text/javascript,export const warm=1'); const c = process.cpuUsage(); " +
      `const t = performance.now(); await import(${JSON.stringify(specifier)}); const w = performance.now() - t; ` +
      'const u = process.cpuUsage(c); console.log(w, (u.user + u.system) / 1000)'
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8' })
    const [wall, cpu] = out.trim().split(' ').map(Number)
    return [wall!, cpu!]
  }

  return {
    name: 'metrics/import-time',
    description: `import() time in a fresh Node process: wall and CPU time, ${RUNS} runs (ms)`,
    measure: () => {
      if (!existsSync(dist))
        throw new Error('Build @hotpath/metrics first: pnpm --filter @hotpath/metrics build')
      return modules.map((specifier) => {
        const runs = Array.from({ length: RUNS }, () => timeImport(specifier))
        const wall = runs.map((r) => r[0]).sort((a, b) => a - b)
        const cpu = runs.map((r) => r[1]).sort((a, b) => a - b)
        return {
          name: specifier.startsWith('data:') ? 'empty module (loader baseline)' : specifier,
          medianMs: Number(wall[RUNS >> 1]!.toFixed(2)),
          minMs: Number(wall[0]!.toFixed(2)),
          maxMs: Number(wall[RUNS - 1]!.toFixed(2)),
          cpuMedianMs: Number(cpu[RUNS >> 1]!.toFixed(2)),
          cpuMinMs: Number(cpu[0]!.toFixed(2)),
        }
      })
    },
  }
})
