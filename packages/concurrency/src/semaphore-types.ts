import { type Duration, eventChannel, type SummarySnapshot } from '@hotpath/core'
import { concurrencyChannels } from './channels'

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
export const acquireChannel = eventChannel<AcquireEvent>(concurrencyChannels.acquire)
/**
 * `hotpath:concurrency:reject`: a waiter was refused (queue full, cleared, closed).
 *
 * @example
 * rejectChannel.subscribe(({ name, reason }) => log.warn({ name, reason }, 'semaphore refused a caller'))
 */
export const rejectChannel = eventChannel<RejectEvent>(concurrencyChannels.reject)
/**
 * `hotpath:concurrency:timeout`: a waiter timed out.
 *
 * @example
 * timeoutChannel.subscribe(({ name, timeout }) => timeouts.inc({ name }))
 */
export const timeoutChannel = eventChannel<TimeoutEvent>(concurrencyChannels.timeout)

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
   * Default `taskTimeout` of `run()`: longest a task may run once started.
   * @default Infinity
   */
  taskTimeout?: Duration
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
   * Higher runs first; FIFO among equal priorities. Any finite number, negative or fractional.
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
 * Options of one {@link Semaphore.run}: those of `acquire()` plus a limit on the task itself.
 *
 * @example
 * const options: RunOptions = { timeout: '1s', taskTimeout: '5s' }
 * await sem.run((signal) => fetch(url, { signal }), options)
 */
export interface RunOptions extends AcquireOptions {
  /**
   * Longest the task may run once started (waiting not included). When it elapses, the call
   * rejects with `E_TASK_TIMEOUT` and the signal passed to `fn` aborts with that error; the
   * permits stay held until `fn` settles, so the limit holds even for a task that ignores its
   * signal.
   * @default the semaphore's `taskTimeout`
   */
  taskTimeout?: Duration
}

/**
 * Options of {@link Semaphore.onIdle}, {@link Semaphore.onEmpty} and
 * {@link Semaphore.onSizeLessThan}.
 *
 * @example
 * const options: WatchOptions = { signal: AbortSignal.timeout(30_000) }
 * await sem.onIdle(options)
 */
export interface WatchOptions {
  /**
   * Stops waiting: the promise rejects with the signal's reason.
   * @default undefined
   */
  signal?: AbortSignal
}

/**
 * Options of {@link Semaphore.clear}.
 *
 * @example
 * const options: ClearOptions = { reason: new Error('shutting down') }
 * sem.clear(options)
 */
export interface ClearOptions {
  /**
   * What every waiter rejects with.
   * @default a `SemaphoreClearedError` (`E_SEMAPHORE_CLEARED`)
   */
  reason?: unknown
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
  /** True between `pause()` and `resume()`. */
  paused: boolean
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
