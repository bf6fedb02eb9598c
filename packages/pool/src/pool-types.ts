import type { Duration, SummarySnapshot } from '@hotpath/core'

/**
 * Options of `pool.acquire()`.
 *
 * @example
 * await pool.acquire({ signal: request.signal, priority: 1, timeout: '2s' })
 */
export interface AcquireOptions {
  /** Aborting removes the waiter at once. */
  signal?: AbortSignal
  /**
   * Higher is served first among waiters.
   * @default 0
   */
  priority?: number
  /**
   * Overrides the pool's `acquireTimeout` for this call.
   * @default the pool's `acquireTimeout`
   */
  timeout?: Duration
}

/**
 * Options of `pool.initialize()`.
 *
 * @example
 * await pool.initialize({ failFast: true })
 */
export interface InitializeOptions {
  /**
   * Reject (and close the pool) on the first create error instead of retrying.
   * @default false
   */
  failFast?: boolean
  /**
   * How long to wait for `min` resources.
   * @default the pool's `acquireTimeout`
   */
  timeout?: Duration
}

/**
 * Options of `pool.drain()`.
 *
 * @example
 * await pool.drain({ timeout: '10s' })
 */
export interface DrainOptions {
  /**
   * How long to wait for leases to come back and waiters to be served before closing anyway.
   * @default '30s'
   */
  timeout?: Duration
}

/**
 * Result of `pool.drain()`.
 *
 * @example
 * const { drained, outstanding } = await pool.drain()
 */
export interface DrainResult {
  /** True when every lease came back and every waiter was served before the timeout. */
  drained: boolean
  /** Leases still out when the pool closed (they are destroyed when released). */
  outstanding: number
}

/**
 * A plain snapshot of a pool.
 *
 * @example
 * const { borrowed, idle, pending, acquireWait } = pool.stats()
 */
export interface PoolStats {
  name: string
  /** Resources that exist: idle + borrowed + being validated. */
  size: number
  idle: number
  borrowed: number
  /** Acquires waiting in the queue. */
  pending: number
  /** Creates in flight. */
  creating: number
  min: number
  max: number
  created: number
  destroyed: number
  /** Destroys that threw, rejected or timed out. */
  destroyErrors: number
  /** Destroys given up after `destroyTimeout` (also counted in `destroyErrors`). */
  destroyTimeouts: number
  /** Leases granted. */
  acquired: number
  /** Leases granted on a resource that had been lent before. */
  reused: number
  timeouts: number
  aborted: number
  /** Acquires refused because the queue was full. */
  rejected: number
  createErrors: number
  validationFailures: number
  leaks: number
  /** Time acquires waited for a lease (ms). */
  acquireWait: SummarySnapshot
  /** Time leases were held (ms). */
  holdTime: SummarySnapshot
  /** Time creates took (ms). */
  createTime: SummarySnapshot
}
