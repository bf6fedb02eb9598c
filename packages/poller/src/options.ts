// The options of `poll()` and `watch()` and what their checks and hooks receive.
import type { Duration } from '@hotpath/core'
import type { PollLimiter } from './limiter'
import type { PhaseSchedule } from './phases'

/**
 * What a check receives.
 *
 * @example
 * poll(async (ctx) => {
 *   const res = await fetch(url, { signal: ctx.signal })
 *   if (res.status === 429) ctx.retryAfter(res.headers.get('retry-after'))
 *   return res.json()
 * }, { isDone: (s) => s.done })
 */
export interface PollContext {
  /**
   * Aborts when the poll ends early: its `signal` aborted (reason: the signal's reason), its
   * `deadline` passed (reason: a `PollTimeoutError`), or the `watch()` loop was left.
   */
  readonly signal: AbortSignal
  /** This check's number, from 1. */
  readonly attempt: number
  /** The state the previous successful check returned. */
  readonly previous: unknown
  /** Milliseconds since polling started. */
  readonly elapsed: number
  /**
   * Asks for the next check no sooner than `delay` from now, capped at `maxInterval`. Takes a
   * duration (`250`, `'5s'`) or a `Retry-After` header value exactly as received: delta-seconds
   * (`'120'`) or an HTTP-date (the delay until then); `null`/`undefined` (no header) is no hint.
   * Applies to the delay after this check, whether it returns or throws. Any other value throws a
   * `TypeError`, and the poll rejects with it (no retry).
   */
  retryAfter(delay: Duration | string | null | undefined): void
}

/**
 * What interval functions and hooks receive after a check.
 *
 * @example
 * poll(check, { isDone, onProgress: (info) => console.log(info.attempt, info.progress, info.elapsed) })
 */
export interface PollInfo<T> {
  /** The state the check returned. */
  state: T
  /** `progress(state)` (the state itself without a `progress` option). */
  progress: unknown
  /** The check's number, from 1. */
  attempt: number
  /** Consecutive checks whose progress did not change (0 when this one moved). */
  stalled: number
  /** Milliseconds since polling started. */
  elapsed: number
}

/**
 * The `interval` option: milliseconds, a duration string, a {@link phases} schedule or a function.
 *
 * @example
 * const interval: PollInterval<Job> = ({ attempt }) => (attempt < 5 ? '1s' : '5s')
 * await poll(check, { isDone, interval })
 */
export type PollInterval<T> = Duration | PhaseSchedule | ((info: PollInfo<T>) => Duration)

/**
 * Stall handling: stretch the interval when progress stops changing.
 *
 * @example
 * await poll(check, { isDone, progress: (s) => s.percent, stall: { after: 3, backoff: 2, failAfter: 20 } })
 */
export interface StallOptions<T> {
  /** Consecutive checks without progress before the interval stretches. @default 3 */
  after?: number
  /** Factor applied per further stalled check (interval × backoff^(stalled − after + 1)). @default 1.5 */
  backoff?: number
  /** Called once per stall, when `after` checks in a row showed no progress. @default undefined */
  onStall?: (info: PollInfo<T>) => void
  /** Reject with `PollStalledError` after this many checks without progress. @default Infinity */
  failAfter?: number
}

/**
 * Retries of a check that throws (a transient error).
 *
 * @example
 * await poll(check, { isDone, retry: { retries: 5, delay: '200ms', factor: 2 } })
 */
export interface RetryOptions {
  /** Further tries after consecutive failures. @default 3 */
  retries?: number
  /** Delay before the first retry. @default '1s' */
  delay?: Duration
  /** Growth of the delay per consecutive failure (capped at `maxInterval`). @default 2 */
  factor?: number
  /** Decides whether an error is transient; false rejects at once. @default () => true */
  shouldRetry?: (error: unknown, failures: number) => boolean
}

/**
 * Options of `poll()` and `watch()`.
 *
 * @example
 * const options: PollOptions<Job> = { isDone: (j) => j.done, interval: '2s', deadline: '5m' }
 */
export interface PollOptions<T> {
  /** Label for stats and channel messages. @default 'poll' */
  name?: string
  /** True when the polled state is final. @default (state) => Boolean(state) */
  isDone?: (state: T) => boolean
  /** True when the state says the job failed: rejects with `PollFailedError`. @default undefined */
  isFailed?: (state: T) => boolean
  /**
   * Extracts the progress, compared with `Object.is` to detect stalls and used by `phases`.
   * @default (state) => state
   */
  progress?: (state: T) => unknown
  /** Delay between checks. @default '1s' */
  interval?: PollInterval<T>
  /** Delay before the first check. @default 0 */
  initialDelay?: Duration
  /** Lower bound of every delay. @default 0 */
  minInterval?: Duration
  /**
   * Upper bound of every delay, configured intervals, stalls and `retryAfter` hints included.
   * @default '2m', or the longest number, duration or `phases` interval when that is longer
   */
  maxInterval?: Duration
  /** Random spread of each delay, as a fraction (0.1 = ±10%). @default 0 */
  jitter?: number
  /** Stretch the interval when progress stalls; `false` disables. @default false */
  stall?: StallOptions<T> | false
  /** Total time allowed; aborts the check in flight and rejects with `PollTimeoutError`. @default Infinity */
  deadline?: Duration
  /** Aborts polling: rejects with `PollAbortedError`, aborts the check in flight. @default undefined */
  signal?: AbortSignal
  /** Retries of a throwing check: a number of retries, options, or `false` for none. @default false */
  retry?: number | RetryOptions | false
  /**
   * A shared quota on checks: a `PollLimiter`, the name given to `defineLimiter`, or `true` for
   * the limiter defined as `defineLimiter('default', ...)`. @default undefined
   */
  limiter?: PollLimiter | string | boolean
  /** Called before each check. @default undefined */
  onAttempt?: (info: { attempt: number; elapsed: number }) => void
  /** Called when the progress changes (including the first observation). @default undefined */
  onProgress?: (info: PollInfo<T>) => void
  /**
   * Called once per stall (see `stall.after`). Given without `stall`, it turns stall detection on
   * with `after: 3` and no stretching; with `stall: false` it is an error. @default undefined
   */
  onStall?: (info: PollInfo<T>) => void
}
