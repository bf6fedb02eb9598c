import { type Duration, getTimerService } from '@hotpath/core'
import type { PollContext } from './options'
import { retryAfterMs } from './retry-after'

/** What a check's context reads of its poll (a `PollRun`). */
export interface CheckContextHost<T> {
  readonly attempt: number
  readonly state: T | undefined
  readonly startedAt: number
  /** Records a `retryAfter()` hint (ms) for the next delay. */
  setHint(ms: number): void
  checkSignal(): AbortSignal
  misused(error: Error): void
}

/** The `PollContext` handed to each check: a view on its poll, created once per poll. */
export class CheckContext<T> implements PollContext {
  readonly #run: CheckContextHost<T>
  constructor(run: CheckContextHost<T>) {
    this.#run = run
  }
  get signal(): AbortSignal {
    return this.#run.checkSignal()
  }
  get attempt(): number {
    return this.#run.attempt
  }
  get previous(): unknown {
    return this.#run.state
  }
  get elapsed(): number {
    return getTimerService().now() - this.#run.startedAt
  }
  retryAfter(delay: Duration | string | null | undefined): void {
    let ms: number | undefined
    try {
      ms = retryAfterMs(delay)
    } catch (error) {
      // A usage error, not a transient one: the poll rejects with it instead of retrying.
      this.#run.misused(error as Error)
      throw error
    }
    if (ms !== undefined) this.#run.setHint(ms)
  }
}
