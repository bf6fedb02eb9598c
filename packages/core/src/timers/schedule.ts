import type { TimerProvider } from '../clock'
import { checkFunction, invalidOption } from '../options'
import { TimerEntry } from './entry'
import { getTimerService, TimerService } from './service'

/**
 * A cancellable one-shot timer of any length, pending on the timer service.
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

/** A delay no timer reaches in practice; `Infinity` and larger delays are held at it. */
const NEVER = Number.MAX_SAFE_INTEGER

class ScheduledTimer extends TimerEntry implements TimerHandle {
  readonly #callback: () => void
  readonly #service: TimerService

  constructor(callback: () => void, service: TimerService) {
    super()
    this.#callback = callback
    this.#service = service
  }

  get active(): boolean {
    return this.pending
  }

  cancel(): void {
    this.#service.remove(this)
  }

  fire(): void {
    this.#callback()
  }
}

/** Services of the providers passed to `schedule()`, one per provider. */
const byProvider = new WeakMap<TimerProvider, TimerService>()

function serviceOf(timers: TimerProvider): TimerService {
  let service = byProvider.get(timers)
  if (service === undefined) {
    service = new TimerService({ timers })
    byProvider.set(timers, service)
  }
  return service
}

/**
 * Schedules `callback` after `delay` ms as one entry of the process-wide timer service (of a
 * service of its own for an explicit `timers` provider). Any delay is honoured: a 60-day TTL
 * refresh fires after 60 days, not after 1 ms; `Infinity` never fires. Like `setTimeout`, the
 * timer keeps the process alive while pending unless `unref()`ed, and the callback runs in the
 * async context `schedule` was called in.
 *
 * @example
 * const timer = schedule(() => refresh(), parseDuration('90d'))
 * timer.unref()
 * timer.cancel()
 */
export function schedule(callback: () => void, delay: number, timers?: TimerProvider): TimerHandle {
  checkFunction('callback', callback)
  // NaN is refused: `setTimeout` would quietly fire it after 1 ms, hiding a broken computation.
  if (typeof delay !== 'number' || Number.isNaN(delay)) {
    throw invalidOption('delay', 'a number of milliseconds', delay)
  }
  const service = timers === undefined ? getTimerService() : serviceOf(timers)
  const timer = new ScheduledTimer(callback, service)
  // As with `setTimeout`, a negative delay means "as soon as possible".
  service.add(timer, Math.min(Math.max(delay, 0), NEVER))
  return timer
}
