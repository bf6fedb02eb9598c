/** @internal What a lease needs from its pool. */
export interface LeaseOwner<T> {
  /** Returns the slot; `destroy` forces destruction, `error` is checked with `isFatal`. */
  giveBack(slot: unknown, lease: Lease<T>, error: unknown, destroy: boolean): void
}

/**
 * A borrowed resource. Release it exactly once — `await using` does it for you.
 *
 * @example
 * await using lease = await pool.acquire()
 * await lease.resource.query('select 1')
 */
export class Lease<T> {
  readonly #owner: LeaseOwner<T>
  readonly #resource: T
  readonly #slot: unknown
  #released = false

  /** @internal */
  constructor(owner: LeaseOwner<T>, resource: T, slot: unknown) {
    this.#owner = owner
    this.#resource = resource
    this.#slot = slot
  }

  /** The borrowed resource. */
  get resource(): T {
    return this.#resource
  }

  /** True once released or destroyed. */
  get released(): boolean {
    return this.#released
  }

  /**
   * Gives the resource back. With an error the pool's `isFatal(error)` decides whether the
   * resource is broken; a broken one is destroyed instead of being lent again. Throws
   * `E_POOL_DOUBLE_RELEASE` when called twice.
   *
   * @example
   * try { await lease.resource.query(sql); lease.release() }
   * catch (err) { lease.release(err); throw err }
   */
  release(error?: unknown): void {
    this.#owner.giveBack(this.#slot, this, error, false)
    this.#released = true
  }

  /**
   * Destroys the resource instead of returning it. Throws `E_POOL_DOUBLE_RELEASE` after a release.
   *
   * @example
   * if (socket.destroyed) lease.destroy()
   */
  destroy(): void {
    this.#owner.giveBack(this.#slot, this, undefined, true)
    this.#released = true
  }

  /**
   * Releases the lease unless it was already released, so `await using` composes with an
   * explicit `release(err)`.
   *
   * @example
   * await using lease = await pool.acquire()
   */
  [Symbol.asyncDispose](): Promise<void> {
    if (!this.#released) this.release()
    return Promise.resolve()
  }
}
