import {
  abortReason,
  checkInteger,
  checkNumber,
  checkSignal,
  checkString,
  deferred,
  describeMetrics,
  getClock,
  getTimerService,
  invalidOption,
  metricsSource,
  parseDuration,
  Summary,
  Timeout,
} from '@hotpath/core'
import {
  ClosedError,
  QueueFullError,
  SemaphoreClearedError,
  SemaphoreTimeoutError,
  TaskTimeoutError,
} from './errors'
import { readOptions } from './internal/options'
import type { RunBatch } from './internal/run-batch'
import { WaitQueue } from './internal/wait-queue'
import { Permit } from './permit'
import {
  type AcquireOptions,
  acquireChannel,
  type ClearOptions,
  type RejectEvent,
  type RunOptions,
  rejectChannel,
  type SemaphoreOptions,
  type SemaphoreStats,
  timeoutChannel,
  type WatchOptions,
} from './semaphore-types'

const SEMAPHORE_OPTIONS = ['permits', 'maxQueue', 'timeout', 'taskTimeout', 'name']
const ACQUIRE_OPTIONS = ['signal', 'timeout', 'priority', 'weight']
const RUN_OPTIONS = [...ACQUIRE_OPTIONS, 'taskTimeout']
const INFINITE = Number.POSITIVE_INFINITY

/** The checked options of one `acquire()` or `run()` call. */
interface ParsedOptions {
  weight: number
  priority: number
  signal: AbortSignal | undefined
  timeout: number
  taskTimeout: number
}

/**
 * A caller of `onIdle`/`onEmpty`/`onSizeLessThan`: settled once fewer than `below` callers wait
 * (and, with `idle`, no permit is held).
 */
interface Watch {
  below: number
  idle: boolean
  resolve: () => void
  /** Removes the abort listener, if any. */
  off: () => void
}

function noop(): void {}

/**
 * A counting semaphore with weights, priorities, abortable and timed waits, a bounded queue and
 * live resizing. Higher priority first and FIFO within a priority: O(1) per waiter with few
 * distinct priorities, O(log n) at worst. Tasks run in their caller's AsyncLocalStorage context.
 *
 * @example
 * const sem = new Semaphore({ permits: 16, maxQueue: 1_000 })
 * const page = await sem.run(() => fetch(url), { priority: 5, timeout: '2s', signal })
 * await using permit = await sem.acquire({ weight: 4 })
 * sem.permits = 32 // grows at once; a shrink never revokes held permits
 */
export class Semaphore implements AsyncDisposable {
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
  #watches: Watch[] = []
  #closed = false
  #paused = false

  constructor(options?: SemaphoreOptions) {
    const raw = readOptions('new Semaphore()', options, SEMAPHORE_OPTIONS)
    this.#permits = checkInteger('permits', raw.permits ?? 1, { min: 1 })
    this.#maxQueue = checkInteger('maxQueue', raw.maxQueue ?? 100_000, { min: 0, allowInfinity: true })
    this.#timeout = parseDuration(raw.timeout ?? INFINITE, 'timeout', { allowInfinity: true })
    this.#taskTimeout = parseDuration(raw.taskTimeout ?? INFINITE, 'taskTimeout', {
      allowInfinity: true,
      positive: true,
    })
    this.#name = checkString('name', raw.name ?? 'semaphore')
    this.#queue = new WaitQueue<unknown>({
      timeoutError: (timeout) => {
        if (timeoutChannel.active) timeoutChannel.publish({ name: this.#name, timeout })
        return new SemaphoreTimeoutError(timeout, `permits of '${this.#name}'`)
      },
      onCancel: () => this.#afterChange(),
      // A queued run() gets its task back; a queued acquire() gets a Permit.
      grantValue: (waiter) =>
        waiter.payload !== undefined ? waiter.payload : new Permit(this, waiter.weight),
    })
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
    const { weight, priority, signal, timeout } = this.#parse(options, 'Semaphore.acquire()', ACQUIRE_OPTIONS)
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
    this.#checkWeight(weight)
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
        return this.#startSoon(fn, 1)
      }
      return this.#runOrQueue(fn, 1, 0, undefined, this.#timeout, this.#taskTimeout)
    }
    const { weight, priority, signal, timeout, taskTimeout } = this.#parse(
      options,
      'Semaphore.run()',
      RUN_OPTIONS,
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
      if (taskTimeout === INFINITE) return this.#startSoon(fn, weight)
      return Promise.resolve().then(() => this.#executeTimed(fn, weight, taskTimeout))
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
          ? granted.then(() => this.#executeTimed(fn, weight, taskTimeout))
          : weight === 1
            ? granted.then(this.#executeOne as (task: unknown) => unknown)
            : granted.then(() => this.#execute(fn, weight))
    }
    // A higher-priority or lighter newcomer may fit while the previous head did not.
    if (priority !== 0 && this.#inUse < this.#permits) this.#drain()
    return result as Promise<Awaited<R>>
  }

  readonly #executeOne = (fn: () => unknown) => this.#execute(fn, 1)

  /**
   * Runs a task granted at once in a later microtask, never inside `run()`: the caller's code
   * after `run()` always comes first, as for a queued task, and nothing `fn` throws can escape.
   */
  #startSoon<R>(fn: (signal?: AbortSignal) => R | PromiseLike<R>, weight: number): Promise<Awaited<R>> {
    const started = Promise.resolve(fn as unknown)
    if (weight === 1)
      return started.then(this.#executeOne as (task: unknown) => unknown) as Promise<Awaited<R>>
    return started.then(() => this.#execute(fn, weight))
  }

  /** The continuation of a batched task: runs when the batch opens, in the caller's context. */
  readonly #runInBatch = async (batch: RunBatch): Promise<unknown> => {
    const index = batch.started++
    if (index >= batch.granted) await batch.waitTurn(index)
    const task = batch.take(index) as () => unknown
    try {
      return await task()
    } finally {
      this.release(batch.weights[index]!)
    }
  }

  async #execute<R>(fn: (signal?: AbortSignal) => R | PromiseLike<R>, weight: number): Promise<Awaited<R>> {
    try {
      return await fn()
    } finally {
      this.release(weight)
    }
  }

  /**
   * Runs `fn` with a signal that aborts after `ms`: the call rejects then, the permits are
   * released when `fn` settles.
   */
  #executeTimed<R>(
    fn: (signal: AbortSignal) => R | PromiseLike<R>,
    weight: number,
    ms: number,
  ): Promise<Awaited<R>> {
    const controller = new AbortController()
    const outcome = deferred<Awaited<R>>()
    const timers = getTimerService()
    const deadline = new Timeout(() => {
      const error = new TaskTimeoutError(ms, `task of '${this.#name}'`)
      controller.abort(error)
      outcome.reject(error)
    })
    timers.add(deadline, ms)
    const settled = () => {
      timers.remove(deadline)
      this.release(weight)
    }
    let running: Promise<Awaited<R>>
    try {
      running = Promise.resolve(fn(controller.signal)) as Promise<Awaited<R>>
    } catch (error) {
      running = Promise.reject(error)
    }
    running.then(
      (value) => {
        settled()
        outcome.resolve(value)
      },
      (error: unknown) => {
        settled()
        outcome.reject(error)
      },
    )
    return outcome.promise
  }

  /**
   * Rejects every waiter with `reason` (default: a `SemaphoreClearedError`, `E_SEMAPHORE_CLEARED`);
   * held permits stay held. Returns how many waiters were rejected.
   *
   * @example
   * process.on('SIGTERM', () => sem.clear())
   * sem.clear({ reason: new Error('upstream is down') })
   */
  clear(options?: ClearOptions): number {
    const reason =
      options === undefined ? undefined : readOptions('Semaphore.clear()', options, ['reason']).reason
    const count = this.#queue.clear(
      reason === undefined ? () => new SemaphoreClearedError(this.#name) : () => reason,
    )
    this.#rejected += count
    if (count > 0 && rejectChannel.active) {
      for (let i = 0; i < count; i++) rejectChannel.publish({ name: this.#name, reason: 'cleared' })
    }
    this.#afterChange()
    return count
  }

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
    if (this.#queue.size < below && (!idle || this.#inUse === 0)) return Promise.resolve()
    const settled = deferred<void>()
    const watch: Watch = { below, idle, resolve: settled.resolve, off: noop }
    if (signal !== undefined) {
      const onAbort = () => {
        this.#watches = this.#watches.filter((w) => w !== watch)
        settled.reject(abortReason(signal))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      watch.off = () => signal.removeEventListener('abort', onAbort)
    }
    this.#watches.push(watch)
    return settled.promise
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

  /** Checks `options` (throws on a bad option). */
  #parse(options: RunOptions, where: string, known: readonly string[]): ParsedOptions {
    readOptions(where, options, known)
    const weight = options.weight ?? 1
    const priority = options.priority ?? 0
    if (weight !== 1) this.#checkWeight(weight)
    if (priority !== 0) checkNumber('priority', priority)
    return {
      weight,
      priority,
      signal: options.signal === undefined ? undefined : checkSignal('signal', options.signal),
      timeout:
        options.timeout === undefined
          ? this.#timeout
          : parseDuration(options.timeout, 'timeout', { allowInfinity: true }),
      taskTimeout:
        options.taskTimeout === undefined
          ? this.#taskTimeout
          : parseDuration(options.taskTimeout, 'taskTimeout', { allowInfinity: true, positive: true }),
    }
  }

  /** The rejection of a caller that may not queue (closed, queue full, timeout 0), if any. */
  #refusal(timeout: number): Promise<never> | undefined {
    if (this.#closed) return this.#refuse('closed', new ClosedError(`semaphore '${this.#name}'`))
    if (this.#queue.size >= this.#maxQueue) {
      return this.#refuse('queue-full', new QueueFullError(this.#maxQueue, `queue of '${this.#name}'`))
    }
    if (timeout === 0) {
      this.#queue.timedOut++
      return Promise.reject(new SemaphoreTimeoutError(0, `permits of '${this.#name}'`))
    }
    return undefined
  }

  #refuse(reason: RejectEvent['reason'], error: Error): Promise<never> {
    this.#rejected++
    if (rejectChannel.active) rejectChannel.publish({ name: this.#name, reason })
    return Promise.reject(error)
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
    const size = this.#queue.size
    const idle = this.#inUse === 0
    const waiting: Watch[] = []
    for (const watch of this.#watches) {
      if (size < watch.below && (idle || !watch.idle)) {
        watch.off()
        watch.resolve()
      } else waiting.push(watch)
    }
    this.#watches = waiting
  }

  #checkWeight(weight: number): void {
    checkInteger('weight', weight, { min: 1, max: this.#permits })
  }
}
