// The three in-memory algorithms: the state each key keeps and how a consume changes it.
import type { LimitShape, RateLimitResult } from './rate-limiter-types'

/** What every key keeps: when it is back to a fresh state and can be forgotten (monotonic ms). */
export interface KeyState {
  expiresAt: number
}

/** One algorithm: how a key starts and how a consume changes it. */
export interface Policy {
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

export function policyOf(shape: LimitShape): Policy {
  if (shape.algorithm === 'sliding-window') return new SlidingWindow(shape)
  if (shape.algorithm === 'token-bucket') return new TokenBucket(shape)
  return new Gcra(shape)
}
