import {
  abortReason,
  checkInteger,
  describeMetrics,
  getClock,
  invalidOption,
  metricsSource,
  Summary,
} from '@hotpath/core'
import { SemaphoreTimeoutError } from './errors'
import type { WaitQueue } from './internal/wait-queue'
import { Permit } from './permit'
import {
  ACQUIRE_OPTIONS,
  checkWeight,
  parseCallOptions,
  parseSemaphoreOptions,
  RUN_OPTIONS,
} from './semaphore-options'
import { clearQueue, refusalError, semaphoreQueue } from './semaphore-queue'
import { batchRunner, execute, executeTimed, startSoon } from './semaphore-run'
import {
  type AcquireOptions,
  acquireChannel,
  type ClearOptions,
  type RunOptions,
  type SemaphoreOptions,
  type SemaphoreStats,
} from './semaphore-types'
import { SemaphoreWatches, settleWatches, type Watch } from './semaphore-watches'

const INFINITE = Number.POSITIVE_INFINITY

/**
 * A counting semaphore with weights, priorities, abortable and timed waits, a bounded queue and
 * live resizing. Higher priority first and FIFO within a priority: O(1) per waiter with few
 * distinct priorities, O(log n) at worst. Tasks run in their caller's AsyncLocalStorage context.
 *
 * The grant, run and release paths stay here, on the private state they read on every call; what
 * they reach only off the fast path sits beside: option checks (`semaphore-options.ts`), the
 * waiter queue's hooks and refusals (`semaphore-queue.ts`), task execution (`semaphore-run.ts`),
 * and `onIdle`/`onEmpty`/`onSizeLessThan` in the base class (`semaphore-watches.ts`).
 *
 * @example
 * const sem = new Semaphore({ permits: 16, maxQueue: 1_000 })
 * const page = await sem.run(() => fetch(url), { priority: 5, timeout: '2s', signal })
 * await using permit = await sem.acquire({ weight: 4 })
 * sem.permits = 32 // grows at once; a shrink never revokes held permits
 */
export class Semaphore extends SemaphoreWatches implements AsyncDisposable {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `semaphore` metrics. */
  readonly [metricsSource] = describeMetrics('semaphore', () => this.stats())
  #permits: number
  #inUse = 0
  readonly #maxQueue: number
  readonly #timeout: number
  readonly #name: string
  readonly #queue: WaitQueue<unknown>
  #acquired = 0
  #rejected = 0
  readonly #taskTimeout: number
  readonly #waits = new Summary()
  /** The pending watches of `onIdle`/`onEmpty`/`onSizeLessThan`, shared with the base class. */
  readonly #watches: Watch[]
  #closed = false
  #paused = false

  constructor(options?: SemaphoreOptions) {
    const watches: Watch[] = []
    super(watches)
    this.#watches = watches
    const settings = parseSemaphoreOptions(options)
    this.#permits = settings.permits
    this.#maxQueue = settings.maxQueue
    this.#timeout = settings.timeout
    this.#taskTimeout = settings.taskTimeout
    this.#name = settings.name
    this.#queue = semaphoreQueue(this, this.#name, () => this.#afterChange())
  }

  /** The name given in the options. */
  get name(): string {
    return this.#name
  }

  /** Number of permits. */
  get permits(): number {
    return this.#permits
  }

  /**
   * Resizes at once: growing wakes waiters that now fit; shrinking lets held permits finish
   * (new grants wait until usage falls below the new size).
   */
  set permits(value: number) {
    this.#permits = checkInteger('permits', value, { min: 1 })
    this.#drain()
  }

  /** Permits free right now. */
  get available(): number {
    return Math.max(0, this.#permits - this.#inUse)
  }

  /** Permits held right now. */
  get inUse(): number {
    return this.#inUse
  }

  /** Callers waiting right now. */
  get waiting(): number {
    return this.#queue.size
  }

  /** True between `pause()` and `resume()`. */
  get paused(): boolean {
    return this.#paused
  }

  /**
   * Stops granting permits: new callers queue (`tryAcquire()` returns undefined), running tasks go
   * on. Timeouts, aborts, `clear()` and `maxQueue` still apply to the queued callers.
   *
   * @example
   * sem.pause() // e.g. while the upstream answers 429
   * setTimeout(() => sem.resume(), retryAfterMs)
   */
  pause(): void {
    this.#paused = true
  }

  /**
   * Grants permits again, starting with the queued callers that fit.
   *
   * @example
   * sem.resume()
   */
  resume(): void {
    this.#paused = false
    this.#afterChange()
  }

  /**
   * Waits for permits and returns them as a disposable {@link Permit}.
   *
   * @example
   * await using permit = await sem.acquire({ signal, timeout: '1s', priority: 5, weight: 2 })
   */
  acquire(options?: AcquireOptions): Promise<Permit> {
    if (options === undefined) {
      if (this.#fitsNow(1)) {
        this.#grantNow(1)
        return Promise.resolve(new Permit(this, 1))
      }
      return this.#queueAcquire(1, 0, undefined, this.#timeout)
    }
    const { weight, priority, signal, timeout } = parseCallOptions(
      options,
      'Semaphore.acquire()',
      ACQUIRE_OPTIONS,
      this.#timeout,
      this.#taskTimeout,
      this.#permits,
    )
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    if (this.#fitsNow(weight)) {
      this.#grantNow(weight)
      return Promise.resolve(new Permit(this, weight))
    }
    return this.#queueAcquire(weight, priority, signal, timeout)
  }

  /** True when `weight` permits can be granted at once: free, nobody queued, not closed. */
  #fitsNow(weight: number): boolean {
    return this.#inUse + weight <= this.#permits && this.#queue.size === 0 && !this.#closed && !this.#paused
  }

  #queueAcquire(
    weight: number,
    priority: number,
    signal: AbortSignal | undefined,
    timeout: number,
  ): Promise<Permit> {
    const refused = this.#refusal(timeout)
    if (refused !== undefined) return refused
    const promise = this.#queue.enqueue(weight, priority, signal, timeout) as Promise<Permit>
    // A higher-priority or lighter newcomer may fit while the previous head did not.
    if (priority !== 0 && this.#inUse < this.#permits) this.#drain()
    return promise
  }

  /**
   * Takes permits only if they are free right now (and nobody waits); never queues.
   *
   * @example
   * const permit = sem.tryAcquire()
   * if (!permit) return reply.code(429).send()
   */
  tryAcquire(weight = 1): Permit | undefined {
    checkWeight(weight, this.#permits)
    if (!this.#fitsNow(weight)) return undefined
    this.#grantNow(weight)
    return new Permit(this, weight)
  }

  /**
   * Runs `fn` holding permits and releases them when it settles (even when it throws). `fn`
   * always starts after `run()` has returned. With a `taskTimeout`, `fn` gets an `AbortSignal`
   * that aborts when the task runs too long.
   *
   * @example
   * const results = await Promise.all(urls.map((url) => sem.run(() => fetch(url))))
   * const page = await sem.run((signal) => fetch(url, { signal }), { taskTimeout: '5s' })
   */
  run<R>(
    fn: (signal: AbortSignal | undefined) => R | PromiseLike<R>,
    options?: RunOptions,
  ): Promise<Awaited<R>> {
    if (typeof fn !== 'function') throw invalidOption('fn', 'a function', fn)
    if (options === undefined) {
      if (this.#taskTimeout === INFINITE && this.#fitsNow(1)) {
        this.#grantNow(1)
        return startSoon(this, fn, 1, this.#executeOne)
      }
      return this.#runOrQueue(fn, 1, 0, undefined, this.#timeout, this.#taskTimeout)
    }
    const { weight, priority, signal, timeout, taskTimeout } = parseCallOptions(
      options,
      'Semaphore.run()',
      RUN_OPTIONS,
      this.#timeout,
      this.#taskTimeout,
      this.#permits,
    )
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    return this.#runOrQueue(fn, weight, priority, signal, timeout, taskTimeout)
  }

  /** Starts `fn` soon when its permits are free, else queues it. */
  #runOrQueue<R>(
    fn: (signal: AbortSignal | undefined) => R | PromiseLike<R>,
    weight: number,
    priority: number,
    signal: AbortSignal | undefined,
    timeout: number,
    taskTimeout: number,
  ): Promise<Awaited<R>> {
    if (this.#fitsNow(weight)) {
      this.#grantNow(weight)
      if (taskTimeout === INFINITE) return startSoon(this, fn, weight, this.#executeOne)
      return Promise.resolve().then(() => executeTimed(this, fn, weight, taskTimeout, this.#name))
    }
    const refused = this.#refusal(timeout)
    if (refused !== undefined) return refused
    let result: Promise<unknown> | undefined
    // Neither abortable nor timed: the task joins a batch sharing one promise, unless alone.
    if (signal === undefined && timeout === INFINITE && taskTimeout === INFINITE) {
      result = this.#queue.enqueueRun(fn, weight, priority, this.#runInBatch)
    }
    if (result === undefined) {
      // The waiter resolves with fn itself: weight-1 tasks share one continuation, no closure.
      // It runs in the caller's async context (promise reactions keep it), so AsyncLocalStorage
      // reaches fn without binding anything per task.
      const granted = this.#queue.enqueue(weight, priority, signal, timeout, fn)
      result =
        taskTimeout !== INFINITE
          ? granted.then(() => executeTimed(this, fn, weight, taskTimeout, this.#name))
          : weight === 1
            ? granted.then(this.#executeOne)
            : granted.then(() => execute(this, fn, weight))
    }
    // A higher-priority or lighter newcomer may fit while the previous head did not.
    if (priority !== 0 && this.#inUse < this.#permits) this.#drain()
    return result as Promise<Awaited<R>>
  }

  /** The continuation of a weight-1 task: one per semaphore, so such a task allocates no closure. */
  readonly #executeOne = (fn: unknown) => execute(this, fn as () => unknown, 1)

  /** The continuation of a batched task: runs when the batch opens, in the caller's context. */
  readonly #runInBatch = batchRunner(this)

  /**
   * Rejects every waiter with `reason` (default: a `SemaphoreClearedError`, `E_SEMAPHORE_CLEARED`);
   * held permits stay held. Returns how many waiters were rejected.
   *
   * @example
   * process.on('SIGTERM', () => sem.clear())
   * sem.clear({ reason: new Error('upstream is down') })
   */
  clear(options?: ClearOptions): number {
    const count = clearQueue(this.#queue, this.#name, options)
    this.#rejected += count
    this.#afterChange()
    return count
  }

  /**
   * A plain snapshot of the counters.
   *
   * @example
   * const { inUse, waiting, waitTime } = sem.stats()
   */
  stats(): SemaphoreStats {
    return {
      name: this.#name,
      paused: this.#paused,
      permits: this.#permits,
      inUse: this.#inUse,
      waiting: this.#queue.size,
      acquired: this.#acquired,
      rejected: this.#rejected,
      timedOut: this.#queue.timedOut,
      aborted: this.#queue.aborted,
      waitTime: this.#waits.snapshot(),
    }
  }

  /**
   * Refuses new callers (`E_CLOSED`), rejects waiters (`E_SEMAPHORE_CLEARED`) and resolves when
   * running tasks have released their permits.
   *
   * @example
   * await sem.close()
   */
  async close(): Promise<void> {
    this.#closed = true
    this.clear()
    await this.onIdle()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** @internal Returns permits (used by {@link Permit}; call `permit.release()` instead). */
  release(weight: number): void {
    this.#inUse -= weight
    if (this.#queue.size > 0) this.#drain()
    else if (this.#watches.length > 0) this.#notify()
  }

  #grantNow(weight: number): void {
    this.#inUse += weight
    this.#acquired++
    this.#waits.record(0)
    if (acquireChannel.active) acquireChannel.publish({ name: this.#name, weight, waitMs: 0 })
  }

  /** The rejection of a caller that may not queue (closed, queue full, timeout 0), if any. */
  #refusal(timeout: number): Promise<never> | undefined {
    if (this.#closed || this.#queue.size >= this.#maxQueue) {
      this.#rejected++
      return Promise.reject(refusalError(this.#closed, this.#maxQueue, this.#name))
    }
    if (timeout !== 0) return undefined
    this.#queue.timedOut++
    return Promise.reject(new SemaphoreTimeoutError(0, `permits of '${this.#name}'`))
  }

  #drain(): void {
    const queue = this.#queue
    let now = -1
    for (let weight = this.#paused ? 0 : queue.frontWeight(); weight > 0; weight = queue.frontWeight()) {
      if (this.#inUse + weight > this.#permits) break
      this.#inUse += weight
      this.#acquired++
      const startedAt = queue.grantFront()
      if (now < 0) now = getClock().monotonic()
      const waitMs = now - startedAt
      this.#waits.record(waitMs)
      if (acquireChannel.active) acquireChannel.publish({ name: this.#name, weight, waitMs })
    }
    if (this.#watches.length > 0) this.#notify()
  }

  #afterChange(): void {
    if (this.#queue.size > 0) this.#drain()
    else if (this.#watches.length > 0) this.#notify()
  }

  /** Settles the watches whose condition now holds. */
  #notify(): void {
    settleWatches(this.#watches, this.#queue.size, this.#inUse === 0)
  }
}
