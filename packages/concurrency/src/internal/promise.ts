/**
 * Promises that keep only their `resolve` function: the `reject` function is garbage at once (a
 * queued waiter is smaller by it), and {@link rejectThrough} settles them as rejected instead.
 */

let capturedResolve: (value: unknown) => void

// One shared executor: creating a promise allocates no closure.
function capture(resolve: (value: unknown) => void): void {
  capturedResolve = resolve
}

/**
 * A new promise, created without a closure; call {@link lastResolve} right after for its
 * `resolve` function.
 */
export function newPromise<T>(): Promise<T> {
  return new Promise<T>(capture as (resolve: (value: T) => void) => void)
}

/** The `resolve` function of the promise {@link newPromise} made last. */
export function lastResolve<T>(): (value: T) => void {
  return capturedResolve
}

/** Rejects the promise of `resolve` with `reason` (resolving it with a {@link Rejection}). */
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
