import {
  checkInteger,
  checkOneOf,
  checkString,
  describeMetrics,
  eventChannel,
  getClock,
  metricsSource,
  parseDuration,
} from '@hotpath/core'
import { concurrencyChannels } from './channels'
import { readOptions } from './internal/options'
import { type KeyState, type Policy, policyOf } from './rate-limit-policies'
import type {
  LimitShape,
  RateLimitAlgorithm,
  RateLimiterLike,
  RateLimiterOptions,
  RateLimiterStats,
  RateLimitResult,
} from './rate-limiter-types'

export type {
  LimitShape,
  RateLimitAlgorithm,
  RateLimiterLike,
  RateLimiterOptions,
  RateLimiterStats,
  RateLimitResult,
} from './rate-limiter-types'

/**
 * Message on `hotpath:concurrency:rate-limited`.
 *
 * @example
 * rateLimitedChannel.subscribe(({ name, key, retryAfterMs }: RateLimitedEvent) => log.info({ name, key, retryAfterMs }, 'rate limited'))
 */
export interface RateLimitedEvent {
  name: string
  key: string
  weight: number
  retryAfterMs: number
}

/**
 * `hotpath:concurrency:rate-limited`: a consume was denied.
 *
 * @example
 * rateLimitedChannel.subscribe(({ name, key }) => denied.inc({ name }))
 */
export const rateLimitedChannel = eventChannel<RateLimitedEvent>(concurrencyChannels.rateLimited)

/**
 * Validates `limit`, `window`, `algorithm`, `burst` and `segments` with their defaults; both
 * limiters call it so they accept and refuse exactly the same options.
 * @internal
 */
export function resolveLimitShape(raw: Partial<RateLimiterOptions>): LimitShape {
  const limit = checkInteger('limit', raw.limit, { min: 1 })
  const window = parseDuration(raw.window, 'window', { positive: true })
  const algorithm = checkOneOf('algorithm', raw.algorithm ?? 'sliding-window', [
    'sliding-window',
    'token-bucket',
    'gcra',
  ] as const)
  const burst = checkInteger('burst', raw.burst ?? limit, { min: 1 })
  const segments = checkInteger('segments', raw.segments ?? 10, { min: 1, max: 1_000 })
  return { limit, window, algorithm, burst, segments }
}

/** The option names both limiters share. @internal */
export const LIMIT_SHAPE_OPTIONS = ['limit', 'window', 'algorithm', 'burst', 'segments', 'maxKeys', 'name']

/**
 * Checks the key and weight of a `consume`: a string key, an integer weight from 0 to the
 * capacity (a numeric string would be counted wrongly by the comparisons). @internal
 */
export function checkConsume(key: unknown, weight: unknown, capacity: number): void {
  if (typeof key !== 'string') checkString('key', key, { allowEmpty: true })
  if (weight !== 1) checkInteger('weight', weight, { min: 0, max: capacity })
}

const SWEEP_EVERY = 64
const SWEEP_MAX = 256

/**
 * An in-memory rate limiter keyed by client (IP, user, API key): sliding window, token bucket or
 * GCRA. `consume` is synchronous, O(1), allocation-free for a known key, and keeps no timer:
 * keys expire by timestamp, checked as calls go by, and `maxKeys` bounds the memory.
 *
 * @example
 * const perIp = new RateLimiter({ limit: 10, window: '1m' })
 * const { allowed, retryAfterMs } = perIp.consume(request.ip)
 * if (!allowed) reply.header('Retry-After', Math.ceil(retryAfterMs / 1000)).code(429)
 */
export class RateLimiter implements RateLimiterLike {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `rate-limiter` metrics. */
  readonly [metricsSource] = describeMetrics('rate-limiter', () => this.stats())
  readonly #limit: number
  readonly #window: number
  readonly #algorithm: RateLimitAlgorithm
  readonly #policy: Policy
  readonly #maxKeys: number
  readonly #name: string
  readonly #keys = new Map<string, KeyState>()
  #calls = 0
  #allowed = 0
  #denied = 0
  #evicted = 0

  constructor(options: RateLimiterOptions) {
    const raw = readOptions('new RateLimiter()', options, LIMIT_SHAPE_OPTIONS)
    const shape = resolveLimitShape(raw)
    this.#limit = shape.limit
    this.#window = shape.window
    this.#algorithm = shape.algorithm
    this.#policy = policyOf(shape)
    this.#maxKeys = checkInteger('maxKeys', raw.maxKeys ?? 100_000, { min: 1 })
    this.#name = checkString('name', raw.name ?? 'rate-limiter')
  }

  /** The configured limit per window. */
  get limit(): number {
    return this.#limit
  }

  /** The configured window in milliseconds. */
  get window(): number {
    return this.#window
  }

  /** Keys tracked right now. */
  get size(): number {
    return this.#keys.size
  }

  /**
   * Takes `weight` units for `key` if the limit allows.
   *
   * @example
   * if (!limiter.consume(userId, cost).allowed) throw new RateLimitedError(...)
   */
  consume(key: string, weight = 1): RateLimitResult {
    const policy = this.#policy
    checkConsume(key, weight, policy.capacity)
    const now = getClock().monotonic()
    if (++this.#calls % SWEEP_EVERY === 0) this.#sweep(now)
    const keys = this.#keys
    let state = keys.get(key)
    if (state === undefined) {
      if (keys.size >= this.#maxKeys) this.#makeRoom(now)
      state = policy.fresh(now)
    } else keys.delete(key) // re-inserted below: the map stays in least-recently-used order
    keys.set(key, state)
    const result = policy.take(state, now, weight)
    if (result.allowed) this.#allowed++
    else {
      this.#denied++
      if (rateLimitedChannel.active) {
        rateLimitedChannel.publish({ name: this.#name, key, weight, retryAfterMs: result.retryAfterMs })
      }
    }
    return result
  }

  /**
   * Forgets `key` (its full allowance is back).
   *
   * @example
   * limiter.reset(userId) // after a successful login
   */
  reset(key: string): boolean {
    if (typeof key !== 'string') checkString('key', key, { allowEmpty: true })
    return this.#keys.delete(key)
  }

  /**
   * A plain snapshot of the counters.
   *
   * @example
   * const { allowed, denied, keys } = limiter.stats()
   */
  stats(): RateLimiterStats {
    return {
      name: this.#name,
      algorithm: this.#algorithm,
      keys: this.#keys.size,
      allowed: this.#allowed,
      denied: this.#denied,
      evicted: this.#evicted,
    }
  }

  /**
   * Drops keys at the least-recently-used end that have been back to a fresh state for a whole
   * window (a key seen more often than once a window is kept instead of being re-created).
   */
  #sweep(now: number): void {
    const before = now - this.#window
    let checked = 0
    for (const [key, state] of this.#keys) {
      if (state.expiresAt > before || ++checked > SWEEP_MAX) return
      this.#keys.delete(key)
    }
  }

  #makeRoom(now: number): void {
    this.#sweep(now)
    if (this.#keys.size < this.#maxKeys) return
    const oldest = this.#keys.keys().next()
    if (!oldest.done) {
      const state = this.#keys.get(oldest.value)!
      this.#keys.delete(oldest.value)
      if (state.expiresAt > now) this.#evicted++
    }
  }
}
