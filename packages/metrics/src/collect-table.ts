import type { CacheStats } from '@hotpath/cache'
import type {
  AdaptiveLimiterStats,
  BatcherStats,
  BoundedQueueStats,
  RateLimiterStats,
  SemaphoreStats,
} from '@hotpath/concurrency'
import type { WorkerPoolStats } from '@hotpath/concurrency/workers'
import type { MetricsKind } from '@hotpath/core'
import type { PollerStats } from '@hotpath/poller'
import type { PoolStats } from '@hotpath/pool'

// The stats types above are imported for type checking only: they vanish from the build, so
// @hotpath/metrics needs none of those packages installed, yet renaming a stats field there fails
// the type check here.

type Stats = Record<string, unknown>

/** A field of `S`, or a field of an object field (`'l1.hits'`). */
type Path<S> = {
  [K in keyof S & string]: NonNullable<S[K]> extends number | string
    ? K
    : NonNullable<S[K]> extends object
      ? `${K}.${keyof NonNullable<S[K]> & string}`
      : never
}[keyof S & string]

/** One polled metric: a gauge or counter named `name`, read from `stats()` at `from`. */
export interface Row {
  readonly type: 'gauge' | 'counter'
  readonly name: string
  readonly help: string
  readonly unit: string
  readonly read: (s: Stats) => unknown
}

const reader = (path: string) => {
  const [a, b] = path.split('.') as [string, string | undefined]
  if (b === undefined) return (s: Stats) => s[a]
  return (s: Stats) => {
    const inner = s[a]
    return inner !== null && typeof inner === 'object' ? (inner as Stats)[b] : undefined
  }
}

/** Rows of one kind, with `from` checked against the stats type `S` of that kind's primitive. */
function rows<S>(
  list: ReadonlyArray<
    readonly [type: 'g' | 'c', name: string, help: string, from: Path<S> | ((s: S) => unknown), unit?: string]
  >,
): Row[] {
  return list.map(([type, name, help, from, unit]) => ({
    type: type === 'g' ? 'gauge' : 'counter',
    name,
    help,
    unit: unit ?? '',
    read: typeof from === 'function' ? (from as (s: Stats) => unknown) : reader(from),
  }))
}

const breakerOpen = (s: CacheStats) => {
  const breaker = (s.l2 as { breaker?: unknown } | undefined)?.breaker
  return typeof breaker === 'string' ? (breaker === 'closed' ? 0 : 1) : undefined
}

/** What each kind of source turns into; names are listed in docs/metrics.md ("Collected metrics"). */
export const TABLE: Readonly<Record<Exclude<MetricsKind, 'other'>, readonly Row[]>> = {
  cache: rows<CacheStats>([
    ['g', 'hotpath_cache_hit_ratio', 'Share of reads served from L1 or L2 (0..1).', 'hitRate'],
    ['c', 'hotpath_cache_l1_hits', 'L1 hits.', 'l1.hits'],
    ['c', 'hotpath_cache_l2_hits', 'L2 hits.', 'l2.hits'],
    ['c', 'hotpath_cache_misses', 'Reads that missed every tier.', 'misses'],
    ['c', 'hotpath_cache_loads', 'Loader runs.', 'loads'],
    ['c', 'hotpath_cache_load_errors', 'Loader failures.', 'loadErrors'],
    ['c', 'hotpath_cache_stale_served', 'Stale values served (grace, fail-safe).', 'staleServed'],
    ['c', 'hotpath_cache_l1_evictions', 'L1 evictions.', 'l1.evictions'],
    ['c', 'hotpath_cache_l2_errors', 'L2 errors.', 'l2.errors'],
    ['c', 'hotpath_cache_l2_timeouts', 'L2 timeouts.', 'l2.timeouts'],
    ['g', 'hotpath_cache_l1_entries', 'Entries in L1.', 'l1.size'],
    ['g', 'hotpath_cache_l1_size', 'Bytes in L1.', 'l1.bytes', 'bytes'],
    ['g', 'hotpath_cache_l2_breaker_open', 'L2 circuit breaker open (1) or not (0).', breakerOpen],
  ]),
  pool: rows<PoolStats>([
    ['g', 'hotpath_pool_size', 'Resources open.', 'size'],
    ['g', 'hotpath_pool_idle', 'Idle resources.', 'idle'],
    ['g', 'hotpath_pool_borrowed', 'Resources in use.', 'borrowed'],
    ['g', 'hotpath_pool_pending', 'Callers waiting for a resource.', 'pending'],
    ['g', 'hotpath_pool_max', 'Configured maximum size.', 'max'],
    ['c', 'hotpath_pool_acquired', 'Successful acquires.', 'acquired'],
    ['c', 'hotpath_pool_timeouts', 'Acquires that timed out.', 'timeouts'],
    ['c', 'hotpath_pool_create_errors', 'Failed resource creations.', 'createErrors'],
    ['c', 'hotpath_pool_leaks', 'Leases reported as leaked.', 'leaks'],
    ['g', 'hotpath_pool_hold_time_mean', 'Mean time a resource is held.', 'holdTime.mean', 'ms'],
    ['g', 'hotpath_pool_acquire_wait_p99', 'p99 acquire wait (polled summary).', 'acquireWait.p99', 'ms'],
  ]),
  'worker-pool': rows<WorkerPoolStats>([
    ['g', 'hotpath_workers_threads', 'Worker threads alive.', 'threads'],
    ['g', 'hotpath_workers_max_threads', 'Configured most worker threads.', 'maxThreads'],
    ['g', 'hotpath_workers_busy', 'Tasks running in a worker thread.', 'busy'],
    ['g', 'hotpath_workers_queued', 'Tasks waiting for a worker thread.', 'queued'],
    [
      'g',
      'hotpath_workers_utilization',
      'Worker threads run time over max threads × pool age (0..1), averaged over the pool life.',
      'utilization',
    ],
    ['c', 'hotpath_workers_completed', 'Tasks that returned a result.', 'completed'],
    ['c', 'hotpath_workers_failed', 'Tasks whose worker threw or whose thread died.', 'failed'],
    ['c', 'hotpath_workers_cancelled', 'Tasks aborted or dropped from the queue on close.', 'cancelled'],
    ['c', 'hotpath_workers_timed_out', 'Tasks that ran out of their timeout.', 'timedOut'],
    ['c', 'hotpath_workers_rejected', 'Tasks refused (queue full or pool closed).', 'rejected'],
    ['g', 'hotpath_workers_wait_p99', 'p99 wait for a worker thread (polled summary).', 'waitMs.p99', 'ms'],
    ['g', 'hotpath_workers_run_mean', 'Mean task run time in a worker thread.', 'runMs.mean', 'ms'],
  ]),
  semaphore: rows<SemaphoreStats>([
    ['g', 'hotpath_semaphore_permits', 'Permits configured.', 'permits'],
    ['g', 'hotpath_semaphore_in_use', 'Permits held.', 'inUse'],
    ['g', 'hotpath_semaphore_waiting', 'Callers queued.', 'waiting'],
    ['c', 'hotpath_semaphore_acquired', 'Permits granted.', 'acquired'],
    ['c', 'hotpath_semaphore_rejected', 'Callers refused.', 'rejected'],
    ['c', 'hotpath_semaphore_timed_out', 'Callers that timed out.', 'timedOut'],
  ]),
  'adaptive-limiter': rows<AdaptiveLimiterStats>([
    ['g', 'hotpath_adaptive_limit', 'Current adaptive concurrency limit.', 'limit'],
    ['g', 'hotpath_adaptive_in_flight', 'Calls in flight.', 'inFlight'],
    ['g', 'hotpath_adaptive_waiting', 'Calls queued.', 'waiting'],
    ['c', 'hotpath_adaptive_dropped', 'Calls counted as drops.', 'dropped'],
  ]),
  'rate-limiter': rows<RateLimiterStats>([
    ['c', 'hotpath_rate_limiter_allowed', 'Consumes allowed.', 'allowed'],
    ['c', 'hotpath_rate_limiter_denied', 'Consumes denied.', 'denied'],
    ['g', 'hotpath_rate_limiter_keys', 'Keys tracked.', 'keys'],
  ]),
  queue: rows<BoundedQueueStats>([
    ['g', 'hotpath_queue_size', 'Items queued.', 'size'],
    ['g', 'hotpath_queue_capacity', 'Queue capacity.', 'capacity'],
    ['c', 'hotpath_queue_dropped', 'Items dropped.', 'dropped'],
    ['c', 'hotpath_queue_rejected', 'Items refused.', 'rejected'],
  ]),
  batcher: rows<BatcherStats>([
    ['g', 'hotpath_batcher_pending', 'Keys waiting for the next batch.', 'pending'],
    ['c', 'hotpath_batcher_batches', 'Batches run.', 'batches'],
    ['c', 'hotpath_batcher_deduped', 'Loads served by a key already in the batch.', 'deduped'],
    ['c', 'hotpath_batcher_failed_batches', 'Batches that failed.', 'failedBatches'],
  ]),
  poller: rows<PollerStats>([
    ['g', 'hotpath_poller_active', 'Polls running.', 'active'],
    ['c', 'hotpath_poller_checks', 'Checks run.', 'checks'],
    ['c', 'hotpath_poller_check_errors', 'Checks that threw.', 'checkErrors'],
  ]),
}
