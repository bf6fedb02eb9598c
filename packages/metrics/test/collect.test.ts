import diagnostics from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { collect, createRegistry, type RegistrySnapshot, sourceKind } from '../src/index'

const summary = { count: 10, min: 1, max: 9, mean: 4, p50: 4, p90: 8, p99: 9 }
const cacheStats = {
  name: 'router',
  l1: { enabled: true, hits: 60, misses: 40, size: 12, bytes: 4096, evictions: 3 },
  l2: {
    enabled: true,
    hits: 10,
    misses: 30,
    errors: 1,
    timeouts: 2,
    skipped: 0,
    breaker: 'open',
    breakerOpens: 1,
  },
  misses: 30,
  loads: 30,
  loadErrors: 0,
  loaderTimeouts: 0,
  staleServed: 5,
  codecErrors: 0,
  hitRate: 0.7,
  tags: 0,
  bus: undefined,
}
const poolStats = {
  name: 'db',
  size: 10,
  idle: 0,
  borrowed: 10,
  pending: 7,
  creating: 0,
  min: 2,
  max: 10,
  acquired: 500,
  timeouts: 4,
  createErrors: 0,
  leaks: 0,
  acquireWait: summary,
  holdTime: summary,
  createTime: summary,
}
const semStats = {
  name: 'jobs',
  permits: 4,
  inUse: 4,
  waiting: 12,
  acquired: 9,
  rejected: 1,
  timedOut: 0,
  aborted: 0,
  waitTime: summary,
}

function value(snap: RegistrySnapshot, metric: string, labels: Record<string, string> = {}) {
  const m = snap.metrics.find((x) => x.name === metric)
  const s = m?.series.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))
  return s
}

describe('collect', () => {
  it('recognises sources by the shape of stats()', () => {
    expect(sourceKind(cacheStats)).toBe('cache')
    expect(sourceKind(poolStats)).toBe('pool')
    expect(sourceKind(semStats)).toBe('semaphore')
    expect(sourceKind({ name: 'r', algorithm: 'gcra', keys: 1, allowed: 1, denied: 0, evicted: 0 })).toBe(
      'rate-limiter',
    )
    expect(sourceKind({ limit: 5, inFlight: 1, waiting: 0, minRtt: 3 })).toBe('adaptive-limiter')
    expect(sourceKind({ checks: 1, scheduler: {}, active: 1 })).toBe('poller')
    expect(sourceKind({ whatever: 1 })).toBe('other')
  })

  it('polls stats() before each snapshot into metrics with stable names', () => {
    const registry = createRegistry()
    let pending = 7
    const pool = { stats: () => ({ ...poolStats, pending }) }
    const collector = registry.collect({ stats: () => cacheStats }, pool, { stats: () => semStats })
    collector.add(
      { stats: () => ({ name: 'custom', depth: 3, label: 'x' }) },
      { stats: () => ({ depth: 1 }) },
    )
    let snap = registry.snapshot()
    expect(value(snap, 'hotpath_cache_hit_ratio', { name: 'router' })?.value).toBe(0.7)
    expect(value(snap, 'hotpath_cache_l1_hits', { name: 'router' })?.value).toBe(60)
    expect(value(snap, 'hotpath_cache_l2_breaker_open', { name: 'router' })?.value).toBe(1)
    expect(value(snap, 'hotpath_pool_pending', { name: 'db' })?.value).toBe(7)
    expect(value(snap, 'hotpath_pool_acquired', { name: 'db' })?.value).toBe(500)
    expect(value(snap, 'hotpath_semaphore_waiting', { name: 'jobs' })?.value).toBe(12)
    expect(value(snap, 'hotpath_stat', { name: 'custom', field: 'depth' })?.value).toBe(3)
    expect(value(snap, 'hotpath_stat', { name: 'source4', field: 'depth' })?.value).toBe(1)
    pending = 2
    snap = registry.snapshot()
    expect(value(snap, 'hotpath_pool_pending', { name: 'db' })?.value).toBe(2)
    expect(registry.prometheus()).toContain('hotpath_pool_acquired_total{name="db"} 500')
    collector.stop()
    pending = 99
    expect(value(registry.snapshot(), 'hotpath_pool_pending', { name: 'db' })?.value).toBe(2)
  })

  it('subscribes to hotpath channels and unsubscribes on stop()', async () => {
    const registry = createRegistry()
    const collector = collect(registry)
    expect(diagnostics.channel('hotpath:pool:acquire').hasSubscribers).toBe(true)
    diagnostics.channel('hotpath:pool:acquire').publish({ pool: 'db', waitMs: 12 })
    diagnostics.channel('hotpath:pool:acquire').publish({ pool: 'db', waitMs: 40 })
    diagnostics.channel('hotpath:concurrency:acquire').publish({ name: 'jobs', weight: 1, waitMs: 5 })
    diagnostics
      .channel('hotpath:concurrency:lock-wait')
      .publish({ name: 'token_lock', kind: 'mutex', waitMs: 2, slow: false })
    diagnostics
      .channel('hotpath:poller:settle')
      .publish({ name: 'video', outcome: 'done', attempts: 3, durationMs: 900 })
    diagnostics.channel('hotpath:pool:acquire').publish({ garbage: true })
    const tracer = diagnostics.tracingChannel('hotpath:cache:load')
    await tracer.tracePromise(() => new Promise((r) => setTimeout(r, 20)), { cache: 'router', key: 'k' })
    const snap = registry.snapshot()
    expect(value(snap, 'hotpath_pool_acquire_wait', { name: 'db' })).toMatchObject({ count: 2, max: 40 })
    expect(value(snap, 'hotpath_semaphore_wait', { name: 'jobs' })?.count).toBe(1)
    expect(value(snap, 'hotpath_lock_wait', { name: 'token_lock', kind: 'mutex' })?.count).toBe(1)
    expect(value(snap, 'hotpath_poller_settled', { name: 'video', outcome: 'done' })?.value).toBe(1)
    expect(value(snap, 'hotpath_pool_acquire_wait', { name: 'unknown' })?.count).toBe(1)
    expect(value(snap, 'hotpath_cache_load_duration', { name: 'router' })?.min).toBeGreaterThanOrEqual(15)
    collector.stop()
    expect(diagnostics.channel('hotpath:pool:acquire').hasSubscribers).toBe(false)
    expect(diagnostics.channel('hotpath:concurrency:acquire').hasSubscribers).toBe(false)
  })

  it('refuses sources without stats()', () => {
    expect(() => collect(createRegistry(), {} as never)).toThrow(
      'Expected `sources` to be objects with a stats() method, got `[object]` (object)',
    )
    // nothing was subscribed by the refused call
    expect(diagnostics.channel('hotpath:pool:acquire').hasSubscribers).toBe(false)
  })

  it('disposes like stop()', () => {
    const collector = collect(createRegistry())
    expect(diagnostics.channel('hotpath:cache:stale').hasSubscribers).toBe(true)
    collector[Symbol.dispose]()
    expect(diagnostics.channel('hotpath:cache:stale').hasSubscribers).toBe(false)
  })

  it('registry.close() stops collectors it started', async () => {
    const registry = createRegistry()
    registry.collect()
    expect(diagnostics.channel('hotpath:poller:settle').hasSubscribers).toBe(true)
    await registry.close()
    expect(diagnostics.channel('hotpath:poller:settle').hasSubscribers).toBe(false)
  })
})
