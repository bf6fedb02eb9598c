import { IDLE_EXIT_MS, runScript } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

// Plain `node` on the built package: housekeeping timers (rollover interval, runtime sampling,
// leak watch) must never keep a process alive on their own.
const pkg = new URL('..', import.meta.url)

describe.each(['esm', 'cjs'] as const)('process lifetime (%s, plain node on dist/)', (kind) => {
  it('a registry with its interval, runtime metrics and a leak watch lets the script exit at once', async () => {
    const run = await runScript(
      pkg,
      kind,
      `
      const registry = createRegistry({ interval: '1s' })
      runtimeMetrics(registry, { interval: '100ms' })
      leakWatch({ interval: '100ms', registry })
      registry.counter('jobs_total').inc()
      await new Promise((resolve) => setTimeout(resolve, 250))
      const text = registry.prometheus()
      console.log(text.includes('jobs_total 1'), text.includes('runtime_event_loop_delay'))
      mark()
    `,
      { imports: { '@hotpath/metrics': ['createRegistry', 'leakWatch', 'runtimeMetrics'] } },
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines).toEqual(['true true'])
    expect(run.exitGap).toBeLessThanOrEqual(IDLE_EXIT_MS)
  })
})
