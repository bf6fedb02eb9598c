import { type Duration, parseDuration } from './duration'
import { AbortedError, TimeoutError } from './errors'
import { checkFunction, checkSignal, invalidOption, isThenable, readOptions } from './options'
import { schedule, type TimerHandle } from './timers/schedule'

/** Throws the standard TypeError unless `signal` is an `AbortSignal`. */
function requireSignal(signal: unknown): void {
  if (!(signal instanceof AbortSignal)) throw invalidOption('signal', 'an AbortSignal', signal)
}

/** Throws the standard TypeError unless `promise` is a promise or another thenable. */
function checkPromise(promise: unknown): void {
  if (!isThenable(promise)) throw invalidOption('promise', 'a promise (or another thenable)', promise)
}

/**
 * The error a wait rejects with when `signal` aborts: the signal's reason when it is an Error,
 * otherwise an {@link AbortedError} carrying the reason as `cause`.
 *
 * @example
 * if (signal.aborted) throw abortReason(signal)
 */
export function abortReason(signal: AbortSignal): Error {
  requireSignal(signal)
  const reason: unknown = signal.reason
  if (reason instanceof Error) return reason
  return new AbortedError(undefined, { cause: reason })
}

/**
 * Throws {@link abortReason} if the signal is already aborted.
 *
 * @example
 * throwIfAborted(options.signal)
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  checkSignal('signal', signal)
  if (signal?.aborted) throw abortReason(signal)
}

/**
 * Subscribes `listener` to a signal's abort, returning a function that unsubscribes. When the
 * signal is already aborted the listener runs on the next microtask.
 *
 * @example
 * const off = onAbort(signal, () => waiter.cancel())
 * try { await work() } finally { off() }
 */
export function onAbort(signal: AbortSignal | undefined, listener: () => void): () => void {
  checkSignal('signal', signal)
  checkFunction('listener', listener)
  if (!signal) return noop
  if (signal.aborted) {
    queueMicrotask(listener)
    return noop
  }
  signal.addEventListener('abort', listener, { once: true })
  return () => signal.removeEventListener('abort', listener)
}

function noop(): void {}

/**
 * Races `promise` against `signal`: settles like the promise, or rejects with the abort reason
 * as soon as the signal aborts. The abort listener is removed on every path. The promise itself
 * keeps running (pass the signal to the work too if it can stop early).
 *
 * @example
 * const body = await abortable(response.text(), AbortSignal.timeout(1_000))
 */
export function abortable<T>(promise: PromiseLike<T>, signal: AbortSignal | undefined): Promise<T> {
  checkPromise(promise)
  checkSignal('signal', signal)
  if (!signal) return Promise.resolve(promise)
  if (signal.aborted) {
    // The caller will not see this promise's outcome; keep it from becoming an unhandled rejection.
    Promise.resolve(promise).catch(noop)
    return Promise.reject(abortReason(signal))
  }
  return new Promise<T>((resolve, reject) => {
    const listener = () => reject(abortReason(signal))
    signal.addEventListener('abort', listener, { once: true })
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener('abort', listener)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', listener)
        reject(error)
      },
    )
  })
}

/**
 * Options of {@link deadlineSignal}.
 *
 * @example
 * const options: DeadlineOptions = { timeout: 2_000, signal, timeoutError: () => new Error('too slow') }
 * const row = await withTimeout(db.query(sql), options)
 */
export interface DeadlineOptions {
  /**
   * How long until the derived signal aborts (milliseconds or a string like `'2s'`); `undefined`
   * or `Infinity` for no timeout.
   */
  timeout?: Duration | undefined
  /** A parent signal; its abort propagates to the derived signal. */
  signal?: AbortSignal | undefined
  /** Builds the abort reason when the timeout elapses. @default a {@link TimeoutError} */
  timeoutError?: (() => Error) | undefined
}

/**
 * A signal combining a timeout with a parent signal; call `clear()` when the work is done.
 *
 * @example
 * const deadline: Deadline = deadlineSignal({ timeout: 500, signal })
 * try { await work(deadline.signal) } finally { deadline.clear() }
 */
export interface Deadline {
  /** Aborts when the timeout elapses or the parent signal aborts, whichever comes first. */
  readonly signal: AbortSignal
  /** Removes the parent listener and cancels the timer. Idempotent. Always call it. */
  clear(): void
}

/**
 * Combines a timeout and an optional parent signal into one signal. Unlike
 * `AbortSignal.any([AbortSignal.timeout(ms), signal])`, `clear()` removes the parent listener and
 * the timer at once instead of waiting for garbage collection, so 10,000 short waits on one
 * long-lived signal leave nothing behind. A bad timeout, signal, `timeoutError` or option name
 * throws a `TypeError` at once.
 *
 * @example
 * const deadline = deadlineSignal({ timeout: 2_000, signal: request.signal })
 * try { return await fetch(url, { signal: deadline.signal }) } finally { deadline.clear() }
 */
export function deadlineSignal(options: DeadlineOptions): Deadline {
  return createDeadline(readDeadline('deadlineSignal()', options))
}

const DEADLINE_OPTIONS = ['timeout', 'signal', 'timeoutError']

/** Deadline options, checked. */
interface CheckedDeadline {
  timeout: number | undefined
  signal: AbortSignal | undefined
  timeoutError: (() => Error) | undefined
}

/** Checks the options of {@link deadlineSignal} or {@link withTimeout} (`where`). */
function readDeadline(where: string, options: DeadlineOptions | undefined): CheckedDeadline {
  const raw = readOptions(where, options, DEADLINE_OPTIONS)
  return {
    timeout:
      raw.timeout === undefined ? undefined : parseDuration(raw.timeout, 'timeout', { allowInfinity: true }),
    signal: checkSignal('signal', raw.signal),
    timeoutError:
      raw.timeoutError === undefined
        ? undefined
        : checkFunction<() => Error>('timeoutError', raw.timeoutError),
  }
}

function createDeadline({ timeout, signal: parent, timeoutError }: CheckedDeadline): Deadline {
  const controller = new AbortController()
  let timer: TimerHandle | undefined
  let offParent: () => void = noop
  const clear = () => {
    timer?.cancel()
    timer = undefined
    offParent()
    offParent = noop
  }
  if (parent?.aborted) {
    controller.abort(parent.reason)
    return { signal: controller.signal, clear }
  }
  if (parent) {
    const listener = () => {
      clear()
      controller.abort(parent.reason)
    }
    parent.addEventListener('abort', listener, { once: true })
    offParent = () => parent.removeEventListener('abort', listener)
  }
  if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
    timer = schedule(() => {
      timer = undefined
      offParent()
      offParent = noop
      controller.abort(timeoutError ? timeoutError() : new TimeoutError(timeout))
    }, timeout)
  }
  return { signal: controller.signal, clear }
}

/**
 * Awaits `promise` with a timeout and an optional signal, rejecting with a {@link TimeoutError}
 * (or `timeoutError()`) when time runs out. Timer and listener are removed on every path. A
 * `promise` that is not a thenable, or bad options, throw a `TypeError` at once.
 *
 * @example
 * const row = await withTimeout(db.query(sql), { timeout: 500, signal })
 */
export function withTimeout<T>(promise: PromiseLike<T>, options: DeadlineOptions): Promise<T> {
  checkPromise(promise)
  const checked = readDeadline('withTimeout()', options)
  if (checked.timeout === undefined && !checked.signal) return Promise.resolve(promise)
  const deadline = createDeadline(checked)
  return abortable(promise, deadline.signal).finally(deadline.clear)
}

const SLEEP_OPTIONS = ['signal']

/**
 * Resolves after `ms` (milliseconds or a string like `'250ms'`) through the current timer
 * provider, or rejects when `signal` aborts (the timer and the listener are removed either way).
 * A bad duration, signal or option name throws a `TypeError` at once.
 *
 * @example
 * await sleep(250, { signal })
 */
export function sleep(ms: Duration, options?: { signal?: AbortSignal | undefined }): Promise<void> {
  const delay = parseDuration(ms, 'ms')
  const signal = checkSignal('signal', readOptions('sleep()', options, SLEEP_OPTIONS).signal)
  if (signal?.aborted) return Promise.reject(abortReason(signal))
  return new Promise<void>((resolve, reject) => {
    let off: () => void = noop
    const timer = schedule(() => {
      off()
      resolve()
    }, delay)
    off = onAbort(signal, () => {
      timer.cancel()
      reject(abortReason(signal!))
    })
  })
}
