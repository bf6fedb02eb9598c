import diagnostics from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import {
  advise,
  createRegistry,
  describeMetrics,
  type MetricsKind,
  metricsSource,
  type RegistrySnapshot,
  report,
} from '../src/index'

/** A stand-in primitive: its stats, declared as `kind`. */
const source = <S extends { stats(): object }>(kind: MetricsKind, s: S) => ({
  ...s,
  [metricsSource]: describeMetrics(kind, s.stats),
})

const summary = { count: 1, min: 1, max: 1, mean: 1, p50: 1, p90: 1, p99: 1 }

function cache(name: string, hits: number, misses: number) {
  return source('cache', {
    stats: () => ({
      name,
      l1: { enabled: true, hits, misses, size: 1, bytes: 1, evictions: 0 },
      l2: {
        enabled: false,
        hits: 0,
        misses: 0,
        errors: 0,
        timeouts: 0,
        skipped: 0,
        breaker: 'closed',
        breakerOpens: 0,
      },
      misses,
      loads: misses,
      staleServed: 0,
      hitRate: hits / (hits + misses),
    }),
  })
}

describe('advise', () => {
  it('turns real figures into recommendations, each naming its metric and value', () => {
    const registry = createRegistry()
    const pool = source('pool', {
      stats: () => ({
        name: 'db',
        size: 10,
        idle: 0,
        borrowed: 10,
        pending: 6,
        max: 10,
        acquired: 600,
        timeouts: 0,
        createErrors: 0,
        leaks: 0,
        holdTime: { ...summary, mean: 25 },
        acquireWait: summary,
      }),
    })
    const collector = registry.collect(
      cache('models', 30, 70),
      cache('users', 95, 5),
      cache('cold', 1, 9),
      pool,
    )
    for (let i = 0; i < 100; i++) {
      diagnostics.channel('hotpath:pool:acquire').publish({ pool: 'db', waitMs: i < 90 ? 1 : 80 })
    }
    const delay = registry.gauge('runtime_event_loop_delay', { unit: 'ms', labels: ['stat'] })
    delay.set(240, { stat: 'p99' })
    const http = registry.histogram('http_request_duration', {
      unit: 'ms',
      labels: ['method', 'route', 'status'],
    })
    for (let i = 0; i < 50; i++)
      http.record(i < 40 ? 20 : 300, { method: 'GET', route: '/chat', status: 200 })
    const c = registry.counter('per_user', { labels: ['user'], maxSeries: 2 })
    for (const u of ['a', 'b', 'c']) c.inc(1, { user: u })
    registry.rollover()
    // one interval of 60 s: 600 acquires → 10/s, held 25 ms → 0.25 busy → Little's law size 1
    const snapshot = { ...registry.snapshot({ view: 'interval' }), intervalMs: 60_000 }
    const cumulative = registry.snapshot()
    collector.stop()

    const advice = advise([cumulative, snapshot])
    const byRule = (rule: string) => advice.filter((a) => a.rule === rule)

    const hit = byRule('cache-hit-rate')
    expect(hit.map((a) => [a.labels.name, a.value])).toEqual([['models', 0.3]])
    expect(hit[0]!.metric).toBe('hotpath_cache_hit_ratio')
    expect(hit[0]!.message).toContain('30.0%')
    // 'cold' has only 10 reads: not judged; 'users' is at 95%
    const wait = byRule('pool-wait')[0]!
    expect(wait.metric).toBe('hotpath_pool_acquire_wait')
    expect(wait.value).toBeGreaterThanOrEqual(79)
    expect(wait.suggestion).toBe(1)
    expect(wait.message).toContain("Little's law")
    const loop = byRule('event-loop-delay')[0]!
    expect(loop).toMatchObject({ value: 240, threshold: 100, labels: { stat: 'p99' }, severity: 'warning' })
    expect(byRule('http-p95')[0]).toMatchObject({ labels: { route: '/chat' }, threshold: 100 })
    expect(byRule('http-p95')[0]!.value).toBeGreaterThanOrEqual(299)
    expect(byRule('cardinality')[0]!.metric).toBe('per_user')

    const text = report(advice)
    const lines = text.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^severity\s+metric\s+value\s+threshold\s+advice$/)
    expect(lines.length).toBe(advice.length + 2)
    expect(text).toContain('hotpath_cache_hit_ratio{name=models}')
  })

  it('flags a semaphore queue that grows across snapshots, and heap growth', () => {
    const history: RegistrySnapshot[] = []
    let waiting = 0
    let heap = 100e6
    for (let i = 0; i < 5; i++) {
      const registry = createRegistry()
      registry.collect(
        source('semaphore', {
          stats: () => ({
            name: 'jobs',
            permits: 4,
            inUse: 4,
            waiting,
            acquired: 1,
            rejected: 0,
            timedOut: 0,
          }),
        }),
      )
      registry.gauge('runtime_heap_used', { unit: 'bytes' }).set(heap)
      const snap = registry.snapshot()
      history.push({ ...snap, timestamp: i * 60_000 })
      waiting += 5
      heap += 5 * 1048576
      void registry.close()
    }
    const advice = advise(history)
    expect(advice.find((a) => a.rule === 'semaphore-queue-growing')).toMatchObject({
      metric: 'hotpath_semaphore_waiting',
      value: 20,
      labels: { name: 'jobs' },
    })
    const heapAdvice = advice.find((a) => a.rule === 'heap-growing')!
    expect(heapAdvice.metric).toBe('runtime_heap_used')
    expect(heapAdvice.value).toBeCloseTo(5 * 1048576, -3)
    // a single snapshot cannot show a trend
    expect(advise(history[4]!).find((a) => a.rule === 'semaphore-queue-growing')).toBeUndefined()
  })

  it('reports nothing for a healthy snapshot, and validates thresholds', () => {
    expect(report(advise(createRegistry().snapshot()))).toMatch(/^No recommendations/)
    expect(() => advise(createRegistry().snapshot(), { cacheHitRatio: -1 })).toThrow(
      'Expected `cacheHitRatio` to be a finite number >= 0, got `-1` (number)',
    )
  })
})
