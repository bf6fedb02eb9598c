import { availableParallelism } from 'node:os'
import { createWorkerPool } from '@hotpath/concurrency/workers'
import { describe, expect, it } from 'vitest'
import { advise, createRegistry, type RegistrySnapshot, sourceKind } from '../src/index'
import { parse } from './parse-prometheus'

const fixture = new URL('./fixtures/worker.mjs', import.meta.url)

describe('collect(): worker pools', () => {
  it('exports a real worker pool with its counts, gauges and durations in seconds', async () => {
    await using workers = createWorkerPool<{ n: number; fail?: boolean }, number>({
      filename: fixture,
      name: 'hash',
      maxThreads: 2,
    })
    expect(
      await Promise.all([workers.run({ n: 10 }), workers.run({ n: 100 }), workers.run({ n: 4 })]),
    ).toEqual([55, 5050, 10])
    await expect(workers.run({ n: 1, fail: true })).rejects.toThrow('bad input 1')
    expect(sourceKind(workers)).toBe('worker-pool')

    const registry = createRegistry()
    registry.collect(workers)
    const text = registry.prometheus()
    const byName = new Map(parse(text).map((f) => [f.name, f]))
    const value = (name: string) => {
      const family = byName.get(name)
      expect(family, name).toBeDefined()
      expect(family!.metrics, name).toHaveLength(1)
      expect(family!.metrics[0]!.labels).toEqual({ name: 'hash' })
      return Number(family!.metrics[0]!.value)
    }
    expect(value('hotpath_workers_completed_total')).toBe(3)
    expect(value('hotpath_workers_failed_total')).toBe(1)
    expect(value('hotpath_workers_cancelled_total')).toBe(0)
    expect(value('hotpath_workers_timed_out_total')).toBe(0)
    expect(value('hotpath_workers_rejected_total')).toBe(0)
    expect(value('hotpath_workers_max_threads')).toBe(2)
    expect(value('hotpath_workers_busy')).toBe(0)
    expect(value('hotpath_workers_queued')).toBe(0)
    const threads = value('hotpath_workers_threads')
    expect(threads).toBeGreaterThanOrEqual(1)
    expect(threads).toBeLessThanOrEqual(2)
    const utilization = value('hotpath_workers_utilization')
    expect(utilization).toBeGreaterThanOrEqual(0)
    expect(utilization).toBeLessThanOrEqual(1)
    // durations are recorded in ms and exported in seconds; read against what stats() said
    const now = workers.stats()
    expect(value('hotpath_workers_wait_p99_seconds')).toBeCloseTo(now.waitMs.p99 / 1000, 9)
    expect(value('hotpath_workers_run_mean_seconds')).toBeCloseTo(now.runMs.mean / 1000, 9)
    expect(now.runMs.mean).toBeGreaterThan(0)
    // recognised before the semaphore: nothing falls through to the generic family or another kind
    expect(byName.has('hotpath_stat')).toBe(false)
    expect(byName.has('hotpath_semaphore_rejected_total')).toBe(false)
    // the snapshot keeps the recorded unit
    const snap = registry.snapshot()
    const wait = snap.metrics.find((m) => m.name === 'hotpath_workers_wait_p99')!
    expect(wait.series[0]!.value).toBe(now.waitMs.p99)
    registry.close()
  })
})

/** A snapshot holding one worker pool's gauges (and the event-loop utilization, when given). */
function snapshot(pool: {
  utilization: number
  queued?: number
  threads?: number
  maxThreads?: number
  waitP99?: number
  elu?: number
}): RegistrySnapshot {
  const labels = { name: 'resize' }
  const gauge = (name: string, value: number, l: Record<string, string> = labels) => ({
    name,
    type: 'gauge' as const,
    help: '',
    unit: '',
    series: [{ labels: l, value }],
  })
  const metrics = [
    gauge('hotpath_workers_utilization', pool.utilization),
    gauge('hotpath_workers_queued', pool.queued ?? 0),
    gauge('hotpath_workers_threads', pool.threads ?? 2),
    gauge('hotpath_workers_max_threads', pool.maxThreads ?? 2),
    gauge('hotpath_workers_wait_p99', pool.waitP99 ?? 1),
  ]
  if (pool.elu !== undefined) metrics.push(gauge('runtime_event_loop_utilization', pool.elu, {}))
  return { timestamp: 0, metrics } as unknown as RegistrySnapshot
}

const rules = (s: RegistrySnapshot, o = {}) => advise(s, o).filter((a) => a.rule !== 'event-loop-utilization')

describe('advise(): worker pools', () => {
  const cores = availableParallelism()

  it('a busy pool with work queued: more threads, capped at the cores', () => {
    const [a, ...rest] = rules(snapshot({ utilization: 0.85, queued: 12, threads: 1, maxThreads: 1 }))
    expect(rest).toEqual([])
    expect(a).toMatchObject({
      rule: 'worker-pool-saturated',
      severity: 'warning',
      metric: 'hotpath_workers_utilization',
      labels: { name: 'resize' },
      value: 0.85,
      threshold: 0.8,
    })
    expect(a!.message).toContain('utilization is 85.0% with 12 tasks queued')
    if (cores > 1) {
      expect(a!.suggestion).toBe(Math.min(cores, 2))
      expect(a!.message).toContain(
        `raise maxThreads from 1 to ${Math.min(cores, 2)} (this machine has ${cores} cores)`,
      )
    }
  })

  it('a pool already at the cores: shed load, no thread count', () => {
    const [a] = rules(snapshot({ utilization: 0.9, queued: 3, threads: cores, maxThreads: cores }))
    expect(a).toMatchObject({ rule: 'worker-pool-saturated', value: 0.9 })
    expect(a!.suggestion).toBeUndefined()
    expect(a!.message).toContain(`maxThreads is already ${cores} for ${cores} cores — shed load`)
  })

  it('a long wait for a thread fires on the wait p99, with the workerWaitP99 threshold', () => {
    const s = snapshot({ utilization: 0.5, waitP99: 120 })
    const [a] = rules(s)
    expect(a).toMatchObject({
      rule: 'worker-pool-saturated',
      metric: 'hotpath_workers_wait_p99',
      value: 120,
      threshold: 50,
    })
    expect(a!.message).toContain('wait p99 is 120 ms (above 50 ms)')
    expect(rules(s, { workerWaitP99: 200 })).toEqual([])
  })

  it('a mostly idle pool with several threads: fewer threads', () => {
    const [a, ...rest] = rules(snapshot({ utilization: 0.05, threads: 8, maxThreads: 8 }))
    expect(rest).toEqual([])
    expect(a).toMatchObject({
      rule: 'worker-pool-idle',
      severity: 'info',
      metric: 'hotpath_workers_utilization',
      value: 0.05,
      threshold: 0.2,
      suggestion: 1,
    })
    expect(a!.message).toContain('utilization is 5.0% with 8 threads alive: about 1 thread would do')
  })

  it('a busy main thread next to an idle pool: move the CPU work into the pool', () => {
    const all = advise(snapshot({ utilization: 0.1, threads: 1, maxThreads: 4, elu: 0.97 }))
    const a = all.find((x) => x.rule === 'cpu-on-main-thread')
    expect(a).toMatchObject({
      severity: 'warning',
      metric: 'runtime_event_loop_utilization',
      value: 0.97,
      threshold: 0.9,
    })
    expect(a!.message).toContain(
      'Event-loop utilization is 97.0% while worker pool `resize` is below 20.0% utilization',
    )
    expect(a!.message).toContain('CPU work still runs on the main thread')
    // the main thread within its threshold, or the pool busy: nothing about moving work
    expect(advise(snapshot({ utilization: 0.1, threads: 1, elu: 0.5 }))).toEqual([])
    expect(advise(snapshot({ utilization: 0.5, threads: 1, elu: 0.97 })).map((x) => x.rule)).toEqual([
      'event-loop-utilization',
    ])
  })

  it('stays quiet within the thresholds', () => {
    expect(advise(snapshot({ utilization: 0.5, queued: 0, threads: 2, waitP99: 10 }))).toEqual([])
    // busy but nothing queued
    expect(advise(snapshot({ utilization: 0.95, queued: 0, threads: 2 }))).toEqual([])
    // idle with a single thread
    expect(advise(snapshot({ utilization: 0.01, threads: 1 }))).toEqual([])
    expect(() => advise(snapshot({ utilization: 0.5 }), { workerWaitP99: -1 })).toThrow(TypeError)
  })
})
