import type { Duration } from '@hotpath/core'

/**
 * Outcome of one `consume`.
 *
 * @example
 * const { allowed, remaining, retryAfterMs, resetMs }: RateLimitResult = limiter.consume(request.ip)
 * reply.header('RateLimit-Remaining', remaining).header('RateLimit-Reset', Math.ceil(resetMs / 1000))
 */
export interface RateLimitResult {
  /** Whether the call is admitted (its weight was taken). */
  allowed: boolean
  /** Units still available right now (after this call when allowed). */
  remaining: number
  /** When denied: milliseconds until the same weight would be admitted (0 when allowed). */
  retryAfterMs: number
  /** Milliseconds until the key is back to its full allowance. */
  resetMs: number
}

/**
 * The interface shared by the in-memory and the Redis rate limiters.
 *
 * @example
 * const isAllowed = async (limiter: RateLimiterLike, key: string) => (await limiter.consume(key)).allowed
 * await isAllowed(new RateLimiter({ limit: 5, window: '1s' }), request.ip)
 */
export interface RateLimiterLike {
  /** Takes `weight` units for `key` if the limit allows. */
  consume(key: string, weight?: number): RateLimitResult | Promise<RateLimitResult>
}

/**
 * Rate-limiting algorithms.
 *
 * @example
 * const algorithm: RateLimitAlgorithm = 'token-bucket'
 * const limiter = new RateLimiter({ limit: 100, window: '1m', algorithm, burst: 20 })
 */
export type RateLimitAlgorithm = 'sliding-window' | 'token-bucket' | 'gcra'

/**
 * Options of {@link RateLimiter}.
 *
 * @example
 * const login = new RateLimiter({ limit: 5, window: '15m', segments: 15, maxKeys: 50_000, name: 'login' })
 */
export interface RateLimiterOptions {
  /** Units admitted per `window` (required). */
  limit: number
  /** The window (required), a number of ms or a string like `'1m'`. */
  window: Duration
  /**
   * `'sliding-window'`: never more than `limit` in ANY window of that length (counted in
   * `segments` sub-windows, conservatively). `'token-bucket'`: a bucket of `burst` tokens refilled
   * at `limit / window`. `'gcra'`: the same policy as the token bucket stored as one timestamp
   * per key (the leaky-bucket "generic cell rate algorithm").
   * @default 'sliding-window'
   */
  algorithm?: RateLimitAlgorithm
  /**
   * Token-bucket capacity / GCRA burst: units that may be taken at once after a quiet period.
   * @default limit
   */
  burst?: number
  /**
   * Sub-windows of the sliding window (more = closer to an exact sliding log; each key keeps
   * `segments + 1` counters). A call can be refused up to `window / segments` earlier than an
   * exact log would, never admitted later.
   * @default 10
   */
  segments?: number
  /**
   * Most keys tracked; beyond it the least recently used key is forgotten (counted in
   * `stats().evicted`). Keys back at their full allowance are dropped on their own.
   * @default 100_000
   */
  maxKeys?: number
  /**
   * Name shown in channel messages.
   * @default 'rate-limiter'
   */
  name?: string
}

/**
 * Snapshot returned by {@link RateLimiter.stats}.
 *
 * @example
 * const { algorithm, keys, allowed, denied, evicted }: RateLimiterStats = limiter.stats()
 */
export interface RateLimiterStats {
  name: string
  algorithm: RateLimitAlgorithm
  keys: number
  allowed: number
  denied: number
  /** Live keys forgotten because `maxKeys` was reached. */
  evicted: number
}

/** The limit shape shared by the in-memory and the Redis limiter, validated once. */
export interface LimitShape {
  limit: number
  window: number
  algorithm: RateLimitAlgorithm
  burst: number
  segments: number
}
