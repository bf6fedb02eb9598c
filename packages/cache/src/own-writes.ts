/** Most keys with an expected invalidation; past it they are all forgotten (which is safe). */
const MAX_KEYS = 100_000

/**
 * Under server-assisted tracking Redis reports this instance's own writes back to it. Dropping
 * the value it has just put in L1 would make the next read go to L2 for nothing, so each write
 * sent while tracking is live expects one invalidation per key, and that many are skipped.
 *
 * Never stale: Redis reports the writes of a key in the order it applied them, so when another
 * client writes the key after this instance's last write, that report comes after all of this
 * instance's and finds no expectation left: the key is dropped. Forgetting an expectation only
 * costs an L2 read, so expectations are forgotten whenever they might not be met: the write
 * failed (it may not have been applied), tracking was lost or set up again (the report may never
 * come), or too many keys wait.
 */
export class OwnWrites {
  readonly #expected = new Map<string, number>()
  /** Changes on every reset, so a late failure does not cancel an expectation of the next session. */
  #session = 0

  /** Registers writes of `fulls` about to be sent; returns the session to pass to `cancel`. */
  expect(fulls: readonly string[]): number {
    const expected = this.#expected
    if (expected.size + fulls.length > MAX_KEYS) this.reset()
    for (const full of fulls) expected.set(full, (expected.get(full) ?? 0) + 1)
    return this.#session
  }

  /** Takes the report of a change of `full`: true when it was expected (this instance's own write). */
  consume(full: string): boolean {
    const count = this.#expected.get(full)
    if (count === undefined) return false
    if (count === 1) this.#expected.delete(full)
    else this.#expected.set(full, count - 1)
    return true
  }

  /** Writes that failed (or may not have been applied): their reports are not counted on. */
  cancel(fulls: readonly string[], session: number): void {
    if (session !== this.#session) return
    for (const full of fulls) this.consume(full)
  }

  /** Forgets every expectation. */
  reset(): void {
    this.#session++
    this.#expected.clear()
  }

  get size(): number {
    return this.#expected.size
  }
}
