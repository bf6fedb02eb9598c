import { checkFunction } from '@hotpath/core'
import type { PollContext, PollOptions } from './options'
import { resolvePollOptions } from './rules'
import { PollRun } from './run'
import type { PollSink, PollUpdate } from './run-state'

/**
 * The iterator returned by {@link watch}.
 *
 * @example
 * await using updates = watch(check, { isDone })
 * const first = await updates.next()
 */
export interface PollWatch<T> extends AsyncIterableIterator<PollUpdate<T>>, AsyncDisposable {
  /** Leaves the stream: polling stops and no further check starts. */
  return(): Promise<IteratorResult<PollUpdate<T>, undefined>>
}

class WatchStream<T> implements PollWatch<T>, PollSink<T> {
  readonly #run: PollRun<T>
  #started = false
  #closed = false
  #buffered: PollUpdate<T> | undefined
  #final: { error: Error | undefined; update: PollUpdate<T> | undefined } | undefined
  #waiter:
    | { resolve: (result: IteratorResult<PollUpdate<T>, undefined>) => void; reject: (error: Error) => void }
    | undefined

  constructor(run: (sink: PollSink<T>) => PollRun<T>) {
    this.#run = run(this)
  }

  update(update: PollUpdate<T>): boolean {
    const waiter = this.#waiter
    if (waiter !== undefined) {
      this.#waiter = undefined
      waiter.resolve({ value: update, done: false })
      return true
    }
    // Nobody is reading: keep this one update and pause, so a slow reader never makes a queue.
    this.#buffered = update
    return false
  }

  settle(error: Error | undefined, update: PollUpdate<T> | undefined): void {
    if (this.#closed) return
    this.#final = { error, update }
    const waiter = this.#waiter
    if (waiter !== undefined) {
      this.#waiter = undefined
      this.#deliverFinal(waiter.resolve, waiter.reject)
    }
  }

  next(): Promise<IteratorResult<PollUpdate<T>, undefined>> {
    if (this.#closed) return Promise.resolve({ value: undefined, done: true })
    if (this.#waiter !== undefined) {
      return Promise.reject(new TypeError('watch(): call next() again only after the previous call settled'))
    }
    if (!this.#started) {
      this.#started = true
      this.#run.start()
    }
    const buffered = this.#buffered
    if (buffered !== undefined) {
      this.#buffered = undefined
      this.#run.resume()
      return Promise.resolve({ value: buffered, done: false })
    }
    return new Promise((resolve, reject) => {
      if (this.#final !== undefined) this.#deliverFinal(resolve, reject)
      else this.#waiter = { resolve, reject }
    })
  }

  return(): Promise<IteratorResult<PollUpdate<T>, undefined>> {
    this.#close()
    return Promise.resolve({ value: undefined, done: true })
  }

  throw(error?: unknown): Promise<IteratorResult<PollUpdate<T>, undefined>> {
    this.#close()
    return Promise.reject(error)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#close()
  }

  #close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#buffered = undefined
    if (this.#started && this.#final === undefined) this.#run.stop()
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.resolve({ value: undefined, done: true })
  }

  #deliverFinal(
    resolve: (result: IteratorResult<PollUpdate<T>, undefined>) => void,
    reject: (error: Error) => void,
  ): void {
    const final = this.#final!
    if (final.update !== undefined) {
      // The final update is delivered once; the call after it ends the stream.
      this.#final = { error: undefined, update: undefined }
      resolve({ value: final.update, done: false })
      return
    }
    this.#closed = true
    if (final.error !== undefined) reject(final.error)
    else resolve({ value: undefined, done: true })
  }
}

/**
 * Polls like `poll()` and yields every state as `{ state, progress, attempt, stalled, elapsed,
 * done }`, ending after the final one (`done: true`). Polling starts on the first `next()`. An
 * update is produced only when the previous one was read (a slow loop body delays the next
 * check rather than queueing states). Leaving the loop (`break`, `return`, a throw) stops
 * polling at once: no further check starts and the check in flight sees its signal abort.
 *
 * @example
 * for await (const update of watch(() => api.status(jobId), { isDone: (s) => s.done, progress: (s) => s.percent })) {
 *   bar.update(update.progress)
 *   if (userCancelled) break
 * }
 */
export function watch<T>(
  check: (context: PollContext) => T | PromiseLike<T>,
  options?: PollOptions<T>,
): PollWatch<T> {
  checkFunction('check', check)
  const resolved = resolvePollOptions(options)
  return new WatchStream<T>((sink) => new PollRun<T>(check, resolved, sink))
}
