import { describe, expect, it } from 'vitest'
import { createRegistry, runtimeMetrics } from '../src/index'
import { runFixture } from './fixtures/run'

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('runtimeMetrics', () => {
  it('a forced busy loop shows in the event-loop delay of that interval only', async () => {
    const registry = createRegistry()
    const runtime = runtimeMetrics(registry, { interval: '1h', resolution: 10, gc: false })
    try {
      await wait(40)
      const until = performance.now() + 150
      while (performance.now() < until) {}
      await wait(40)
      const busy = runtime.sample()
      expect(busy.eventLoopDelay.max).toBeGreaterThanOrEqual(100)
      expect(busy.eventLoopDelay.p99).toBeGreaterThanOrEqual(100)
      expect(busy.eventLoopUtilization).toBeGreaterThan(0.4)
      const delay = registry.snapshot().metrics.find((m) => m.name === 'runtime_event_loop_delay')!
      expect(delay.series.find((s) => s.labels.stat === 'max')!.value).toBe(busy.eventLoopDelay.max)
      await wait(60)
      const idle = runtime.sample()
      // reset each interval: the busy loop's delay is not carried into the next reading
      expect(idle.eventLoopDelay.max).toBeLessThan(busy.eventLoopDelay.max)
      expect(idle.eventLoopUtilization).toBeLessThan(busy.eventLoopUtilization)
      expect(idle.heapUsed).toBeGreaterThan(0)
      expect(idle.rss).toBeGreaterThanOrEqual(idle.heapTotal)
      expect(idle.activeResources).toBeGreaterThan(0)
      expect(runtime.last).toBe(idle)
    } finally {
      runtime.stop()
    }
  })

  it('records garbage collections by kind', async () => {
    const registry = createRegistry()
    const runtime = runtimeMetrics(registry, { interval: '1h' })
    try {
      let keep: unknown[] = []
      for (let i = 0; i < 200_000; i++) {
        keep.push({ i, s: `x${i}` })
        if (keep.length > 10_000) keep = []
      }
      await wait(50)
      const gc = registry.snapshot().metrics.find((m) => m.name === 'runtime_gc_duration')!
      const minor = gc.series.find((s) => s.labels.kind === 'minor')
      expect(minor?.count).toBeGreaterThan(0)
    } finally {
      runtime.stop()
    }
  })

  it('stop() leaves no observer or timer alive: a child process using it exits by itself', async () => {
    const { stdout, code, stderr } = await runFixture('runtime-child.ts', [], 15_000)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const { before, after, samples } = JSON.parse(stdout)
    expect(samples).toBeGreaterThanOrEqual(2)
    expect(after.filter((r: string) => r === 'Timeout').length).toBeLessThanOrEqual(
      before.filter((r: string) => r === 'Timeout').length,
    )
  })

  it('validates its options', () => {
    expect(() => runtimeMetrics(createRegistry(), { resolution: 0 })).toThrow(
      'Expected `resolution` to be an integer between 1 and 1000, got `0` (number)',
    )
  })
})
