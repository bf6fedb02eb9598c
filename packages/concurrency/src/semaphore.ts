import {
  abortReason,
  checkInteger,
  checkNumber,
  checkOptionsObject,
  checkSignal,
  checkString,
  type Deferred,
  type Duration,
  deferred,
  eventChannel,
  getClock,
  parseDuration,
  Summary,
  type SummarySnapshot,
} from '@hotpath/core'
import { ClosedError, QueueFullError, SemaphoreClearedError, SemaphoreTimeoutError } from './errors'
import { Deadlines } from './internal/deadlines'
import { type Waiter, WaitQueue } from './internal/wait-queue'

/**
 * Message on `hotpath:concurrency:acquire`.
 *
 * @example
 * acquireChannel.subscribe((e: AcquireEvent) => waits.with({ name: e.name }).record(e.waitMs))
 */
export interface AcquireEvent {
  /** The primitive's `name`. */
  name: string
  weight: number
  /** Milliseconds spent waiting (0 when permits were free). */
  waitMs: number
}

/**
 * Message on `hotpath:concurrency:reject`.
 *
 * @example
 * rejectChannel.subscribe((e: RejectEvent) => { if (e.reason === 'queue-full') shed.inc({ name: e.name }) })
 */
export interface RejectEvent {
  name: string
  reason: 'queue-full' | 'cleared' | 'closed'
}

/**
 * Message on `hotpath:concurrency:timeout`.
 *
 * @example
 * timeoutChannel.subscribe(({ name, timeout }: TimeoutEvent) => log.warn({ name, timeout }, 'permit wait timed out'))
 */
export interface TimeoutEvent {
  name: string
  /** The timeout that elapsed. */
  timeout: number
}

/**
 * `hotpath:concurrency:acquire`: a permit was granted.
 *
 * @example
 * const off = acquireChannel.subscribe(({ name, waitMs }) => waits.with({ name }).record(waitMs))
 */
export const acquireChannel = eventChannel<AcquireEvent>('hotpath:concurrency:acquire')
/**
 * `hotpath:concurrency:reject`: a waiter was refused (queue full, cleared, closed).
 *
 * @example
 * rejectChannel.subscribe(({ name, reason }) => log.warn({ name, reason }, 'semaphore refused a caller'))
 */
export const rejectChannel = eventChannel<RejectEvent>('hotpath:concurrency:reject')
/**
 * `hotpath:concurrency:timeout`: a waiter timed out.
 *
 * @example
 * timeoutChannel.subscribe(({ name, timeout }) => timeouts.inc({ name }))
 */
export const timeoutChannel = eventChannel<TimeoutEvent>('hotpath:concurrency:timeout')

/**
 * Options of {@link Semaphore}.
 *
 * @example
 * const options: SemaphoreOptions = { permits: 10, maxQueue: 500, timeout: '2s', name: 'db' }
 * const sem = new Semaphore(options)
 */
export interface SemaphoreOptions {
  /**
   * Number of permits (tasks of weight 1 that may run at once). Changeable later through
   * `semaphore.permits = n`.
   * @default 1
   */
  permits?: number
  /**
   * Most callers that may wait; one more rejects with `E_QUEUE_FULL`. `Infinity` is accepted
   * when the caller bounds the work itself.
   * @default 100_000
   */
  maxQueue?: number
  /**
   * Default wait timeout of `acquire()`/`run()` (a number of ms or a string like `'1s'`).
   * @default Infinity
   */
  timeout?: Duration
  /**
   * Name shown in channel messages and errors.
   * @default 'semaphore'
   */
  name?: string
}

/**
 * Options of one {@link Semaphore.acquire} or {@link Semaphore.run}.
 *
 * @example
 * const urgent: AcquireOptions = { priority: 10, timeout: '500ms', signal }
 * await sem.run(() => handle(request), urgent)
 */
export interface AcquireOptions {
  /**
   * Aborts the wait (not the task once it runs); the waiter leaves the queue at once.
   * @default undefined
   */
  signal?: AbortSignal
  /**
   * Wait timeout; rejects with `E_SEMAPHORE_TIMEOUT`.
   * @default the semaphore's `timeout`
   */
  timeout?: Duration
  /**
   * Higher runs first; FIFO among equal priorities. Any integer, negative included.
   * @default 0
   */
  priority?: number
  /**
   * Permits this caller needs, from 1 to `permits`.
   * @default 1
   */
  weight?: number
}

/**
 * Snapshot returned by {@link Semaphore.stats}.
 *
 * @example
 * const { name, inUse, permits, waiting }: SemaphoreStats = sem.stats()
 * if (waiting > 0) log.info({ name, inUse, permits, waiting }, 'semaphore saturated')
 */
export interface SemaphoreStats {
  name: string
  permits: number
  /** Permits held now (may exceed `permits` right after a shrink). */
  inUse: number
  /** Callers waiting. */
  waiting: number
  /** Permits granted since creation. */
  acquired: number
  /** Waiters refused: queue full, cleared or closed. */
  rejected: number
  timedOut: number
  aborted: number
  /** Wait times in ms (0 for immediate grants). */
  waitTime: SummarySnapshot
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
  readonly #semaphore: Semaphore
  /** Permits held. */
  readonly weight: number
  #held = true

  /** @internal */
  constructor(semaphore: Semaphore, weight: number) {
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

/**
 * A counting semaphore with weights, priorities, abortable and timed waits, a bounded queue and
 * live resizing. The queue is FIFO on an O(1) deque until a caller passes a priority, then an
 * O(log n) heap (FIFO within a priority). Tasks run in their caller's AsyncLocalStorage context.
 *
 * @example
 * const sem = new Semaphore({ permits: 16, maxQueue: 1_000 })
 * const page = await sem.run(() => fetch(url), { priority: 5, timeout: '2s', signal })
 * await using permit = await sem.acquire({ weight: 4 })
 * sem.permits = 32 // grows at once; a shrink never revokes held permits
 */
export class Semaphore implements AsyncDisposable {
  #permits: number
  #inUse = 0
  readonly #maxQueue: number
  readonly #timeout: number
  readonly #name: string
  readonly #queue: WaitQueue<unknown>
  #acquired = 0
  #rejected = 0
  readonly #waits = new Summary()
  #idle: Deferred<void>[] = []
  #closed = false

  constructor(options?: SemaphoreOptions) {
    const raw = checkOptionsObject('options', options)
    this.#permits = checkInteger('permits', raw.permits ?? 1, { min: 1 })
    this.#maxQueue = checkInteger('maxQueue', raw.maxQueue ?? 100_000, { min: 0, allowInfinity: true })
    this.#timeout = parseDuration(raw.timeout ?? Number.POSITIVE_INFINITY, 'timeout', { allowInfinity: true })
    this.#name = checkString('name', raw.name ?? 'semaphore')
    this.#queue = new WaitQueue<unknown>(
      {
        timeoutError: (waiter) => {
          timeoutChannel.publishLazy(() => ({ name: this.#name, timeout: waiter.timeout }))
          return new SemaphoreTimeoutError(waiter.timeout, `permits of '${this.#name}'`)
        },
        onCancel: () => this.#afterChange(),
      },
      new Deadlines(),
    )
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

  /**
   * Waits for permits and returns them as a disposable {@link Permit}.
   *
   * @example
   * await using permit = await sem.acquire({ signal, timeout: '1s', priority: 5, weight: 2 })
   */
  acquire(options?: AcquireOptions): Promise<Permit> {
    if (options === undefined) {
      if (this.#inUse < this.#permits && this.#queue.size === 0 && !this.#closed) {
        return Promise.resolve(this.#grantNow(1))
      }
      return this.#wait(1, 0, undefined, this.#timeout, undefined) as Promise<Permit>
    }
    try {
      return this.#acquireWith(options, undefined) as Promise<Permit>
    } catch (error) {
      return Promise.reject(error)
    }
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
    if (this.#closed || this.#queue.size > 0 || this.#inUse + weight > this.#permits) return undefined
    return this.#grantNow(weight)
  }

  /**
   * Runs `fn` holding permits and releases them when it settles (even when it throws).
   *
   * @example
   * const results = await Promise.all(urls.map((url) => sem.run(() => fetch(url))))
   */
  run<R>(fn: () => R | PromiseLike<R>, options?: AcquireOptions): Promise<Awaited<R>> {
    if (options === undefined) {
      if (this.#inUse < this.#permits && this.#queue.size === 0 && !this.#closed) {
        this.#inUse++
        this.#acquired++
        this.#waits.record(0)
        if (acquireChannel.active) acquireChannel.publish({ name: this.#name, weight: 1, waitMs: 0 })
        return this.#execute(fn, 1)
      }
      // The waiter resolves with fn itself: one shared continuation, no closure per queued task.
      // It runs in the caller's async context (promise reactions keep it), so AsyncLocalStorage
      // reaches fn without binding anything per task.
      return (this.#wait(1, 0, undefined, this.#timeout, fn) as Promise<() => R | PromiseLike<R>>).then(
        this.#executeOne,
      ) as Promise<Awaited<R>>
    }
    let granted: Promise<unknown> | undefined
    try {
      granted = this.#acquireWith(options, fn)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#runQueued(fn, options.weight ?? 1, granted)
  }

  readonly #executeOne = (fn: () => unknown) => this.#execute(fn, 1)

  async #execute<R>(fn: () => R | PromiseLike<R>, weight: number): Promise<Awaited<R>> {
    try {
      return await fn()
    } finally {
      this.release(weight)
    }
  }

  #runQueued<R>(
    fn: () => R | PromiseLike<R>,
    weight: number,
    granted: Promise<unknown> | undefined,
  ): Promise<Awaited<R>> {
    if (granted === undefined) return this.#execute(fn, weight)
    // A queued waiter resolves with fn: weight-1 tasks share one continuation.
    if (weight === 1)
      return granted.then(this.#executeOne as (task: unknown) => unknown) as Promise<Awaited<R>>
    return granted.then(() => this.#execute(fn, weight))
  }

  /**
   * Rejects every waiter with `E_SEMAPHORE_CLEARED`; held permits stay held. Returns how many
   * waiters were rejected.
   *
   * @example
   * process.on('SIGTERM', () => sem.clear())
   */
  clear(): number {
    const count = this.#queue.clear(() => new SemaphoreClearedError(this.#name))
    this.#rejected += count
    if (count > 0 && rejectChannel.active) {
      for (let i = 0; i < count; i++) rejectChannel.publish({ name: this.#name, reason: 'cleared' })
    }
    this.#afterChange()
    return count
  }

  /**
   * Resolves when no permit is held and nobody waits.
   *
   * @example
   * for (const job of jobs) sem.run(job)
   * await sem.onIdle()
   */
  onIdle(): Promise<void> {
    if (this.#inUse === 0 && this.#queue.size === 0) return Promise.resolve()
    const idle = deferred<void>()
    this.#idle.push(idle)
    return idle.promise
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
    else if (this.#inUse === 0 && this.#idle.length > 0) this.#resolveIdle()
  }

  #grantNow(weight: number): Permit {
    this.#inUse += weight
    this.#acquired++
    this.#waits.record(0)
    if (acquireChannel.active) acquireChannel.publish({ name: this.#name, weight, waitMs: 0 })
    return new Permit(this, weight)
  }

  /** With a task (`run`), returns undefined when the permits were granted at once. */
  #acquireWith(options: AcquireOptions, task: (() => unknown) | undefined): Promise<unknown> | undefined {
    const weight = options.weight ?? 1
    const priority = options.priority ?? 0
    if (weight !== 1) this.#checkWeight(weight)
    if (priority !== 0) checkNumber('priority', priority)
    const signal = options.signal === undefined ? undefined : checkSignal('signal', options.signal)
    const timeout =
      options.timeout === undefined
        ? this.#timeout
        : parseDuration(options.timeout, 'timeout', { allowInfinity: true })
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    if (this.#inUse + weight <= this.#permits && this.#queue.size === 0 && !this.#closed) {
      if (task !== undefined) {
        this.#inUse += weight
        this.#acquired++
        this.#waits.record(0)
        if (acquireChannel.active) acquireChannel.publish({ name: this.#name, weight, waitMs: 0 })
        return undefined
      }
      return Promise.resolve(this.#grantNow(weight))
    }
    return this.#wait(weight, priority, signal, timeout, task)
  }

  #wait(
    weight: number,
    priority: number,
    signal: AbortSignal | undefined,
    timeout: number,
    task: (() => unknown) | undefined,
  ): Promise<unknown> {
    if (this.#closed) return this.#refuse('closed', new ClosedError(`semaphore '${this.#name}'`))
    if (this.#queue.size >= this.#maxQueue) {
      return this.#refuse('queue-full', new QueueFullError(this.#maxQueue, `queue of '${this.#name}'`))
    }
    if (timeout === 0) {
      this.#queue.timedOut++
      return Promise.reject(new SemaphoreTimeoutError(0, `permits of '${this.#name}'`))
    }
    const promise = this.#queue.enqueue(weight, priority, signal, timeout, task)
    // A higher-priority or lighter newcomer may fit while the previous head did not.
    if (priority !== 0 && this.#inUse < this.#permits) this.#drain()
    return promise
  }

  #refuse(reason: RejectEvent['reason'], error: Error): Promise<never> {
    this.#rejected++
    if (rejectChannel.active) rejectChannel.publish({ name: this.#name, reason })
    return Promise.reject(error)
  }

  #drain(): void {
    const queue = this.#queue
    let now = -1
    for (let head = queue.peek(); head !== undefined; head = queue.peek()) {
      if (this.#inUse + head.weight > this.#permits) break
      queue.shift()
      this.#inUse += head.weight
      this.#acquired++
      if (now < 0) now = getClock().monotonic()
      const waitMs = now - head.startedAt
      this.#waits.record(waitMs)
      if (acquireChannel.active) acquireChannel.publish({ name: this.#name, weight: head.weight, waitMs })
      this.#grant(head)
    }
    if (this.#inUse === 0 && queue.size === 0 && this.#idle.length > 0) this.#resolveIdle()
  }

  #grant(waiter: Waiter<unknown>): void {
    // A queued run() gets its task back; a queued acquire() gets a Permit.
    waiter.resolve(waiter.payload !== undefined ? waiter.payload : new Permit(this, waiter.weight))
  }

  #afterChange(): void {
    if (this.#queue.size > 0) this.#drain()
    else if (this.#inUse === 0 && this.#idle.length > 0) this.#resolveIdle()
  }

  #resolveIdle(): void {
    const idle = this.#idle
    this.#idle = []
    for (const d of idle) d.resolve()
  }

  #checkWeight(weight: number): void {
    checkInteger('weight', weight, { min: 1, max: this.#permits })
  }
}
