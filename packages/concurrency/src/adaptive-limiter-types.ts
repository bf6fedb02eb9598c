import type { Duration } from '@hotpath/core'

/**
 * Limit algorithms, after Netflix concurrency-limits.
 *
 * @example
 * const algorithm: AdaptiveAlgorithm = 'vegas'
 * const limiter = new AdaptiveLimiter({ algorithm, max: 200 })
 */
export type AdaptiveAlgorithm = 'aimd' | 'vegas' | 'gradient2'

/**
 * Options of {@link AdaptiveLimiter}.
 *
 * @example
 * const limiter = new AdaptiveLimiter({ algorithm: 'aimd', initialLimit: 10, max: 100, backoffRatio: 0.8, rttTimeout: '1s',
 *   isDropped: (error) => (error as { status?: number }).status === 503 })
 */
export interface AdaptiveLimiterOptions {
  /**
   * `'aimd'`: +1 while busy, × `backoffRatio` on a drop or an RTT above `timeout`. `'vegas'`:
   * estimates the queue from the no-load RTT and keeps it between 3 and 6 × log10(limit).
   * `'gradient2'`: follows the ratio of a long-term RTT average to the current RTT, plus a small
   * queue allowance.
   * @default 'gradient2'
   */
  algorithm?: AdaptiveAlgorithm
  /**
   * Starting limit.
   * @default 20
   */
  initialLimit?: number
  /**
   * Lowest limit.
   * @default 1
   */
  min?: number
  /**
   * Highest limit (required to be finite).
   * @default 1_000
   */
  max?: number
  /**
   * Callers that may wait for a slot; one more rejects with `E_QUEUE_FULL`.
   * @default 1_000
   */
  maxQueue?: number
  /**
   * Default wait timeout of `acquire()`/`run()`.
   * @default Infinity
   */
  timeout?: Duration
  /**
   * `'aimd'`: factor applied to the limit on a drop.
   * @default 0.9
   */
  backoffRatio?: number
  /**
   * `'aimd'`: an RTT above this counts as a drop.
   * @default '5s'
   */
  rttTimeout?: Duration
  /**
   * `'gradient2'`: RTT growth tolerated before the limit shrinks.
   * @default 1.5
   */
  tolerance?: number
  /**
   * `'gradient2'`/`'vegas'`: weight of a new estimate (1 = jump to it).
   * @default 0.2 for gradient2, 1 for vegas
   */
  smoothing?: number
  /**
   * `'gradient2'`: samples in the long-term RTT average.
   * @default 600
   */
  longWindow?: number
  /**
   * `'gradient2'`: queue allowance added to the limit each sample.
   * @default 4
   */
  queueSize?: number
  /**
   * Fewest samples per update window (a window also lasts at least its average RTT).
   * @default 10
   */
  windowSize?: number
  /**
   * `'gradient2'`: the long-term RTT average is held at most this multiple of the smallest RTT
   * seen. Without it Gradient2 drifts upward under sustained saturation (the average catches up
   * with the inflated RTT and the gradient returns to 1).
   * @default 1.1
   */
  maxDrift?: number
  /**
   * Classifies a `run()` error: true = dropped (overload: timeout, 503), false = ignored.
   * @default () => false
   */
  isDropped?: (error: unknown) => boolean
  /**
   * Name shown in stats and channels.
   * @default 'adaptive'
   */
  name?: string
}

/**
 * A slot taken from an {@link AdaptiveLimiter}; report exactly one outcome.
 *
 * @example
 * const token: AdaptiveToken = await limiter.acquire()
 * try { await call(); token.success() } catch (error) { token.dropped(); throw error }
 */
export interface AdaptiveToken {
  /** The call succeeded; its RTT feeds the algorithm. */
  success(): void
  /** The call failed for a reason unrelated to load (its RTT is not used). */
  ignore(): void
  /** The call was dropped/timed out by overload: the limit backs off. */
  dropped(): void
}

/**
 * Snapshot returned by {@link AdaptiveLimiter.stats}.
 *
 * @example
 * const { limit, inFlight, waiting, minRtt }: AdaptiveLimiterStats = limiter.stats()
 */
export interface AdaptiveLimiterStats {
  name: string
  algorithm: AdaptiveAlgorithm
  /** The current limit (fractional estimate). */
  limit: number
  inFlight: number
  waiting: number
  succeeded: number
  ignored: number
  dropped: number
  /** Smallest RTT seen (ms), the no-load estimate. */
  minRtt: number
}
