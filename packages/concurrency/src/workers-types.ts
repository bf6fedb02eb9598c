import type { Transferable } from 'node:worker_threads'
import {
  type AsyncTracer,
  asyncTracer,
  type Duration,
  type EventChannel,
  eventChannel,
  type MetricsDescriptor,
  metricsSource,
  type SummarySnapshot,
} from '@hotpath/core'
import { concurrencyChannels } from './channels'

/**
 * Options of {@link createWorkerPool}.
 *
 * @example
 * const options: WorkerPoolOptions = { filename: new URL('./resize.js', import.meta.url), maxThreads: 2, name: 'resize' }
 * const workers = createWorkerPool(options)
 */
export interface WorkerPoolOptions {
  /**
   * The worker module (a path or a `file:` URL). Its default export (or `module.exports`) is
   * called with each task; its return value, or what its promise resolves to, is the result.
   */
  filename: string | URL
  /**
   * Name shown in errors, channel messages and `stats()`.
   * @default 'workers'
   */
  name?: string
  /**
   * Threads started at once and kept through idle periods. 0 starts threads on the first tasks.
   * @default 0
   */
  minThreads?: number
  /**
   * Most threads, hence most tasks running at once.
   * @default os.availableParallelism()
   */
  maxThreads?: number
  /**
   * Most tasks waiting for a thread; one more rejects with `E_QUEUE_FULL`. Must be finite: a
   * CPU-bound backlog only grows under sustained load, so the pool sheds instead.
   * @default 1_000
   */
  maxQueue?: number
  /**
   * How long a thread above `minThreads` may stay idle before it is stopped.
   * @default '30s'
   */
  idleTimeout?: Duration
  /**
   * Default `timeout` of `run()`.
   * @default Infinity
   */
  timeout?: Duration
  /**
   * How long `close()` lets running tasks finish before it stops their threads (they then reject).
   * @default '30s'
   */
  closeTimeout?: Duration
  /**
   * Cloned into each thread as `workerData` from `node:worker_threads`.
   * @default undefined
   */
  workerData?: unknown
}

/**
 * Options of one {@link WorkerPool.run}.
 *
 * @example
 * const options: WorkerRunOptions = { priority: 5, timeout: '2s', signal, transferList: [buffer] }
 * await workers.run({ buffer }, options)
 */
export interface WorkerRunOptions {
  /**
   * Aborts the task: a queued task leaves the queue at once and never runs; a running task has
   * its worker thread stopped (piscina terminates it and starts a fresh one). Rejects with the
   * signal's reason.
   * @default undefined
   */
  signal?: AbortSignal
  /**
   * Longest time from `run()` to the result, queueing included; rejects with `E_WORKER_TIMEOUT`.
   * @default the pool's `timeout`
   */
  timeout?: Duration
  /**
   * Higher leaves the queue first; FIFO among equal priorities. Any finite number.
   * @default 0
   */
  priority?: number
  /**
   * Objects moved to the worker instead of copied (`ArrayBuffer`, `MessagePort`, ...); the
   * sender can no longer use them.
   * @default undefined
   */
  transferList?: readonly Transferable[]
}

/**
 * A plain snapshot of a {@link WorkerPool}; times in milliseconds.
 *
 * @example
 * const { busy, queued, utilization }: WorkerPoolStats = workers.stats()
 */
export interface WorkerPoolStats {
  /** The pool's `name`. */
  name: string
  /** Threads alive (starting, idle or busy). */
  threads: number
  /** The configured most threads. */
  maxThreads: number
  /** Tasks handed to a thread and not settled yet. */
  busy: number
  /** Tasks waiting for a thread. */
  queued: number
  /** Tasks that returned a result. */
  completed: number
  /** Tasks whose worker threw, or whose thread died under them (`crashed`). */
  failed: number
  /** Of `failed`: tasks whose thread died (`E_WORKER_CRASHED`); the pool replaced the thread. */
  crashed: number
  /** Tasks aborted through their signal, or still queued when `close()` was called. */
  cancelled: number
  /** Tasks that ran out of `timeout`. */
  timedOut: number
  /** `run()` calls refused because the queue was full or the pool closed. */
  rejected: number
  /** Time from `run()` to the task being handed to piscina. */
  waitMs: SummarySnapshot
  /** Time from being handed to piscina to the result, for completed and failed tasks. */
  runMs: SummarySnapshot
  /**
   * piscina's utilization: the threads' total run time over `maxThreads` × the pool's age (0..1).
   * An average over the pool's life, not a recent figure.
   */
  utilization: number
}

/**
 * A pool of worker threads running one module's function (see {@link createWorkerPool}).
 *
 * @example
 * await using workers = createWorkerPool<{ n: number }, number>({ filename: new URL('./fib.js', import.meta.url) })
 * const result = await workers.run({ n: 30 }, { timeout: '2s' })
 */
export interface WorkerPool<T = unknown, R = unknown> {
  /**
   * The name given in the options.
   *
   * @example
   * log.info({ pool: workers.name }, 'worker pool ready')
   */
  readonly name: string
  /**
   * True once `close()` was called.
   *
   * @example
   * if (!workers.closed) await workers.run(task)
   */
  readonly closed: boolean
  /**
   * Runs `task` in a worker thread (the task is cloned, or moved for `transferList` items) and
   * resolves with the worker's result. Rejects with `E_QUEUE_FULL` when `maxQueue` tasks already
   * wait, `E_CLOSED` after `close()`, `E_WORKER_TIMEOUT` after `timeout`, the signal's reason on
   * abort, `E_WORKER_CRASHED` when its thread died (`process.exit()`, an uncaught error outside the
   * task), or the error the worker threw (stack and `cause` kept). Invalid options throw a
   * TypeError synchronously.
   *
   * @example
   * const thumbnail = await workers.run({ image, width: 320 }, { priority: 5, transferList: [image.buffer] })
   */
  run(task: T, options?: WorkerRunOptions): Promise<R>
  /**
   * A plain snapshot of the pool.
   *
   * @example
   * if (workers.stats().queued > 100) reply.code(503)
   */
  stats(): WorkerPoolStats
  /** Lets `collect()` from @hotpath/metrics read this pool's stats. */
  readonly [metricsSource]: () => MetricsDescriptor
  /**
   * Refuses new tasks, rejects queued ones with `E_CLOSED`, lets running ones finish (up to
   * `closeTimeout`, after which their threads are stopped and they reject) and stops the threads.
   * Every promise from `run()` is settled when it resolves. Calling it again returns the same
   * promise.
   *
   * @example
   * process.once('SIGTERM', () => workers.close())
   */
  close(): Promise<void>
  /**
   * Same as `close()`, for `await using`.
   *
   * @example
   * await using workers = createWorkerPool({ filename: new URL('./hash.js', import.meta.url) })
   */
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Message on `hotpath:concurrency:worker-done`.
 *
 * @example
 * workerDoneChannel.subscribe((e: WorkerDoneEvent) => runs.with({ name: e.name, outcome: e.outcome }).record(e.runMs))
 */
export interface WorkerDoneEvent {
  /** The pool's `name`. */
  name: string
  outcome: 'completed' | 'failed' | 'cancelled' | 'timeout'
  /** Milliseconds from `run()` to the hand-over to a thread (or to the end, if it never ran). */
  waitMs: number
  /** Milliseconds the task spent with a thread (0 if it never ran). */
  runMs: number
}

/**
 * Message on `hotpath:concurrency:worker-reject`.
 *
 * @example
 * workerRejectChannel.subscribe((e: WorkerRejectEvent) => shed.inc({ name: e.name, reason: e.reason }))
 */
export interface WorkerRejectEvent {
  name: string
  reason: 'queue-full' | 'closed'
}

/**
 * Context of the `hotpath:concurrency:worker-run` tracing channel.
 *
 * @example
 * workerRunTracer.channel.subscribe({ start: (ctx: WorkerRunContext) => console.log(ctx.name, ctx.priority) })
 */
export interface WorkerRunContext {
  name: string
  priority: number
}

/**
 * `hotpath:concurrency:worker-done`: a task settled (completed, failed, cancelled or timed out).
 *
 * @example
 * const off = workerDoneChannel.subscribe(({ name, outcome, runMs }) => log.debug({ name, outcome, runMs }))
 */
export const workerDoneChannel: EventChannel<WorkerDoneEvent> = eventChannel<WorkerDoneEvent>(
  concurrencyChannels.workerDone,
)

/**
 * `hotpath:concurrency:worker-reject`: `run()` was refused (queue full or pool closed).
 *
 * @example
 * workerRejectChannel.subscribe(({ name, reason }) => log.warn({ name, reason }, 'worker pool refused a task'))
 */
export const workerRejectChannel: EventChannel<WorkerRejectEvent> = eventChannel<WorkerRejectEvent>(
  concurrencyChannels.workerReject,
)

/**
 * Tracing channel `hotpath:concurrency:worker-run`: one trace per `run()`, from the call to the
 * settlement (queueing included).
 *
 * @example
 * workerRunTracer.channel.subscribe({ start() {}, end() {}, asyncStart() {}, asyncEnd: (ctx) => done(ctx), error() {} })
 */
export const workerRunTracer: AsyncTracer<WorkerRunContext> = asyncTracer<WorkerRunContext>(
  concurrencyChannels.workerRun,
)
