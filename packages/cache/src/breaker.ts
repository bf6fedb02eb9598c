import { getClock } from '@hotpath/core'

/**
 * Circuit breaker states.
 *
 * @example
 * const state: BreakerState = cache.stats().l2.breaker
 * if (state === 'open') log.warn('L2 skipped: its breaker is open')
 */
export type BreakerState = 'closed' | 'open' | 'half-open'

/**
 * Consecutive-failure circuit breaker driven by timestamps (no timer): after `threshold` failures
 * in a row it opens for `cooldown` ms; the first call after that is a probe whose outcome closes
 * or re-opens it. Only one probe runs at a time.
 */
export class Breaker {
  readonly #threshold: number
  readonly #cooldown: number
  readonly #onChange: (state: BreakerState) => void
  #failures = 0
  #openedAt = 0
  #state: BreakerState = 'closed'
  #probing = false
  opens = 0

  constructor(threshold: number, cooldown: number, onChange: (state: BreakerState) => void) {
    this.#threshold = threshold
    this.#cooldown = cooldown
    this.#onChange = onChange
  }

  /** How long the breaker stays open before a probe. */
  get cooldown(): number {
    return this.#cooldown
  }

  /** Milliseconds until a probe may go out (0 unless the breaker is open and cooling down). */
  get probeIn(): number {
    if (this.#state !== 'open') return 0
    return Math.max(0, this.#cooldown - (getClock().monotonic() - this.#openedAt))
  }

  get state(): BreakerState {
    return this.#state
  }

  /** Whether a call may go out now; when it returns true the caller must report the outcome. */
  allow(): boolean {
    if (this.#state === 'closed') return true
    if (this.#probing) return false
    if (getClock().monotonic() - this.#openedAt < this.#cooldown) return false
    this.#probing = true
    this.#set('half-open')
    return true
  }

  success(): void {
    this.#failures = 0
    this.#probing = false
    if (this.#state !== 'closed') this.#set('closed')
  }

  failure(): void {
    this.#probing = false
    this.#failures++
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failures >= this.#threshold)) {
      this.#openedAt = getClock().monotonic()
      this.opens++
      this.#set('open')
    }
  }

  #set(state: BreakerState): void {
    this.#state = state
    this.#onChange(state)
  }
}
