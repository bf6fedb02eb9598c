import { spawn, spawnSync } from 'node:child_process'
import { createCache } from '@hotpath/cache'
import { RateLimiter, Semaphore } from '@hotpath/concurrency'
import { createWorkerPool } from '@hotpath/concurrency/workers'
import { pollerMetrics } from '@hotpath/poller'
import { createPool } from '@hotpath/pool'
import { afterEach, describe, expect, it } from 'vitest'
import { createRegistry, type Registry, runtimeMetrics } from '../src/index'
import { parse } from './parse-prometheus'

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0

/** Pipes `text` through `promtool check metrics`; resolves with its exit code and output. */
function promtool(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
    child.stdin.end(text)
  })
}

const closers: Array<() => unknown> = []
afterEach(async () => {
  while (closers.length) await closers.pop()!()
})

const UNIT_NAMES = {
  ms: 'wait',
  s: 'run',
  us: 'parse',
  ns: 'hash',
  bytes: 'payload',
  '': 'batch',
  requests: 'fanout',
}

/** A registry fed by every kind of source, each metric with help text as promtool requires. */
async function everything(): Promise<Registry> {
  const registry = createRegistry({ prefix: 'app_' })
  closers.push(() => registry.close())
  registry.counter('jobs', { help: 'Jobs run.', labels: ['queue'] }).inc(3, { queue: 'mail' })
  registry.counter('restarts', { help: 'Restarts (never happened).' })
  registry.counter('unused', { help: 'Labeled and never used.', labels: ['kind'] })
  registry.counter('busy_time_total', { help: 'Time spent busy.', unit: 'ms' }).inc(1500)
  registry.gauge('in_flight', { help: 'Requests in flight.' }).set(2)
  registry.gauge('heap', { help: 'Heap in use.', unit: 'bytes' }).set(1024)
  registry.gauge('lag_ms', { help: 'Replication lag.', unit: 'ms' }).set(250)
  registry.gauge('never_set', { help: 'A gauge nobody set.' })
  for (const [unit, name] of Object.entries(UNIT_NAMES)) {
    const h = registry.histogram(name, { help: `Histogram in '${unit}'.`, unit })
    for (const v of [1, 2, 5, 10, 250]) h.record(v)
  }
  const routes = registry.histogram('route_latency', { help: 'Latency by route.', labels: ['route'] })
  routes.with({ route: '/a' }).record(12)
  routes.with({ route: 'say "hi"\\\n' }).record(3)
  registry.histogram('request_duration_milliseconds', { help: 'Named with its unit.', unit: 'ms' }).record(5)
  registry.histogram('idle_wait', { help: 'Nothing recorded yet.', unit: 'ms' })

  const semaphore = new Semaphore({ permits: 2, name: 'jobs' })
  await semaphore.run(async () => {})
  const limiter = new RateLimiter({ limit: 1, window: '1m', name: 'api' })
  limiter.consume('u1')
  limiter.consume('u1')
  const cache = createCache({ namespace: 'router', ttl: '1m' })
  closers.push(() => cache.close?.())
  await cache.getOrSet('k', async () => 'v')
  await cache.getOrSet('k', async () => 'v')
  const pool = createPool({ create: async () => ({}), destroy: async () => {}, max: 2, name: 'db' })
  closers.push(() => pool.close())
  const lease = await pool.acquire()
  await lease.release()
  const workers = createWorkerPool<{ n: number }, number>({
    filename: new URL('./fixtures/worker.mjs', import.meta.url),
    name: 'hash',
    maxThreads: 1,
  })
  closers.push(() => workers.close())
  await workers.run({ n: 10 })
  registry.collect(semaphore, limiter, cache, pool, workers, pollerMetrics)
  const runtime = runtimeMetrics(registry, { interval: '1s' })
  closers.push(() => runtime.stop())
  runtime.sample()
  return registry
}

describe('Prometheus conventions', () => {
  it('promtool check metrics accepts the exposition of every kind of source', async (ctx) => {
    if (!hasPromtool) {
      if (process.env.CI === 'true')
        throw new Error('promtool is not installed; CI needs it (apt-get install prometheus)')
      ctx.skip('promtool is not installed (apt-get install prometheus): conformance not checked')
    }
    const text = (await everything()).prometheus()
    const { code, output } = await promtool(text)
    expect(output).toBe('')
    expect(code).toBe(0)
  })

  it('exposes base units, one underscore after the prefix and no empty families', async () => {
    const text = (await everything()).prometheus()
    const families = parse(text)
    const byName = new Map(families.map((f) => [f.name, f]))
    for (const family of families) {
      expect(family.name).toMatch(/^app_[a-z0-9]+(_[a-z0-9]+)*$/)
      expect(family.name).not.toMatch(/milli|micro|nano|_ms$|_us$|_ns$|_s$|_summary/)
      expect(family.metrics.length, family.name).toBeGreaterThan(0)
    }
    expect(text).not.toContain('__')
    // every collected source shows up, and no family is a header without series
    for (const name of [
      'app_hotpath_semaphore_permits',
      'app_hotpath_rate_limiter_allowed_total',
      'app_hotpath_rate_limiter_denied_total',
      'app_hotpath_cache_hit_ratio',
      'app_hotpath_pool_acquired_total',
      'app_hotpath_poller_checks_total',
      'app_hotpath_workers_completed_total',
      'app_hotpath_workers_run_mean_seconds',
      'app_runtime_heap_used_bytes',
      'app_runtime_event_loop_delay_seconds',
    ]) {
      expect(byName.has(name), name).toBe(true)
    }
    expect(byName.get('app_hotpath_rate_limiter_denied_total')!.metrics[0]).toEqual({
      labels: { name: 'api' },
      value: '1',
    })
    expect(byName.get('app_hotpath_workers_completed_total')!.metrics[0]).toEqual({
      labels: { name: 'hash' },
      value: '1',
    })
    expect(byName.has('app_unused_total')).toBe(false)
    expect(byName.has('app_never_set')).toBe(false)
    expect(byName.has('app_hotpath_lock_wait_seconds')).toBe(false)
    // unlabeled counters and histograms exist at zero from registration
    expect(byName.get('app_restarts_total')!.metrics).toEqual([{ value: '0' }])
    const idle = byName.get('app_idle_wait_seconds')!.metrics[0]!
    expect([idle.count, idle.sum, idle.buckets!['+Inf']]).toEqual(['0', '0', '0'])
    expect(byName.get('app_idle_wait_quantiles_seconds')!.metrics[0]!.quantiles!['0.5']).toBe('NaN')
    // values are converted to the base unit; recording stayed in the metric's unit
    expect(byName.get('app_busy_time_seconds_total')!.metrics[0]!.value).toBe('1.5')
    expect(byName.get('app_lag_seconds')!.metrics[0]!.value).toBe('0.25')
    expect(byName.get('app_heap_bytes')!.metrics[0]!.value).toBe('1024')
    expect(byName.get('app_hotpath_pool_hold_time_mean_seconds')).toBeDefined()
    expect(byName.get('app_request_duration_seconds')!.metrics[0]!.sum).toBe('0.005')
    const scale = { ms: 1e3, s: 1, us: 1e6, ns: 1e9 }
    for (const [unit, per] of Object.entries(scale)) {
      const stem = `app_${UNIT_NAMES[unit as keyof typeof scale]}`
      const fam = byName.get(`${stem}_seconds`)!
      const a = fam.metrics[0]!
      expect(Number(a.sum)).toBeCloseTo(268 / per, 12)
      expect(a.count).toBe('5')
      const q = byName.get(`${stem}_quantiles_seconds`)!.metrics[0]!
      expect(Number(q.quantiles!['0.999'])).toBeCloseTo(250 / per, 12)
    }
    expect(byName.get('app_payload_bytes')!.metrics[0]!.sum).toBe('268')
    expect(byName.get('app_batch')!.type).toBe('HISTOGRAM')
    expect(byName.get('app_fanout_requests')!.type).toBe('HISTOGRAM')
    // bucket bounds are converted too: 10 ms → le="0.01"
    expect(byName.get('app_wait_seconds')!.metrics[0]!.buckets!['0.01']).toBe('4')
  })

  it('baseUnits: false exports the recorded unit as it is', () => {
    const registry = createRegistry({ prefix: 'app' })
    registry.histogram('lat', { help: 'Latency.', unit: 'ms' }).record(5)
    const names = parse(registry.prometheus({ baseUnits: false })).map((f) => f.name)
    expect(names).toEqual(['app_lat_milliseconds', 'app_lat_quantiles_milliseconds'])
    expect(() => registry.prometheus({ baseUnit: false } as never)).toThrow(/baseUnits/)
  })

  it('refuses two names that export as one family', () => {
    const registry = createRegistry()
    registry.histogram('wait_ms', { unit: 'ms' })
    expect(() => registry.histogram('wait_us', { unit: 'us' })).toThrow(
      'Metric `wait_us` is already registered as `wait_ms` (both export as `wait_seconds`)',
    )
  })
})
