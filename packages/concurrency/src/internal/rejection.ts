/**
 * A thenable that rejects: a promise resolved with it rejects with `reason`. A waiter keeps only
 * the `resolve` function of its promise (the `reject` function is garbage at once, a queued waiter
 * is smaller by it) and settles it as rejected through this.
 */
export class Rejection {
  readonly #reason: unknown

  constructor(reason: unknown) {
    this.#reason = reason
  }

  // biome-ignore lint/suspicious/noThenProperty: resolving a promise with this thenable rejects it.
  then(_resolve: unknown, reject: (reason: unknown) => void): void {
    reject(this.#reason)
  }
}
