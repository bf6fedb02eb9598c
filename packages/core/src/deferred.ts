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

/**
 * Rejects the promise of `resolve` with `reason`, by resolving it with a thenable that rejects
 * (the promise settles one microtask later than with its own `reject`).
 *
 * Code that makes many promises (a queue entry per waiter) can then keep only `resolve`.
 *
 * @example
 * let resolve!: (value: string) => void
 * const done = new Promise<string>((r) => { resolve = r })
 * rejectThrough(resolve, new Error('stopped'))
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
