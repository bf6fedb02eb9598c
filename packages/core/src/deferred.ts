import { HotpathError } from './errors'

/**
 * A promise with its `resolve` and `reject` exposed (`Promise.withResolvers` for Node 20).
 *
 * @example
 * const ready: Deferred<void> = deferred()
 * server.once('listening', () => ready.resolve())
 */
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T | PromiseLike<T>): void
  reject(reason?: unknown): void
}

/**
 * Creates a {@link Deferred}.
 *
 * @example
 * const d = deferred<number>()
 * setImmediate(() => d.resolve(42))
 * await d.promise // 42
 */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T | PromiseLike<T>) => void
  let reject!: (reason?: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

let capturedResolve: ((value: unknown) => void) | undefined

// One shared executor: creating a promise allocates no closure.
function capture(resolve: (value: unknown) => void): void {
  capturedResolve = resolve
}

/**
 * A new pending promise created without a closure, for code that makes many of them (a queue
 * entry per waiter, one per poll). Take its `resolve` with {@link lastResolve} right after the
 * call; settle it as rejected with {@link rejectThrough}, so only `resolve` needs keeping.
 *
 * @example
 * const promise = newPromise<number>()
 * const resolve = lastResolve<number>()
 * waiters.push(resolve) // later: resolve(42), or rejectThrough(resolve, new Error('closed'))
 */
export function newPromise<T>(): Promise<T> {
  return new Promise<T>(capture as (resolve: (value: T) => void) => void)
}

/**
 * The `resolve` function of the promise {@link newPromise} made last; call it once, right after
 * `newPromise()`. It is handed over, not kept: a settled promise holds its value, so keeping its
 * `resolve` here would keep that value alive until the next `newPromise()`.
 *
 * @example
 * const gate = newPromise<void>()
 * const open = lastResolve<void>()
 */
export function lastResolve<T>(): (value: T) => void {
  const resolve = capturedResolve
  if (resolve === undefined) {
    throw new HotpathError(
      'E_NO_PROMISE',
      'lastResolve() hands out each resolve once: call newPromise() first.',
    )
  }
  capturedResolve = undefined
  return resolve
}

/**
 * Rejects the promise of `resolve` with `reason`, by resolving it with a thenable that rejects
 * (the promise settles one microtask later than with its own `reject`).
 *
 * @example
 * const done = newPromise<string>()
 * rejectThrough(lastResolve<string>(), new Error('stopped'))
 * await done // throws Error('stopped')
 */
export function rejectThrough(resolve: (value: never) => void, reason: unknown): void {
  ;(resolve as (value: unknown) => void)(new Rejection(reason))
}

/** A thenable that rejects: a promise resolved with it rejects with `reason`. */
class Rejection {
  readonly #reason: unknown

  constructor(reason: unknown) {
    this.#reason = reason
  }

  // biome-ignore lint/suspicious/noThenProperty: resolving a promise with this thenable rejects it.
  then(_resolve: unknown, reject: (reason: unknown) => void): void {
    reject(this.#reason)
  }
}
