import { rejectThrough } from '@hotpath/core/internal'
import type { Bucket, BucketItem } from './priority-buckets'

/** Most tasks in one batch: the tasks of a batch get their own wake-up promise when it opens. */
export const BATCH_SIZE = 32

/**
 * Up to {@link BATCH_SIZE} queued `run()` tasks without signal or timeout, consecutive in one
 * priority, sharing ONE promise (the gate). Each caller's promise is `gate.then(continuation)`:
 * created in the caller's frame, so the task keeps the caller's AsyncLocalStorage context, and it
 * needs no promise nor resolving functions of its own while it waits. The gate opens when the
 * first task is granted; the continuations then run in order (reactions of one promise run in
 * the order they were added), each task either granted already, or waiting on a promise of its
 * own from then on. A queued task thus keeps about a third of the memory of a lone waiter.
 */
export class RunBatch implements BucketItem {
  bucket: Bucket<BucketItem> | undefined = undefined
  readonly gate: Promise<RunBatch>
  readonly #open: (batch: RunBatch) => void
  readonly tasks: unknown[] = []
  readonly weights: number[] = []
  /** Monotonic enqueue times. */
  readonly times: number[] = []
  /** Tasks granted so far (always the first ones). */
  granted = 0
  /** Tasks whose continuation has run. */
  started = 0
  #opened = false
  /** Resolvers of the tasks that were not granted when their continuation ran, by index. */
  readonly #wakers: (((value: unknown) => void) | undefined)[] = []
  /** Set by `fail`: builds the error of each task not granted. */
  #failure: (() => unknown) | undefined = undefined

  constructor() {
    let open!: (batch: RunBatch) => void
    this.gate = new Promise<RunBatch>((resolve) => {
      open = resolve
    })
    this.#open = open
  }

  /** Tasks in the batch. */
  get size(): number {
    return this.tasks.length
  }

  /** True while tasks may join: nobody granted yet and room left. */
  get joinable(): boolean {
    return !this.#opened && this.tasks.length < BATCH_SIZE
  }

  add(task: unknown, weight: number, time: number): void {
    this.tasks.push(task)
    this.weights.push(weight)
    this.times.push(time)
  }

  /** Grants the next task; returns its enqueue time. */
  grantNext(): number {
    const index = this.granted++
    if (!this.#opened) {
      this.#opened = true
      this.#open(this)
    } else {
      const wake = this.#wakers[index]
      if (wake !== undefined) {
        this.#wakers[index] = undefined
        wake(undefined)
      }
    }
    return this.times[index]!
  }

  /**
   * Called by the continuation of task `index` when it was not granted yet: resolves when it is,
   * rejects when the batch failed.
   */
  waitTurn(index: number): Promise<unknown> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure())
    return new Promise<unknown>((resolve) => {
      this.#wakers[index] = resolve
    })
  }

  /** Takes task `index` out (the batch keeps no reference to a task that ran). */
  take(index: number): unknown {
    const task = this.tasks[index]
    this.tasks[index] = undefined
    return task
  }

  /** Rejects every task not granted with `makeError()`; returns how many there were. */
  fail(makeError: () => unknown): number {
    this.#failure = makeError
    const count = this.tasks.length - this.granted
    if (!this.#opened) {
      this.#opened = true
      this.#open(this)
      return count
    }
    for (let i = this.granted; i < this.#wakers.length; i++) {
      const wake = this.#wakers[i]
      if (wake !== undefined) {
        this.#wakers[i] = undefined
        rejectThrough(wake, makeError())
      }
    }
    return count
  }
}
