/** What permits are returned to: the semaphore that granted them. */
export interface PermitSource {
  release(weight: number): void
}

/**
 * Held permits; give them back with `release()` or let `using`/`await using` do it.
 * Releasing twice is a no-op.
 *
 * @example
 * await using permit = await sem.acquire()
 * await work() // released when the block exits
 */
export class Permit implements Disposable, AsyncDisposable {
  readonly #semaphore: PermitSource
  /** Permits held. */
  readonly weight: number
  #held = true

  /** @internal */
  constructor(semaphore: PermitSource, weight: number) {
    this.#semaphore = semaphore
    this.weight = weight
  }

  /** True until released. */
  get held(): boolean {
    return this.#held
  }

  /**
   * Returns the permits; returns false when they were already returned.
   *
   * @example
   * const permit = await sem.acquire(); try { await work() } finally { permit.release() }
   */
  release(): boolean {
    if (!this.#held) return false
    this.#held = false
    this.#semaphore.release(this.weight)
    return true
  }

  [Symbol.dispose](): void {
    this.release()
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.release()
    return Promise.resolve()
  }
}
