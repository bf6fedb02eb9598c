import diagnostics from 'node:diagnostics_channel'
import { readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { setClock } from '@hotpath/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  cpuProfile,
  createRegistry,
  heapProfile,
  heapSnapshot,
  type LeakReport,
  LowMemoryError,
  leakWatch,
  linearFit,
  ProfilerBusyError,
} from '../src/index'
import { runFixture } from './fixtures/run'

const tmp = (name: string) => join(os.tmpdir(), `hotpath-metrics-${process.pid}-${name}`)

afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
  setClock()
})

function burn(ms: number) {
  const until = performance.now() + ms
  let x = 0
  while (performance.now() < until) x += Math.sqrt(x + 1)
  return x
}

describe('cpuProfile', () => {
  it('writes a .cpuprofile Chrome DevTools accepts (nodes, samples, timeDeltas)', async () => {
    const path = tmp('a.cpuprofile')
    try {
      const running = cpuProfile({ duration: 300, path, samplingInterval: 500 })
      setTimeout(() => burn(150), 20)
      const profile = await running
      const file = JSON.parse(readFileSync(path, 'utf8'))
      for (const p of [profile, file]) {
        expect(Array.isArray(p.nodes) && p.nodes.length).toBeGreaterThan(1)
        expect(p.nodes[0]).toMatchObject({ id: 1, callFrame: { functionName: '(root)' } })
        expect(p.samples.length).toBeGreaterThan(50)
        expect(p.timeDeltas.length).toBe(p.samples.length)
        expect(p.endTime).toBeGreaterThan(p.startTime)
      }
      const names = new Set(profile.nodes.map((n) => n.callFrame.functionName))
      expect(names.has('burn')).toBe(true)
    } finally {
      rmSync(path, { force: true })
    }
  })

  it('allows one CPU profile at a time and stops early on abort', async () => {
    const controller = new AbortController()
    const first = cpuProfile({ duration: '1h', signal: controller.signal })
    await expect(cpuProfile({ duration: 10 })).rejects.toBeInstanceOf(ProfilerBusyError)
    setTimeout(() => controller.abort(), 50)
    const started = performance.now()
    const profile = await first
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(profile.samples.length).toBeGreaterThan(0)
    // free again
    await expect(cpuProfile({ duration: 10 })).resolves.toHaveProperty('samples')
  })
})

describe('heap', () => {
  it('heapProfile samples allocations', async () => {
    const keep: unknown[] = []
    const running = heapProfile({ duration: 200, samplingInterval: 1024 })
    const timer = setInterval(() => {
      for (let i = 0; i < 2_000; i++) keep.push({ i, s: `value-${i}` })
    }, 10)
    const profile = await running
    clearInterval(timer)
    expect(profile.head.callFrame).toBeDefined()
    expect(profile.samples.length).toBeGreaterThan(0)
    expect(keep.length).toBeGreaterThan(0)
  })

  it('heapSnapshot is refused with a typed error when free memory is below twice the heap', async () => {
    vi.spyOn(os, 'freemem').mockReturnValue(1024)
    const error = await heapSnapshot().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LowMemoryError)
    expect(error).toMatchObject({ code: 'E_METRICS_LOW_MEMORY', freeBytes: 1024 })
    expect((error as LowMemoryError).heapUsedBytes).toBeGreaterThan(0)
  })

  it('heapSnapshot writes a snapshot when memory allows (fresh process)', async () => {
    const path = tmp('b.heapsnapshot')
    try {
      const { stdout, stderr } = await runFixture('snapshot-child.ts', [path], 30_000)
      expect(stderr).toBe('')
      const { written, size } = JSON.parse(stdout)
      expect(written).toBe(path)
      expect(size).toBeGreaterThan(100_000)
      expect(readFileSync(path, 'utf8').slice(0, 12)).toBe('{"snapshot":')
    } finally {
      rmSync(path, { force: true })
    }
  })
})

describe('leakWatch', () => {
  it('linearFit gives slope and R²', () => {
    expect(linearFit([0, 1, 2, 3], [1, 3, 5, 7])).toEqual({ slope: 2, r2: 1 })
    expect(linearFit([0, 1, 2, 3], [5, 5, 5, 5]).slope).toBe(0)
    expect(linearFit([0], [1])).toEqual({ slope: 0, r2: 0 })
  })

  it('reports sustained growth with its rate and confidence, once per episode', () => {
    vi.useFakeTimers()
    setClock({ now: () => Date.now(), monotonic: () => Date.now() })
    let heap = 50e6
    let step = 2e6
    let noise = 1
    const leaks: LeakReport[] = []
    const published: unknown[] = []
    const listener = (m: unknown) => published.push(m)
    diagnostics.subscribe('hotpath:metrics:leak', listener)
    const registry = createRegistry()
    const watch = leakWatch({
      interval: '1m',
      window: 10,
      registry,
      measure: () => {
        heap += step
        noise = -noise
        return heap + noise * 2e5
      },
      onLeak: (r) => leaks.push(r),
    })
    try {
      vi.advanceTimersByTime(5 * 60_000)
      expect(watch.report()).toMatchObject({ samples: 6, growing: false })
      vi.advanceTimersByTime(5 * 60_000)
      const r = watch.report()
      expect(r.growing).toBe(true)
      expect(r.bytesPerMinute).toBeGreaterThan(1.8e6)
      expect(r.bytesPerMinute).toBeLessThan(2.2e6)
      expect(r.confidence).toBeGreaterThan(0.95)
      vi.advanceTimersByTime(5 * 60_000)
      expect(leaks).toHaveLength(1)
      expect(published).toHaveLength(1)
      const snap = registry.snapshot()
      const rate = snap.metrics.find((m) => m.name === 'runtime_heap_growth_rate')!.series[0]!.value!
      expect(rate).toBeGreaterThan(1.8e6)
      // the heap levels off: noise only, no sustained growth
      step = 0
      vi.advanceTimersByTime(10 * 60_000)
      const flat = watch.report()
      expect(flat.growing).toBe(false)
      expect(flat.confidence).toBeLessThan(0.5)
    } finally {
      watch.stop()
      diagnostics.unsubscribe('hotpath:metrics:leak', listener)
    }
  })

  it('validates its options', () => {
    expect(() => leakWatch({ window: 1 })).toThrow(
      'Expected `window` to be an integer between 3 and 10000, got `1` (number)',
    )
  })
})
