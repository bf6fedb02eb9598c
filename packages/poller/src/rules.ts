// How `poll()` and `watch()` options resolve into the rules a run reads.
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
import type { PollInfo, PollOptions } from './options'
import { PhaseSchedule } from './phases'

/**
 * @internal a poll's resolved options: its rules, and its delay between checks when that never
 * varies (a fixed interval, no jitter; -1 otherwise), kept apart so polls can share rules.
 */
export interface PollSetup<T> {
  readonly rules: ResolvedPollOptions<T>
  readonly fixedDelay: number
}

/** @internal normalized options, but for the interval of a fixed-interval poll (see `PollSetup`) */
export interface ResolvedPollOptions<T> {
  readonly name: string
  readonly isDone: (state: T) => boolean
  readonly isFailed: ((state: T) => boolean) | undefined
  readonly progress: ((state: T) => unknown) | undefined
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
export function delayRule<T>(o: ResolvedPollOptions<T>, fixedDelay: number): DelayRule<T> {
  if (o.delays !== undefined) return o.delays
  return {
    intervalMs: fixedDelay,
    phases: undefined,
    intervalFn: undefined,
    minInterval: 0,
    maxInterval: Math.max(DEFAULT_MAX_INTERVAL, fixedDelay),
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

const DEFAULT_INTERVAL = 1_000
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
export function resolvePollOptions<T>(options: PollOptions<T> | undefined): PollSetup<T> {
  const o = checkOptionsObject('options', options) as PollOptions<T>
  checkKnownOptions('poll()/watch()', o, POLL_OPTIONS)
  // Polls that set nothing but their interval share one record of default rules: 10,000 of them
  // started at once allocate no rules of their own, and their checks all read the same one.
  if (onlyInterval(o)) {
    const fixedDelay = parseDuration(o.interval ?? DEFAULT_INTERVAL, 'interval')
    return { rules: DEFAULT_RULES as ResolvedPollOptions<T>, fixedDelay }
  }
  return resolve(o)
}

/** Whether `o` sets no option but a duration `interval` (the defaults resolve the rest). */
function onlyInterval(o: object): boolean {
  for (const key in o) {
    const value = (o as Record<string, unknown>)[key]
    if (value === undefined) continue
    if (key !== 'interval' || (typeof value !== 'number' && typeof value !== 'string')) return false
  }
  return true
}

function resolve<T>(o: PollOptions<T>): PollSetup<T> {
  const interval = o.interval ?? DEFAULT_INTERVAL
  let intervalMs = 0
  let schedule: PhaseSchedule | undefined
  let intervalFn: ((info: PollInfo<T>) => Duration) | undefined
  if (interval instanceof PhaseSchedule) schedule = interval
  else if (typeof interval === 'function') intervalFn = interval
  else intervalMs = parseDuration(interval, 'interval')

  // Defaults skip the parsers: a poll with one or two options besides its interval is common.
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
  // the record of a poll with a name or a hook small (many such polls may start at once).
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
    const given = nestedOptions(
      'stall',
      o.stall,
      'an options object { after?, backoff?, onStall?, failAfter? } or false',
    )
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
    const given = nestedOptions(
      'retry',
      o.retry,
      'a number of retries, an options object { retries?, delay?, factor?, shouldRetry? } or false',
    )
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
  const fixedDelay = fixed ? Math.min(Math.max(intervalMs, minInterval), maxInterval) : -1
  // Internal and never handed out.
  const rules: ResolvedPollOptions<T> = {
    name: o.name == null ? 'poll' : checkString('name', o.name),
    isDone: o.isDone === undefined ? truthy : checkFunction<(state: T) => boolean>('isDone', o.isDone),
    isFailed: optionalFunction<(state: T) => boolean>('isFailed', o.isFailed),
    progress: optionalFunction<(state: T) => unknown>('progress', o.progress),
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
  return { rules, fixedDelay }
}

/** A nested options object (`stall`, `retry`), checked with its option names. */
function nestedOptions<O extends object>(
  name: keyof typeof NESTED_OPTIONS,
  value: O,
  expected: string,
): Partial<O> {
  const given = checkOptionsObject(name, value, expected)
  checkKnownOptions(`\`${name}\``, given, NESTED_OPTIONS[name])
  return given
}

const NESTED_OPTIONS = {
  stall: ['after', 'backoff', 'onStall', 'failAfter'],
  retry: ['retries', 'delay', 'factor', 'shouldRetry'],
}

function combine<A>(a: ((arg: A) => void) | undefined, b: ((arg: A) => void) | undefined) {
  if (a === undefined) return b
  if (b === undefined) return a
  return (arg: A) => {
    a(arg)
    b(arg)
  }
}

/** The rules of a poll given no options but its interval. */
const DEFAULT_RULES: ResolvedPollOptions<unknown> = resolve({}).rules
