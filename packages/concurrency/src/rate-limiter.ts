import {
  checkInteger,
  checkOneOf,
  checkString,
  type Duration,
  describeMetrics,
  eventChannel,
  getClock,
  metricsSource,
  parseDuration,
} from '@hotpath/core'
import { concurrencyChannels } from './channels'
import { readOptions } from './internal/options'

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

/** What every key keeps: when it is back to a fresh state and can be forgotten (monotonic ms). */
interface KeyState {
  expiresAt: number
}

/** One algorithm: how a key starts and how a consume changes it. */
interface Policy {
  /** Units one call may take at most. */
  readonly capacity: number
  fresh(now: number): KeyState
  take(state: KeyState, now: number, weight: number): RateLimitResult
}

class WindowState implements KeyState {
  expiresAt = 0
  /** Units in the ring. */
  total = 0
  /** Newest segment index seen. */
  at: number
  /** Newest segment that holds units. */
  last: number
  /** Units per segment, a ring of `segments + 1`. */
  readonly counts: Float64Array

  constructor(segment: number, size: number) {
    this.at = segment
    this.last = segment
    this.counts = new Float64Array(size)
  }
}

/** Never more than `limit` in any window, counted in `segments` sub-windows (conservatively). */
class SlidingWindow implements Policy {
  readonly capacity: number
  readonly #segments: number
  readonly #segmentMs: number

  constructor({ limit, window, segments }: LimitShape) {
    this.capacity = limit
    this.#segments = segments
    this.#segmentMs = window / segments
  }

  fresh(now: number): WindowState {
    return new WindowState(Math.floor(now / this.#segmentMs), this.#segments + 1)
  }

  take(state: WindowState, now: number, weight: number): RateLimitResult {
    const limit = this.capacity
    const counts = state.counts
    const ring = counts.length
    const segmentMs = this.#segmentMs
    const segment = Math.floor(now / segmentMs)
    if (segment - state.at >= ring) {
      counts.fill(0)
      state.total = 0
    } else {
      for (let s = state.at + 1; s <= segment; s++) {
        const slot = s % ring
        state.total -= counts[slot]!
        counts[slot] = 0
      }
    }
    if (segment > state.at) state.at = segment
    const allowed = state.total + weight <= limit
    if (allowed && weight > 0) {
      counts[segment % ring]! += weight
      state.total += weight
      state.last = segment
    }
    if (state.total < 1e-9) state.total = 0
    // A segment's units leave the window `ring` segments after it began.
    state.expiresAt = (state.last + ring) * segmentMs
    let retryAfterMs = 0
    if (!allowed) {
      const need = state.total + weight - limit
      let freed = 0
      for (let s = segment - ring + 1; s <= segment; s++) {
        freed += counts[((s % ring) + ring) % ring]!
        if (freed >= need) {
          retryAfterMs = (s + ring) * segmentMs - now
          break
        }
      }
    }
    return {
      allowed,
      remaining: limit - state.total,
      retryAfterMs,
      resetMs: state.total === 0 ? 0 : state.expiresAt - now,
    }
  }
}

class BucketState implements KeyState {
  expiresAt = 0
  tokens: number
  /** Last refill time. */
  at: number

  constructor(tokens: number, at: number) {
    this.tokens = tokens
    this.at = at
  }
}

/** A bucket of `burst` tokens refilled at `limit / window`. */
class TokenBucket implements Policy {
  readonly capacity: number
  readonly #rate: number

  constructor({ limit, window, burst }: LimitShape) {
    this.capacity = burst
    this.#rate = limit / window
  }

  fresh(now: number): BucketState {
    return new BucketState(this.capacity, now)
  }

  take(state: BucketState, now: number, weight: number): RateLimitResult {
    const rate = this.#rate
    const capacity = this.capacity
    state.tokens = Math.min(capacity, state.tokens + (now - state.at) * rate)
    state.at = now
    const allowed = state.tokens >= weight
    if (allowed) state.tokens -= weight
    const resetMs = (capacity - state.tokens) / rate
    state.expiresAt = now + resetMs
    return {
      allowed,
      remaining: Math.floor(state.tokens),
      retryAfterMs: allowed ? 0 : (weight - state.tokens) / rate,
      resetMs,
    }
  }
}

/** GCRA keeps one number per key: its theoretical arrival time, which is also when it is fresh. */
class GcraState implements KeyState {
  expiresAt: number

  constructor(now: number) {
    this.expiresAt = now
  }
}

/** The token bucket's policy as the generic cell rate algorithm (leaky bucket as a meter). */
class Gcra implements Policy {
  readonly capacity: number
  readonly #interval: number
  readonly #tolerance: number

  constructor({ limit, window, burst }: LimitShape) {
    this.capacity = burst
    this.#interval = window / limit
    this.#tolerance = burst * this.#interval
  }

  fresh(now: number): GcraState {
    return new GcraState(now)
  }

  take(state: GcraState, now: number, weight: number): RateLimitResult {
    const interval = this.#interval
    const tolerance = this.#tolerance
    const tat = Math.max(state.expiresAt, now)
    const next = tat + weight * interval
    const allowAt = next - tolerance
    const allowed = now >= allowAt - 1e-9
    if (allowed) state.expiresAt = next
    else if (state.expiresAt < now) state.expiresAt = now
    const ahead = state.expiresAt - now
    return {
      allowed,
      remaining: Math.max(0, Math.floor((tolerance - ahead) / interval + 1e-9)),
      retryAfterMs: allowed ? 0 : allowAt - now,
      resetMs: ahead,
    }
  }
}

function policyOf(shape: LimitShape): Policy {
  if (shape.algorithm === 'sliding-window') return new SlidingWindow(shape)
  if (shape.algorithm === 'token-bucket') return new TokenBucket(shape)
  return new Gcra(shape)
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
