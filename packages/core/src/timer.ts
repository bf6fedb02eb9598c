import { getTimers, type TimerProvider } from './clock'
import { checkFunction, invalidOption } from './options'

/**
 * Largest delay Node's `setTimeout` accepts; longer delays are chained in steps of this size.
 *
 * @example
 * const steps = Math.ceil(parseDuration('90d') / MAX_TIMER_DELAY) // 4 chained setTimeout calls
 */
export const MAX_TIMER_DELAY = 2_147_483_647

/**
 * A cancellable timer that handles any delay, including ones above 2^31-1 ms (which
 * `setTimeout` would otherwise fire after 1 ms).
 *
 * @example
 * const timer: TimerHandle = schedule(() => refresh(), 60_000).unref()
 * if (timer.active) timer.cancel()
 */
export interface TimerHandle {
  /** Cancels the timer; safe to call more than once or after it fired. */
  cancel(): void
  /** Lets the process exit while this timer is pending. */
  unref(): TimerHandle
  /** Keeps the process alive while this timer is pending (the default). */
  ref(): TimerHandle
  /** True until the timer fires or is cancelled. */
  readonly active: boolean
}

class ChainedTimer implements TimerHandle {
  #handle: unknown
  #remaining: number
  #callback: () => void
  readonly #timers: TimerProvider
  #referenced = true
  #active = true

  constructor(callback: () => void, delay: number, timers: TimerProvider) {
    this.#callback = callback
    this.#remaining = Math.max(0, delay)
    this.#timers = timers
    this.#arm()
  }

  get active(): boolean {
    return this.#active
  }

  #arm(): void {
    const step = Math.min(this.#remaining, MAX_TIMER_DELAY)
    this.#remaining -= step
    this.#handle = this.#timers.setTimeout(() => this.#fire(), step)
    if (!this.#referenced) applyRef(this.#handle, false)
  }

  #fire(): void {
    if (!this.#active) return
    if (this.#remaining > 0) {
      this.#arm()
      return
    }
    this.#active = false
    this.#handle = undefined
    this.#callback()
  }

  cancel(): void {
    if (!this.#active) return
    this.#active = false
    this.#timers.clearTimeout(this.#handle)
    this.#handle = undefined
  }

  unref(): TimerHandle {
    this.#referenced = false
    applyRef(this.#handle, false)
    return this
  }

  ref(): TimerHandle {
    this.#referenced = true
    applyRef(this.#handle, true)
    return this
  }
}

function applyRef(handle: unknown, ref: boolean): void {
  if (handle && typeof handle === 'object') {
    const timer = handle as { ref?: () => unknown; unref?: () => unknown }
    if (ref) timer.ref?.()
    else timer.unref?.()
  }
}

/**
 * Schedules `callback` after `delay` ms through `timers` (default: the current timer provider,
 * read now). Delays above 2^31-1 ms are chained, so a 60-day TTL refresh fires after 60 days,
 * not after 1 ms.
 *
 * @example
 * const timer = schedule(() => refresh(), parseDuration('90d'))
 * timer.unref()
 * timer.cancel()
 */
export function schedule(
  callback: () => void,
  delay: number,
  timers: TimerProvider = getTimers(),
): TimerHandle {
  checkFunction('callback', callback)
  if (typeof delay !== 'number' || Number.isNaN(delay)) {
    throw invalidOption('delay', 'a number of milliseconds', delay)
  }
  return new ChainedTimer(callback, delay, timers)
}
