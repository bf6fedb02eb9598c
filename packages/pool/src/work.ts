import { getTimerService, Timeout } from '@hotpath/core'

/**
 * @internal A create or a destroy in flight. `close()` waits for it, but never longer than its
 * timeout: when the timer fires first, `onTimeout` runs and the work counts as finished, so a hung
 * `create` or `destroy` cannot hold the pool (or the process) open. While the pool is open the
 * timer lets the process exit (a waiter's own deadline keeps it alive when someone needs the
 * result); while `close()` waits, it keeps the process alive.
 */
export class Work {
  readonly done: Promise<void>
  readonly controller: AbortController | undefined
  readonly #timer: Timeout | undefined
  readonly #owner: Set<Work>
  #resolve!: () => void
  #finished = false

  /** `owner` is the pool's set of work in flight; `held` is true while `close()` waits. */
  constructor(
    owner: Set<Work>,
    held: boolean,
    timeout: number,
    onTimeout: () => void,
    controller?: AbortController,
  ) {
    this.controller = controller
    this.#owner = owner
    this.done = new Promise<void>((resolve) => {
      this.#resolve = resolve
    })
    if (timeout !== Number.POSITIVE_INFINITY) {
      this.#timer = new Timeout(
        () => {
          if (this.finish()) onTimeout()
        },
        { ref: held },
      )
      getTimerService().add(this.#timer, timeout)
    }
    owner.add(this)
  }

  /** True once finished or timed out. */
  get finished(): boolean {
    return this.#finished
  }

  /** Marks the work done; false when it had already finished (it timed out). */
  finish(): boolean {
    if (this.#finished) return false
    this.#finished = true
    if (this.#timer !== undefined) getTimerService().remove(this.#timer)
    this.#owner.delete(this)
    this.#resolve()
    return true
  }

  /** Keeps the process alive until the work finishes or times out (`close()` is waiting for it). */
  hold(): void {
    this.#timer?.ref()
  }
}
