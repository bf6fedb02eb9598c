import { fileURLToPath } from 'node:url'
import { runNodeSource } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

// Plain `node` on the built package: housekeeping timers (rollover interval, runtime sampling,
// leak watch) must never keep a process alive on their own.
const pkg = fileURLToPath(new URL('..', import.meta.url))

describe('process lifetime (plain node, built package)', () => {
  for (const kind of ['esm', 'cjs'] as const) {
    it(`${kind}: a registry with its interval, runtime metrics and a leak watch lets the script exit at once`, async () => {
      const load =
        kind === 'esm'
          ? "import { createRegistry, runtimeMetrics, leakWatch } from '@hotpath/metrics'"
          : "const { createRegistry, runtimeMetrics, leakWatch } = require('@hotpath/metrics')"
      const run = await runNodeSource(
        pkg,
        kind,
        `${load}
        let last = 0
        process.on('exit', () => console.log('exit-gap', Math.round(performance.now() - last)))
        const registry = createRegistry({ interval: '1s' })
        runtimeMetrics(registry, { interval: '100ms' })
        leakWatch({ interval: '100ms', registry })
        registry.counter('jobs_total').inc()
        setTimeout(() => {
          console.log(registry.prometheus().includes('jobs_total 1'), registry.prometheus().includes('runtime_event_loop_delay'))
          last = performance.now()
        }, 250)
      `,
      )
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      expect(run.lines[0]).toBe('true true')
      expect(Number(run.lines[1]?.split(' ')[1])).toBeLessThan(200)
    })
  }
})
