import {
  checkFunction,
  checkInteger,
  checkKnownOptions,
  checkNumber,
  checkOptionsObject,
  checkSignal,
  checkString,
  type Duration,
  invalidOption,
  parseDuration,
} from '@hotpath/core'
import { type PollLimiter, resolveLimiter } from './limiter'
import { PhaseSchedule } from './phases'

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

/** @internal normalized options */
export interface ResolvedPollOptions<T> {
  readonly name: string
  readonly isDone: (state: T) => boolean
  readonly isFailed: ((state: T) => boolean) | undefined
  readonly progress: ((state: T) => unknown) | undefined
  /** The delay between checks when it never varies (a fixed interval, no jitter); -1 otherwise. */
  readonly fixedDelay: number
  /**
   * How delays vary and are bounded; undefined for a plain interval (no `phases`, no interval
   * function, no `minInterval`, `maxInterval` or `jitter`): see `delayRule()`.
   */
  readonly delays: DelayRule<T> | undefined
  readonly initialDelay: number
  /** Stall detection; undefined when stalls are not detected (no `stall`, no `onStall`). */
  readonly stall: StallRule<T> | undefined
  readonly deadline: number
  readonly signal: AbortSignal | undefined
  /** Retries of a throwing check; undefined when a throwing check ends the poll. */
  readonly retry: RetryRule | undefined
  readonly limiter: PollLimiter | undefined
  readonly onAttempt: ((info: { attempt: number; elapsed: number }) => void) | undefined
  readonly onProgress: ((info: PollInfo<T>) => void) | undefined
}

/** @internal resolved `interval`, `minInterval`, `maxInterval` and `jitter` options */
export interface DelayRule<T> {
  readonly intervalMs: number
  readonly phases: PhaseSchedule | undefined
  readonly intervalFn: ((info: PollInfo<T>) => Duration) | undefined
  readonly minInterval: number
  readonly maxInterval: number
  readonly jitter: number
}

/**
 * @internal the delay rule of a poll; for a plain interval, the one its `fixedDelay` implies
 * (created on each call: only retries, stall back-off and `retryAfter` hints ask for it).
 */
export function delayRule<T>(o: ResolvedPollOptions<T>): DelayRule<T> {
  if (o.delays !== undefined) return o.delays
  return {
    intervalMs: o.fixedDelay,
    phases: undefined,
    intervalFn: undefined,
    minInterval: 0,
    maxInterval: Math.max(DEFAULT_MAX_INTERVAL, o.fixedDelay),
    jitter: 0,
  }
}

/** @internal resolved `stall` (and top-level `onStall`) options */
export interface StallRule<T> {
  readonly after: number
  readonly backoff: number
  readonly failAfter: number
  readonly onStall: ((info: PollInfo<T>) => void) | undefined
}

/** @internal resolved `retry` options */
export interface RetryRule {
  readonly retries: number
  readonly delay: number
  readonly factor: number
  readonly shouldRetry: ((error: unknown, failures: number) => boolean) | undefined
}

const truthy = (state: unknown): boolean => Boolean(state)

function optionalFunction<F extends (...args: never[]) => unknown>(
  name: string,
  value: unknown,
): F | undefined {
  return value === undefined ? undefined : checkFunction<F>(name, value)
}

const DEFAULT_MAX_INTERVAL = 120_000
const DEFAULT_STALL_AFTER = 3

const POLL_OPTIONS: readonly (keyof PollOptions<unknown>)[] = [
  'name',
  'isDone',
  'isFailed',
  'progress',
  'interval',
  'initialDelay',
  'minInterval',
  'maxInterval',
  'jitter',
  'stall',
  'deadline',
  'signal',
  'retry',
  'limiter',
  'onAttempt',
  'onProgress',
  'onStall',
]

/** Validates `poll()`/`watch()` options into the record a run reads (never handed out). */
export function resolvePollOptions<T>(options: PollOptions<T> | undefined): ResolvedPollOptions<T> {
  const o = checkOptionsObject('options', options) as PollOptions<T>
  checkKnownOptions('poll()/watch()', o, POLL_OPTIONS)
  return resolve(o)
}

function resolve<T>(o: PollOptions<T>): ResolvedPollOptions<T> {
  const interval = o.interval ?? 1_000
  let intervalMs = 0
  let schedule: PhaseSchedule | undefined
  let intervalFn: ((info: PollInfo<T>) => Duration) | undefined
  if (interval instanceof PhaseSchedule) schedule = interval
  else if (typeof interval === 'function') intervalFn = interval
  else intervalMs = parseDuration(interval, 'interval')

  // Defaults skip the parsers: a poll with one or two options is created often (10,000 at once).
  const minInterval = o.minInterval == null ? 0 : parseDuration(o.minInterval, 'minInterval')
  // The default cap bounds stretching (stalls, hints); it never cuts short an interval the
  // caller configured. A cap the caller sets applies to every delay, as documented.
  const maxInterval =
    o.maxInterval == null
      ? Math.max(DEFAULT_MAX_INTERVAL, schedule === undefined ? intervalMs : schedule.longest)
      : parseDuration(o.maxInterval, 'maxInterval')
  if (maxInterval < minInterval) {
    throw invalidOption('maxInterval', `a duration >= minInterval (${minInterval} ms)`, o.maxInterval)
  }

  // The rarely given options resolve into sub-records that exist only when given, which keeps
  // the record of a plain poll small (10,000 of them are created at once).
  let stall: StallRule<T> | undefined
  const onStall = optionalFunction<(info: PollInfo<T>) => void>('onStall', o.onStall)
  if (o.stall === undefined) {
    // A top-level onStall alone asks to be told of stalls: detect them, stretch nothing.
    if (onStall !== undefined)
      stall = { after: DEFAULT_STALL_AFTER, backoff: 1, failAfter: Number.POSITIVE_INFINITY, onStall }
  } else if (o.stall === false) {
    if (onStall !== undefined) {
      throw invalidOption('onStall', 'left out when `stall` is false (stalls are not detected)', onStall)
    }
  } else {
    const given = checkOptionsObject(
      'stall',
      o.stall,
      'an options object { after?, backoff?, onStall?, failAfter? } or false',
    )
    checkKnownOptions('`stall`', given, ['after', 'backoff', 'onStall', 'failAfter'])
    stall = {
      after: checkInteger('stall.after', given.after ?? DEFAULT_STALL_AFTER, { min: 1 }),
      backoff: checkNumber('stall.backoff', given.backoff ?? 1.5, { min: 1 }),
      failAfter: checkInteger('stall.failAfter', given.failAfter ?? Number.POSITIVE_INFINITY, {
        min: 1,
        allowInfinity: true,
      }),
      onStall: combine(
        optionalFunction<(info: PollInfo<T>) => void>('stall.onStall', given.onStall),
        onStall,
      ),
    }
  }

  let retry: RetryRule | undefined
  if (typeof o.retry === 'number') {
    const retries = checkInteger('retry', o.retry, { min: 0 })
    if (retries > 0) retry = { retries, delay: 1_000, factor: 2, shouldRetry: undefined }
  } else if (o.retry !== undefined && o.retry !== false) {
    const given = checkOptionsObject(
      'retry',
      o.retry,
      'a number of retries, an options object { retries?, delay?, factor?, shouldRetry? } or false',
    )
    checkKnownOptions('`retry`', given, ['retries', 'delay', 'factor', 'shouldRetry'])
    retry = {
      retries: checkInteger('retry.retries', given.retries ?? 3, { min: 0, allowInfinity: true }),
      delay: parseDuration(given.delay ?? 1_000, 'retry.delay'),
      factor: checkNumber('retry.factor', given.factor ?? 2, { min: 1 }),
      shouldRetry: optionalFunction<(error: unknown, failures: number) => boolean>(
        'retry.shouldRetry',
        given.shouldRetry,
      ),
    }
  }

  const jitter = o.jitter == null ? 0 : checkNumber('jitter', o.jitter, { min: 0, max: 1 })
  const fixed = schedule === undefined && intervalFn === undefined && jitter === 0
  const plain = fixed && o.minInterval == null && o.maxInterval == null
  // Internal and never handed out.
  return {
    name: o.name == null ? 'poll' : checkString('name', o.name),
    isDone: o.isDone === undefined ? truthy : checkFunction<(state: T) => boolean>('isDone', o.isDone),
    isFailed: optionalFunction<(state: T) => boolean>('isFailed', o.isFailed),
    progress: optionalFunction<(state: T) => unknown>('progress', o.progress),
    fixedDelay: fixed ? Math.min(Math.max(intervalMs, minInterval), maxInterval) : -1,
    delays: plain
      ? undefined
      : { intervalMs, phases: schedule, intervalFn, minInterval, maxInterval, jitter },
    initialDelay: o.initialDelay == null ? 0 : parseDuration(o.initialDelay, 'initialDelay'),
    stall,
    deadline:
      o.deadline == null
        ? Number.POSITIVE_INFINITY
        : parseDuration(o.deadline, 'deadline', { allowInfinity: true }),
    signal: checkSignal('signal', o.signal),
    retry,
    limiter: resolveLimiter(o.limiter),
    onAttempt: optionalFunction<(info: { attempt: number; elapsed: number }) => void>(
      'onAttempt',
      o.onAttempt,
    ),
    onProgress: optionalFunction<(info: PollInfo<T>) => void>('onProgress', o.onProgress),
  }
}

function combine<A>(a: ((arg: A) => void) | undefined, b: ((arg: A) => void) | undefined) {
  if (a === undefined) return b
  if (b === undefined) return a
  return (arg: A) => {
    a(arg)
    b(arg)
  }
}
