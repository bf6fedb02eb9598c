import { abortReason, checkInteger, checkSignal, deferred } from '@hotpath/core'
import { readOptions } from './internal/options'
import type { WatchOptions } from './semaphore-types'

/**
 * A caller of `onIdle`/`onEmpty`/`onSizeLessThan`: settled once fewer than `below` callers wait
 * (and, with `idle`, no permit is held).
 */
export interface Watch {
  below: number
  idle: boolean
  resolve: () => void
  /** Removes the abort listener, if any. */
  off: () => void
}

function noop(): void {}

/**
 * The `onIdle`/`onEmpty`/`onSizeLessThan` part of `Semaphore`, written against its public
 * `waiting` and `inUse`. The semaphore passes its own watch list to the constructor and settles it
 * ({@link settleWatches}) after each change: its release path tests the list's length directly,
 * with no call.
 */
export abstract class SemaphoreWatches {
  readonly #watches: Watch[]

  constructor(watches: Watch[]) {
    this.#watches = watches
  }

  /** Callers waiting right now. */
  abstract get waiting(): number

  /** Permits held right now. */
  abstract get inUse(): number

  /**
   * Resolves when no permit is held and nobody waits (at once if so already).
   *
   * @example
   * for (const job of jobs) sem.run(job)
   * await sem.onIdle({ signal: AbortSignal.timeout(30_000) })
   */
  onIdle(options?: WatchOptions): Promise<void> {
    return this.#watch(1, true, 'Semaphore.onIdle()', options)
  }

  /**
   * Resolves when nobody waits (tasks may still run), at once if so already.
   *
   * @example
   * for (const job of jobs) sem.run(job)
   * await sem.onEmpty() // every job has started
   */
  onEmpty(options?: WatchOptions): Promise<void> {
    return this.#watch(1, false, 'Semaphore.onEmpty()', options)
  }

  /**
   * Resolves when fewer than `size` callers wait, at once if so already: a producer awaits it to
   * keep the queue short without refusing work.
   *
   * @example
   * for await (const job of source) {
   *   await sem.onSizeLessThan(100)
   *   void sem.run(() => handle(job))
   * }
   */
  onSizeLessThan(size: number, options?: WatchOptions): Promise<void> {
    checkInteger('size', size, { min: 1 })
    return this.#watch(size, false, 'Semaphore.onSizeLessThan()', options)
  }

  #watch(below: number, idle: boolean, where: string, options: WatchOptions | undefined): Promise<void> {
    const signal =
      options === undefined
        ? undefined
        : checkSignal('signal', readOptions(where, options, ['signal']).signal)
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    if (this.waiting < below && (!idle || this.inUse === 0)) return Promise.resolve()
    const watches = this.#watches
    const settled = deferred<void>()
    const watch: Watch = { below, idle, resolve: settled.resolve, off: noop }
    if (signal !== undefined) {
      const onAbort = () => {
        const index = watches.indexOf(watch)
        if (index >= 0) watches.splice(index, 1)
        settled.reject(abortReason(signal))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      watch.off = () => signal.removeEventListener('abort', onAbort)
    }
    watches.push(watch)
    return settled.promise
  }
}

/**
 * Resolves, and removes from `watches`, the watches whose condition holds with `size` callers
 * waiting and (when `idle`) no permit held. The list is compacted in place: it is shared with the
 * semaphore for its whole life.
 */
export function settleWatches(watches: Watch[], size: number, idle: boolean): void {
  let kept = 0
  for (let i = 0; i < watches.length; i++) {
    const watch = watches[i]!
    if (size < watch.below && (idle || !watch.idle)) {
      watch.off()
      watch.resolve()
    } else watches[kept++] = watch
  }
  watches.length = kept
}
