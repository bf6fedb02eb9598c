import type { BreakerState } from './breaker'
import type { CacheCore } from './core'

/**
 * A plain snapshot of a cache's counters.
 *
 * @example
 * const stats: CacheStats = cache.stats()
 * console.log(stats.hitRate, stats.l1.size, stats.l2.errors)
 */
export interface CacheStats {
  /** The cache name. */
  name: string
  /** L1 counters (`enabled: false` when the cache has no L1). */
  l1: { enabled: boolean; hits: number; misses: number; size: number; bytes: number; evictions: number }
  /** L2 counters (`enabled: false` without L2). */
  l2: {
    enabled: boolean
    hits: number
    misses: number
    errors: number
    timeouts: number
    /** Calls not sent because the breaker was open or the client was not connected. */
    skipped: number
    breaker: BreakerState
    breakerOpens: number
  }
  /**
   * The recovery queue: writes, deletes and tag invalidations L2 could not take, replayed once it
   * answers (all 0 without L2 or with `recoveryQueue: 0`).
   */
  recovery: {
    /** Changes waiting to be replayed now. */
    queued: number
    /** Changes sent to L2 (and announced on the bus) after an outage. */
    replayed: number
    /** Changes that did not fit in the queue: their keys are deleted from L2 instead of updated. */
    dropped: number
  }
  /**
   * Cross-instance single-flight (undefined without a lock): loads this instance ran under the
   * lease, misses answered by another instance's load, and loads run without the lock because it
   * could not answer.
   */
  lock: { acquired: number; waited: number; fallbacks: number } | undefined
  /** Reads that found nothing usable in any tier. */
  misses: number
  /** Loader calls (a batch loader call counts once). */
  loads: number
  loadErrors: number
  loaderTimeouts: number
  /** Stale (grace) values served. */
  staleServed: number
  /** Values that could not be encoded or decoded (read as misses). */
  codecErrors: number
  /** (L1 hits + L2 hits) / (hits + misses); 0 before any read. */
  hitRate: number
  /** Tag versions kept in memory. */
  tags: number
  /** Bus counters, or undefined without a bus. */
  bus:
    | {
        published: number
        received: number
        queued: number
        dropped: number
        resubscribes: number
        connected: boolean
        /** Delay of the last received message (sender clock to receiver clock), ms. */
        lagMs: number
        maxLagMs: number
      }
    | undefined
  /**
   * Server-assisted invalidation (`invalidation: 'tracking' | 'both'`), or undefined: whether it is
   * live, reports received, L1 keys dropped by them, reports of this instance's own writes
   * (skipped), and resets (each makes L1 entries from before stop counting as fresh).
   */
  tracking:
    | { connected: boolean; invalidations: number; dropped: number; own: number; resets: number }
    | undefined
}

export function buildStats(core: CacheCore): CacheStats {
  const l1 = core.l1
  const l2 = core.l2
  const c = core.counters
  const l1Hits = l1?.counters.hits ?? 0
  const l2Hits = l2?.counters.hits ?? 0
  const reads = l1Hits + l2Hits + c.misses
  const bus = core.bus?.stats()
  const tracking = core.tracking?.stats()
  return {
    name: core.name,
    l1: {
      enabled: l1 !== undefined,
      hits: l1Hits,
      misses: l1?.counters.misses ?? 0,
      size: l1?.lru.size ?? 0,
      bytes: l1?.lru.calculatedSize ?? 0,
      evictions: l1?.counters.evictions ?? 0,
    },
    l2: {
      enabled: l2 !== undefined,
      hits: l2Hits,
      misses: l2?.counters.misses ?? 0,
      errors: l2?.counters.errors ?? 0,
      timeouts: l2?.counters.timeouts ?? 0,
      skipped: l2?.counters.skipped ?? 0,
      breaker: l2?.breaker.state ?? 'closed',
      breakerOpens: l2?.breaker.opens ?? 0,
    },
    recovery: {
      queued: core.recovery?.size ?? 0,
      replayed: core.recovery?.replayed ?? 0,
      dropped: core.recovery?.dropped ?? 0,
    },
    lock: core.locks === undefined ? undefined : { ...core.locks.counters },
    misses: c.misses,
    loads: c.loads,
    loadErrors: c.loadErrors,
    loaderTimeouts: c.loaderTimeouts,
    staleServed: c.staleServed,
    codecErrors: c.codecErrors,
    hitRate: reads === 0 ? 0 : (l1Hits + l2Hits) / reads,
    tags: core.tags.size,
    bus: bus === undefined ? undefined : { ...bus, lagMs: c.busLagLast, maxLagMs: c.busLagMax },
    tracking:
      tracking === undefined ? undefined : { ...tracking, dropped: c.trackedDrops, own: c.trackedOwn },
  }
}
