import { invalidOption } from './options'

/**
 * The source of time for every hotpath package. Read through {@link getClock} at call time,
 * never captured at import, so tests can swap it (or use fake timers) at any moment.
 *
 * @example
 * const frozen: Clock = { now: () => 1_700_000_000_000, monotonic: () => 0 }
 * setClock(frozen)
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (for TTLs and timestamps shown to users). */
  now(): number
  /** Monotonic milliseconds (for measuring elapsed time; never jumps backwards). */
  monotonic(): number
}

/**
 * Low-level timer functions. The default provider calls `globalThis.setTimeout` at call time,
 * so Vitest/Jest fake timers apply without any extra step.
 *
 * @example
 * const timers: TimerProvider = getTimers()
 * timers.clearTimeout(timers.setTimeout(() => {}, 10))
 */
export interface TimerProvider {
  /** Schedules `callback` after `delay` ms (delay is always <= 2^31-1). */
  setTimeout(callback: () => void, delay: number): unknown
  /** Cancels a handle returned by `setTimeout`. */
  clearTimeout(handle: unknown): void
}

/**
 * Largest delay Node's `setTimeout` accepts (2^31-1 ms); a longer one would fire after 1 ms with a
 * `TimeoutOverflowWarning`. Timers of any length go through the timer service, which never asks
 * a {@link TimerProvider} for more.
 *
 * @example
 * const steps = Math.ceil(parseDuration('90d') / MAX_TIMER_DELAY) // 4 underlying timer steps
 */
export const MAX_TIMER_DELAY = 2_147_483_647

const defaultClock: Clock = {
  now: () => Date.now(),
  monotonic: () => globalThis.performance.now(),
}

const defaultTimers: TimerProvider = {
  setTimeout: (callback, delay) => globalThis.setTimeout(callback, delay),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}

let currentClock: Clock = defaultClock
const nativeDateNow = Date.now
const realSetImmediate = globalThis.setImmediate

/** Reads served from the held time before the clock is read again. */
const COARSE_READS = 64
let heldNow = 0
let heldReads = 0
let dropQueued = false

function dropHeldNow(): void {
  heldNow = 0
  dropQueued = false
}
let currentTimers: TimerProvider = defaultTimers

/**
 * Returns the clock in use.
 *
 * @example
 * const started = getClock().monotonic()
 */
export function getClock(): Clock {
  return currentClock
}

/**
 * Replaces the clock (pass nothing to restore the default).
 *
 * @example
 * setClock({ now: () => 0, monotonic: () => 0 })
 * setClock() // back to Date.now / performance.now
 */
export function setClock(clock?: Clock): void {
  if (clock !== undefined && !hasMethods(clock, 'now', 'monotonic')) {
    throw invalidOption('clock', 'a clock ({ now(), monotonic() }) or undefined', clock)
  }
  currentClock = clock ?? defaultClock
}

function hasMethods(value: unknown, ...names: string[]): boolean {
  if (value === null || typeof value !== 'object') return false
  return names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
}

/**
 * Returns the timer provider in use.
 *
 * @example
 * const handle = getTimers().setTimeout(() => {}, 10)
 */
export function getTimers(): TimerProvider {
  return currentTimers
}

/**
 * Replaces the timer provider (pass nothing to restore the default).
 *
 * @example
 * setTimers({ setTimeout: myScheduler.add, clearTimeout: myScheduler.remove })
 */
export function setTimers(provider?: TimerProvider): void {
  if (provider !== undefined && !hasMethods(provider, 'setTimeout', 'clearTimeout')) {
    throw invalidOption(
      'provider',
      'a timer provider ({ setTimeout(), clearTimeout() }) or undefined',
      provider,
    )
  }
  currentTimers = provider ?? defaultTimers
}

/**
 * Wall-clock milliseconds for hot read paths that only compare against expiry times. With the
 * default clock, the time read once is held for the rest of the current event-loop iteration
 * (the way libuv holds its loop time for timers) and for at most 64 calls, so a burst of reads
 * pays one clock read. It can therefore lag `Date.now()` by the time the current iteration has
 * run, never by more than 64 calls in a tight loop. A clock set with {@link setClock}, and a
 * replaced `Date.now` (fake timers), are read on every call.
 *
 * @example
 * const fresh = entry.expiresAt > coarseNow()
 */
export function coarseNow(): number {
  if (currentClock !== defaultClock || Date.now !== nativeDateNow) return currentClock.now()
  if (heldNow !== 0 && --heldReads > 0) return heldNow
  heldNow = nativeDateNow()
  heldReads = COARSE_READS
  if (!dropQueued) {
    dropQueued = true
    // Kept ref'd: an unref'd immediate would let the loop block in its poll phase, and the
    // I/O callbacks that end the wait would then run with the time held from before it.
    realSetImmediate(dropHeldNow)
  }
  return heldNow
}
