import diagnostics from 'node:diagnostics_channel'
import { cacheChannels } from '@hotpath/cache'
import { concurrencyChannels, Semaphore } from '@hotpath/concurrency'
import { pollerChannels } from '@hotpath/poller'
import { poolChannels } from '@hotpath/pool'
import { describe, expect, it } from 'vitest'
import {
  collect,
  createRegistry,
  describeMetrics,
  type MetricsKind,
  metricsSource,
  type RegistrySnapshot,
  sourceKind,
} from '../src/index'

/** A stand-in primitive declaring `kind`, reading `stats`. */
const source = (kind: MetricsKind, stats: () => object) => ({ [metricsSource]: describeMetrics(kind, stats) })

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
  it('takes the kind a source declares through metricsSource', () => {
    const semaphore = new Semaphore({ permits: 2, name: 'jobs' })
    expect(sourceKind(semaphore)).toBe('semaphore')
    // the declared kind wins over the shape of the stats
    expect(sourceKind(source('other', () => poolStats))).toBe('other')
    expect(sourceKind(source('pool', () => ({})))).toBe('pool')
  })

  it('collects a custom object implementing metricsSource, under its declared kind', async () => {
    const registry = createRegistry()
    let depth = 3
    const queue = {
      items: [] as string[],
      [metricsSource]: () => ({
        kind: 'queue' as const,
        stats: () => ({ name: 'inbox', size: depth, capacity: 10 }),
      }),
    }
    registry.collect(
      queue,
      source('other', () => ({ name: 'custom', depth, label: 'x' })),
    )
    expect(value(registry.snapshot(), 'hotpath_queue_size', { name: 'inbox' })?.value).toBe(3)
    depth = 8
    const snap = registry.snapshot()
    expect(value(snap, 'hotpath_queue_size', { name: 'inbox' })?.value).toBe(8)
    expect(value(snap, 'hotpath_queue_capacity', { name: 'inbox' })?.value).toBe(10)
    expect(value(snap, 'hotpath_stat', { name: 'custom', field: 'depth' })?.value).toBe(8)
    expect(value(snap, 'hotpath_stat', { name: 'custom', field: 'label' })).toBeUndefined()
    await registry.close()
  })

  it('refuses a plain object with stats() but no metricsSource, and a bad descriptor', () => {
    const expected =
      'Expected `sources` to be objects implementing [metricsSource] from @hotpath/core (hotpath primitives do)'
    const registry = createRegistry()
    expect(() => collect(registry, { stats: () => poolStats } as never)).toThrow(TypeError)
    expect(() => collect(registry, { stats: () => poolStats } as never)).toThrow(
      `${expected}, got \`[object]\` (object)`,
    )
    const collector = collect(registry)
    expect(() => collector.add({ stats: () => semStats } as never)).toThrow(expected)
    const badKind = { [metricsSource]: () => ({ kind: 'teapot', stats: () => ({}) }) }
    expect(() => collector.add(badKind as never)).toThrow(`${expected}, returning { kind, stats() }`)
    collector.stop()
  })

  it('subscribes to channel names the packages export', () => {
    const collector = collect(createRegistry())
    const names = [
      poolChannels.acquire,
      poolChannels.create,
      poolChannels.slowQuery,
      poolChannels.destroy,
      concurrencyChannels.acquire,
      concurrencyChannels.reject,
      concurrencyChannels.lockWait,
      concurrencyChannels.rateLimited,
      cacheChannels.stale,
      cacheChannels.bus,
      pollerChannels.settle,
      pollerChannels.job,
    ]
    for (const name of names) expect([name, diagnostics.channel(name).hasSubscribers]).toEqual([name, true])
    expect(diagnostics.tracingChannel(cacheChannels.load).start.hasSubscribers).toBe(true)
    collector.stop()
    for (const name of names) expect([name, diagnostics.channel(name).hasSubscribers]).toEqual([name, false])
  })

  it('polls stats() before each snapshot into metrics with stable names', () => {
    const registry = createRegistry()
    let pending = 7
    const pool = source('pool', () => ({ ...poolStats, pending }))
    const collector = registry.collect(
      source('cache', () => cacheStats),
      pool,
      source('semaphore', () => semStats),
    )
    collector.add(
      source('other', () => ({ name: 'custom', depth: 3, label: 'x' })),
      source('other', () => ({ depth: 1 })),
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

  it('refuses sources without metricsSource', () => {
    expect(() => collect(createRegistry(), {} as never)).toThrow(
      'Expected `sources` to be objects implementing [metricsSource] from @hotpath/core (hotpath primitives do), got `[object]` (object)',
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
