import * as diagnostics from 'node:diagnostics_channel'
import { invalidOption } from '@hotpath/core'
import type { CounterSeries } from './counter'
import type { GaugeSeries } from './gauge'
import type { Registry } from './registry'

/**
 * Anything with a `stats()` method returning a plain object (caches, pools, semaphores, ...).
 *
 * @example
 * const source: StatsSource = { stats: () => ({ size: queue.length }) }
 * collect(registry, source)
 */
export interface StatsSource {
  stats(): object
}

/**
 * A running collector.
 *
 * @example
 * const collector: Collector = collect(registry, cache)
 * collector.add(pool)
 */
export interface Collector {
  /** Adds more sources to poll. */
  add(...sources: StatsSource[]): void
  /** Unsubscribes from every channel and stops polling. */
  stop(): void
  /** Same as `stop()`, for `using`. */
  [Symbol.dispose](): void
}

type Stats = Record<string, unknown>
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
const has = (s: Stats, ...keys: string[]) => keys.every((k) => k in s)

/**
 * The kind `collect()` recognised a source as, from the shape of its `stats()`.
 *
 * @example
 * const kind: SourceKind = sourceKind(cache.stats()) // 'cache'
 */
export type SourceKind =
  | 'cache'
  | 'pool'
  | 'worker-pool'
  | 'semaphore'
  | 'adaptive-limiter'
  | 'rate-limiter'
  | 'queue'
  | 'batcher'
  | 'poller'
  | 'other'

/**
 * Classifies a `stats()` object by its fields (duck typing; no hotpath package is imported).
 *
 * @example
 * sourceKind(pool.stats()) // 'pool'
 */
export function sourceKind(s: Stats): SourceKind {
  if (typeof s.hitRate === 'number' && typeof s.l1 === 'object') return 'cache'
  if (has(s, 'borrowed', 'pending', 'idle')) return 'pool'
  // Before the semaphore check: a worker pool also counts `rejected` and `timedOut`, and only its
  // thread and utilization fields tell it apart.
  if (has(s, 'threads', 'busy', 'queued', 'utilization')) return 'worker-pool'
  if (has(s, 'permits', 'inUse', 'waiting')) return 'semaphore'
  if (has(s, 'limit', 'inFlight', 'minRtt')) return 'adaptive-limiter'
  if (has(s, 'allowed', 'denied')) return 'rate-limiter'
  if (has(s, 'capacity', 'pushed', 'taken')) return 'queue'
  if (has(s, 'batches', 'deduped')) return 'batcher'
  if (has(s, 'checks', 'scheduler')) return 'poller'
  return 'other'
}

function checkSource(source: unknown): void {
  if (source === null || typeof source !== 'object' || typeof (source as StatsSource).stats !== 'function') {
    throw invalidOption('sources', 'objects with a stats() method', source)
  }
}

/** Label set of a polled metric: the source's name. */
type G = (name: string, help: string, unit?: string) => (label: string) => GaugeSeries
type C = (name: string, help: string) => (label: string) => CounterSeries

/**
 * Turns hotpath primitives into metrics: subscribes to the `hotpath:*` diagnostics channels, and
 * polls `stats()` of every source before each snapshot or scrape. Sources are recognised by the
 * shape of their `stats()`, so no hotpath package has to be installed. Metric names are listed in
 * docs/metrics.md ("Collected metrics").
 *
 * @example
 * const collector = collect(registry, cache, pool, semaphore)
 * collector.add(limiter)
 * // on shutdown
 * collector.stop()
 */
export function collect(registry: Registry, ...sources: StatsSource[]): Collector {
  for (const source of sources) checkSource(source)
  const polled: Array<{ source: StatsSource; fallback: string }> = []
  const gauges = new Map<string, ReturnType<G>>()
  const counters = new Map<string, ReturnType<C>>()
  const gauge: G = (name, help, unit) => {
    let g = gauges.get(name)
    if (!g) {
      const metric = registry.gauge(name, { help, labels: ['name'], unit: unit ?? '' })
      g = (label: string) => metric.with({ name: label })
      gauges.set(name, g)
    }
    return g
  }
  const counter: C = (name, help) => {
    let c = counters.get(name)
    if (!c) {
      const metric = registry.counter(name, { help, labels: ['name'] })
      c = (label: string) => metric.with({ name: label })
      counters.set(name, c)
    }
    return c
  }
  const setG = (name: string, help: string, label: string, value: unknown, unit?: string) => {
    const v = num(value)
    if (v !== undefined) gauge(name, help, unit)(label).set(v)
  }
  const setC = (name: string, help: string, label: string, value: unknown) => {
    const v = num(value)
    if (v !== undefined) counter(name, help)(label).value = v
  }

  const poll = () => {
    for (const { source, fallback } of polled) {
      let s: Stats
      try {
        s = source.stats() as Stats
      } catch {
        continue
      }
      if (s === null || typeof s !== 'object') continue
      const label = typeof s.name === 'string' && s.name ? s.name : fallback
      pollOne(sourceKind(s), s, label)
    }
  }

  const pollOne = (kind: SourceKind, s: Stats, label: string) => {
    switch (kind) {
      case 'cache': {
        const l1 = (s.l1 ?? {}) as Stats
        const l2 = (s.l2 ?? {}) as Stats
        setG('hotpath_cache_hit_ratio', 'Share of reads served from L1 or L2 (0..1).', label, s.hitRate)
        setC('hotpath_cache_l1_hits', 'L1 hits.', label, l1.hits)
        setC('hotpath_cache_l2_hits', 'L2 hits.', label, l2.hits)
        setC('hotpath_cache_misses', 'Reads that missed every tier.', label, s.misses)
        setC('hotpath_cache_loads', 'Loader runs.', label, s.loads)
        setC('hotpath_cache_load_errors', 'Loader failures.', label, s.loadErrors)
        setC('hotpath_cache_stale_served', 'Stale values served (grace, fail-safe).', label, s.staleServed)
        setC('hotpath_cache_l1_evictions', 'L1 evictions.', label, l1.evictions)
        setC('hotpath_cache_l2_errors', 'L2 errors.', label, l2.errors)
        setC('hotpath_cache_l2_timeouts', 'L2 timeouts.', label, l2.timeouts)
        setG('hotpath_cache_l1_entries', 'Entries in L1.', label, l1.size)
        setG('hotpath_cache_l1_size', 'Bytes in L1.', label, l1.bytes, 'bytes')
        if (typeof l2.breaker === 'string') {
          setG(
            'hotpath_cache_l2_breaker_open',
            'L2 circuit breaker open (1) or not (0).',
            label,
            l2.breaker === 'closed' ? 0 : 1,
          )
        }
        return
      }
      case 'pool': {
        setG('hotpath_pool_size', 'Resources open.', label, s.size)
        setG('hotpath_pool_idle', 'Idle resources.', label, s.idle)
        setG('hotpath_pool_borrowed', 'Resources in use.', label, s.borrowed)
        setG('hotpath_pool_pending', 'Callers waiting for a resource.', label, s.pending)
        setG('hotpath_pool_max', 'Configured maximum size.', label, s.max)
        setC('hotpath_pool_acquired', 'Successful acquires.', label, s.acquired)
        setC('hotpath_pool_timeouts', 'Acquires that timed out.', label, s.timeouts)
        setC('hotpath_pool_create_errors', 'Failed resource creations.', label, s.createErrors)
        setC('hotpath_pool_leaks', 'Leases reported as leaked.', label, s.leaks)
        const hold = (s.holdTime ?? {}) as Stats
        setG('hotpath_pool_hold_time_mean', 'Mean time a resource is held.', label, hold.mean, 'ms')
        const wait = (s.acquireWait ?? {}) as Stats
        setG('hotpath_pool_acquire_wait_p99', 'p99 acquire wait (polled summary).', label, wait.p99, 'ms')
        return
      }
      case 'worker-pool': {
        setG('hotpath_workers_threads', 'Worker threads alive.', label, s.threads)
        setG('hotpath_workers_max_threads', 'Configured most worker threads.', label, s.maxThreads)
        setG('hotpath_workers_busy', 'Tasks running in a worker thread.', label, s.busy)
        setG('hotpath_workers_queued', 'Tasks waiting for a worker thread.', label, s.queued)
        setG(
          'hotpath_workers_utilization',
          'Worker threads run time over max threads × pool age (0..1), averaged over the pool life.',
          label,
          s.utilization,
        )
        setC('hotpath_workers_completed', 'Tasks that returned a result.', label, s.completed)
        setC('hotpath_workers_failed', 'Tasks whose worker threw or whose thread died.', label, s.failed)
        setC(
          'hotpath_workers_cancelled',
          'Tasks aborted or dropped from the queue on close.',
          label,
          s.cancelled,
        )
        setC('hotpath_workers_timed_out', 'Tasks that ran out of their timeout.', label, s.timedOut)
        setC('hotpath_workers_rejected', 'Tasks refused (queue full or pool closed).', label, s.rejected)
        const wait = (s.waitMs ?? {}) as Stats
        setG(
          'hotpath_workers_wait_p99',
          'p99 wait for a worker thread (polled summary).',
          label,
          wait.p99,
          'ms',
        )
        const run = (s.runMs ?? {}) as Stats
        setG('hotpath_workers_run_mean', 'Mean task run time in a worker thread.', label, run.mean, 'ms')
        return
      }
      case 'semaphore':
        setG('hotpath_semaphore_permits', 'Permits configured.', label, s.permits)
        setG('hotpath_semaphore_in_use', 'Permits held.', label, s.inUse)
        setG('hotpath_semaphore_waiting', 'Callers queued.', label, s.waiting)
        setC('hotpath_semaphore_acquired', 'Permits granted.', label, s.acquired)
        setC('hotpath_semaphore_rejected', 'Callers refused.', label, s.rejected)
        setC('hotpath_semaphore_timed_out', 'Callers that timed out.', label, s.timedOut)
        return
      case 'adaptive-limiter':
        setG('hotpath_adaptive_limit', 'Current adaptive concurrency limit.', label, s.limit)
        setG('hotpath_adaptive_in_flight', 'Calls in flight.', label, s.inFlight)
        setG('hotpath_adaptive_waiting', 'Calls queued.', label, s.waiting)
        setC('hotpath_adaptive_dropped', 'Calls counted as drops.', label, s.dropped)
        return
      case 'rate-limiter':
        setC('hotpath_rate_limiter_allowed', 'Consumes allowed.', label, s.allowed)
        setC('hotpath_rate_limiter_denied', 'Consumes denied.', label, s.denied)
        setG('hotpath_rate_limiter_keys', 'Keys tracked.', label, s.keys)
        return
      case 'queue':
        setG('hotpath_queue_size', 'Items queued.', label, s.size)
        setG('hotpath_queue_capacity', 'Queue capacity.', label, s.capacity)
        setC('hotpath_queue_dropped', 'Items dropped.', label, s.dropped)
        setC('hotpath_queue_rejected', 'Items refused.', label, s.rejected)
        return
      case 'batcher':
        setG('hotpath_batcher_pending', 'Keys waiting for the next batch.', label, s.pending)
        setC('hotpath_batcher_batches', 'Batches run.', label, s.batches)
        setC('hotpath_batcher_deduped', 'Loads served by a key already in the batch.', label, s.deduped)
        setC('hotpath_batcher_failed_batches', 'Batches that failed.', label, s.failedBatches)
        return
      case 'poller':
        setG('hotpath_poller_active', 'Polls running.', label, s.active)
        setC('hotpath_poller_checks', 'Checks run.', label, s.checks)
        setC('hotpath_poller_check_errors', 'Checks that threw.', label, s.checkErrors)
        return
      default:
        for (const [field, value] of Object.entries(s)) {
          const v = num(value)
          if (v === undefined) continue
          const metric = registry.gauge('hotpath_stat', {
            help: 'Numeric stats() fields of sources collect() does not recognise.',
            labels: ['name', 'field'],
          })
          metric.with({ name: label, field }).set(v)
        }
    }
  }

  const unsubscribers: Array<() => void> = []
  const on = <T>(channel: string, handler: (message: T) => void) => {
    const listener = (message: unknown) => {
      try {
        handler(message as T)
      } catch {
        // A malformed message must not throw into the publisher.
      }
    }
    diagnostics.subscribe(channel, listener)
    unsubscribers.push(() => diagnostics.unsubscribe(channel, listener))
  }
  const histogram = (name: string, help: string, labels: readonly string[] = ['name']) =>
    registry.histogram(name, { unit: 'ms', labels, help })
  const count = (name: string, help: string, labels: readonly string[] = ['name']) =>
    registry.counter(name, { help, labels })
  type M = Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' ? v : 'unknown')
  const ms = (v: unknown) => num(v) ?? 0

  const poolWait = histogram('hotpath_pool_acquire_wait', 'Pool acquire wait (from hotpath:pool:acquire).')
  on<M>('hotpath:pool:acquire', (m) => poolWait.with({ name: str(m.pool) }).record(ms(m.waitMs)))
  const poolCreate = histogram('hotpath_pool_create_duration', 'Resource creation time.')
  on<M>('hotpath:pool:create', (m) => poolCreate.with({ name: str(m.pool) }).record(ms(m.durationMs)))
  const slowQueries = histogram('hotpath_pool_slow_query_duration', 'Queries over the slow-query threshold.')
  on<M>('hotpath:pool:slow-query', (m) => slowQueries.with({ name: str(m.pool) }).record(ms(m.durationMs)))
  const destroyed = count('hotpath_pool_destroyed', 'Resources destroyed, by reason.', ['name', 'reason'])
  on<M>('hotpath:pool:destroy', (m) => destroyed.with({ name: str(m.pool), reason: str(m.reason) }).inc())
  const semWait = histogram('hotpath_semaphore_wait', 'Permit wait (from hotpath:concurrency:acquire).')
  on<M>('hotpath:concurrency:acquire', (m) => semWait.with({ name: str(m.name) }).record(ms(m.waitMs)))
  const rejects = count('hotpath_semaphore_rejects', 'Waiters refused, by reason.', ['name', 'reason'])
  on<M>('hotpath:concurrency:reject', (m) => rejects.with({ name: str(m.name), reason: str(m.reason) }).inc())
  const lockWait = histogram('hotpath_lock_wait', 'Lock wait time, by lock kind.', ['name', 'kind'])
  on<M>('hotpath:concurrency:lock-wait', (m) =>
    lockWait.with({ name: str(m.name), kind: str(m.kind) }).record(ms(m.waitMs)),
  )
  const limited = count('hotpath_rate_limited', 'Consumes denied (from hotpath:concurrency:rate-limited).')
  on<M>('hotpath:concurrency:rate-limited', (m) => limited.with({ name: str(m.name) }).inc())
  const stale = count('hotpath_cache_stale', 'Stale values served, by reason.', ['name', 'reason'])
  on<M>('hotpath:cache:stale', (m) => stale.with({ name: str(m.cache), reason: str(m.reason) }).inc())
  const busLag = histogram('hotpath_cache_bus_lag', 'Invalidation bus delivery lag.')
  on<M>('hotpath:cache:bus', (m) => busLag.with({ name: str(m.cache) }).record(ms(m.lag)))
  const settled = count('hotpath_poller_settled', 'Polls settled, by outcome.', ['name', 'outcome'])
  const pollDuration = histogram('hotpath_poller_duration', 'Time from start to settle of a poll.')
  on<M>('hotpath:poller:settle', (m) => {
    settled.with({ name: str(m.name), outcome: str(m.outcome) }).inc()
    pollDuration.with({ name: str(m.name) }).record(ms(m.durationMs))
  })
  const jobs = histogram('hotpath_job_duration', 'Background job run time (from hotpath:poller:job).')
  on<M>('hotpath:poller:job', (m) => jobs.with({ name: str(m.name) }).record(ms(m.durationMs)))

  // Cache loads are traced with tracingChannel('hotpath:cache:load'): time start → asyncEnd.
  const loads = histogram('hotpath_cache_load_duration', 'Cache loader time.')
  const loadStarts = new WeakMap<object, number>()
  on<M>('tracing:hotpath:cache:load:start', (m) => loadStarts.set(m, performance.now()))
  on<M>('tracing:hotpath:cache:load:asyncEnd', (m) => {
    const started = loadStarts.get(m)
    if (started !== undefined) loads.with({ name: str(m.cache) }).record(performance.now() - started)
  })

  const off = registry.beforeRead(poll)
  unsubscribers.push(off)
  let n = 0
  const add = (...more: StatsSource[]) => {
    for (const source of more) checkSource(source)
    for (const source of more) polled.push({ source, fallback: `source${n++}` })
  }
  add(...sources)
  let stopped = false
  return {
    add,
    stop() {
      if (stopped) return
      stopped = true
      for (const unsubscribe of unsubscribers) unsubscribe()
      unsubscribers.length = 0
    },
    [Symbol.dispose]() {
      this.stop()
    },
  }
}
