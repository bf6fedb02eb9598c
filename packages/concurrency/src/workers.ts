import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { Transferable } from 'node:worker_threads'
import {
  type AsyncTracer,
  abortReason,
  asyncTracer,
  checkInteger,
  checkNumber,
  checkSignal,
  checkString,
  type Duration,
  type EventChannel,
  eventChannel,
  type HeapItem,
  IndexedHeap,
  invalidOption,
  MAX_TIMER_DELAY,
  parseDuration,
  Summary,
  type SummarySnapshot,
} from '@hotpath/core'
import { Piscina } from 'piscina'
import { ClosedError, QueueFullError, WorkerTimeoutError } from './errors'
import { readOptions } from './internal/options'

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
  /** Tasks whose worker threw (or whose thread died). */
  failed: number
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
   * abort, or the error the worker threw (stack and `cause` kept). Invalid options throw a
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
  'hotpath:concurrency:worker-done',
)

/**
 * `hotpath:concurrency:worker-reject`: `run()` was refused (queue full or pool closed).
 *
 * @example
 * workerRejectChannel.subscribe(({ name, reason }) => log.warn({ name, reason }, 'worker pool refused a task'))
 */
export const workerRejectChannel: EventChannel<WorkerRejectEvent> = eventChannel<WorkerRejectEvent>(
  'hotpath:concurrency:worker-reject',
)

/**
 * Tracing channel `hotpath:concurrency:worker-run`: one trace per `run()`, from the call to the
 * settlement (queueing included).
 *
 * @example
 * workerRunTracer.channel.subscribe({ start() {}, end() {}, asyncStart() {}, asyncEnd: (ctx) => done(ctx), error() {} })
 */
export const workerRunTracer: AsyncTracer<WorkerRunContext> = asyncTracer<WorkerRunContext>(
  'hotpath:concurrency:worker-run',
)

const POOL_OPTIONS: readonly string[] = [
  'filename',
  'name',
  'minThreads',
  'maxThreads',
  'maxQueue',
  'idleTimeout',
  'timeout',
  'closeTimeout',
  'workerData',
]
const RUN_OPTIONS: readonly string[] = ['signal', 'timeout', 'priority', 'transferList']
const TIMER_BOUNDS = { positive: true } as const

/** One `run()` call, queued in the heap until a thread slot is free. */
interface Job extends HeapItem {
  readonly seq: number
  readonly priority: number
  readonly task: unknown
  readonly transferList: readonly Transferable[] | undefined
  readonly signal: AbortSignal | undefined
  readonly timeout: number
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
  readonly enqueuedAt: number
  startedAt: number
  settled: boolean
  /** Aborts the piscina task; only created when the task can be aborted or time out. */
  controller: AbortController | undefined
  timer: NodeJS.Timeout | undefined
  onAbort: (() => void) | undefined
}

const earlier = (a: Job, b: Job): boolean =>
  a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq)

function checkFilename(value: unknown): string {
  if (value instanceof URL && value.protocol === 'file:') return fileURLToPath(value)
  if (typeof value === 'string' && value.length > 0) {
    return value.startsWith('file:') ? fileURLToPath(value) : value
  }
  throw invalidOption('filename', 'a path or a file: URL of the worker module', value)
}

function checkTransferList(value: unknown): readonly Transferable[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw invalidOption('transferList', 'an array of transferable objects', value)
  return value
}

function parseTimer(value: unknown, name: string): number {
  const ms = parseDuration(value, name, TIMER_BOUNDS)
  if (ms > MAX_TIMER_DELAY) throw invalidOption(name, `a duration <= ${MAX_TIMER_DELAY} ms`, value)
  return ms
}

class PiscinaWorkerPool<T, R> implements WorkerPool<T, R> {
  readonly #piscina: Piscina
  readonly #name: string
  readonly #maxThreads: number
  readonly #maxQueue: number
  readonly #timeout: number
  readonly #queue = new IndexedHeap<Job>(earlier)
  readonly #waits = new Summary()
  readonly #runs = new Summary()
  #seq = 0
  #busy = 0
  #completed = 0
  #failed = 0
  #cancelled = 0
  #timedOut = 0
  #rejected = 0
  #closing: Promise<void> | undefined
  #onDrained: (() => void) | undefined
  readonly #closeTimeout: number

  constructor(options: WorkerPoolOptions) {
    const raw = readOptions('createWorkerPool()', options, POOL_OPTIONS)
    const filename = checkFilename(raw.filename)
    this.#name = checkString('name', raw.name ?? 'workers')
    const minThreads = checkInteger('minThreads', raw.minThreads ?? 0, { min: 0, max: 1024 })
    this.#maxThreads = checkInteger('maxThreads', raw.maxThreads ?? availableParallelism(), {
      min: Math.max(1, minThreads),
      max: 1024,
    })
    this.#maxQueue = checkInteger('maxQueue', raw.maxQueue ?? 1_000, { min: 0 })
    const idleTimeout = parseTimer(raw.idleTimeout ?? 30_000, 'idleTimeout')
    this.#timeout = parseDuration(raw.timeout ?? Number.POSITIVE_INFINITY, 'timeout', {
      allowInfinity: true,
      positive: true,
    })
    this.#closeTimeout = parseTimer(raw.closeTimeout ?? 30_000, 'closeTimeout')
    this.#piscina = new Piscina({
      filename,
      name: 'default',
      minThreads,
      maxThreads: this.#maxThreads,
      idleTimeout,
      workerData: raw.workerData,
      // Tasks reach piscina only when a thread is free (the queue is ours), so its own queue
      // holds at most the tasks waiting for threads that are still starting.
      maxQueue: this.#maxThreads,
    })
    // piscina reports problems outside any task (an unexpected message from a thread) as an
    // 'error' event, which would crash the process without a listener; tasks reject on their own.
    this.#piscina.on('error', () => {})
  }

  get name(): string {
    return this.#name
  }

  get closed(): boolean {
    return this.#closing !== undefined
  }

  run(task: T, options?: WorkerRunOptions): Promise<R> {
    let priority = 0
    let timeout = this.#timeout
    let signal: AbortSignal | undefined
    let transferList: readonly Transferable[] | undefined
    if (options !== undefined) {
      readOptions('WorkerPool.run()', options, RUN_OPTIONS)
      if (options.priority !== undefined) priority = checkNumber('priority', options.priority)
      if (options.timeout !== undefined) {
        timeout = parseDuration(options.timeout, 'timeout', { allowInfinity: true, positive: true })
      }
      signal = checkSignal('signal', options.signal)
      transferList = checkTransferList(options.transferList)
    }
    if (!workerRunTracer.active) return this.#submit(task, priority, timeout, signal, transferList)
    return workerRunTracer.trace(
      () => this.#submit(task, priority, timeout, signal, transferList),
      () => ({ name: this.#name, priority }),
    )
  }

  #submit(
    task: T,
    priority: number,
    timeout: number,
    signal: AbortSignal | undefined,
    transferList: readonly Transferable[] | undefined,
  ): Promise<R> {
    if (this.#closing !== undefined) {
      return this.#refuse('closed', new ClosedError(`worker pool '${this.#name}'`))
    }
    if (signal?.aborted) {
      this.#cancelled++
      if (workerDoneChannel.active) {
        workerDoneChannel.publish({ name: this.#name, outcome: 'cancelled', waitMs: 0, runMs: 0 })
      }
      return Promise.reject(abortReason(signal))
    }
    const startNow = this.#busy < this.#maxThreads && this.#queue.size === 0
    if (!startNow && this.#queue.size >= this.#maxQueue) {
      return this.#refuse(
        'queue-full',
        new QueueFullError(this.#maxQueue, `queue of worker pool '${this.#name}'`),
      )
    }
    return new Promise<R>((resolve, reject) => {
      const job: Job = {
        heapIndex: -1,
        seq: this.#seq++,
        priority,
        task,
        transferList,
        signal,
        timeout,
        resolve: resolve as (value: unknown) => void,
        reject,
        enqueuedAt: performance.now(),
        startedAt: 0,
        settled: false,
        controller: undefined,
        timer: undefined,
        onAbort: undefined,
      }
      if (signal !== undefined) {
        job.onAbort = () => this.#cancel(job, abortReason(signal), 'cancelled')
        signal.addEventListener('abort', job.onAbort, { once: true })
      }
      if (timeout !== Number.POSITIVE_INFINITY) {
        // Longer timeouts than setTimeout accepts cannot elapse in practice; they mean "none".
        if (timeout <= MAX_TIMER_DELAY) {
          job.timer = setTimeout(
            () => this.#cancel(job, new WorkerTimeoutError(timeout, this.#name), 'timeout'),
            timeout,
          )
        }
      }
      if (startNow) this.#start(job)
      else this.#queue.push(job)
    })
  }

  #refuse(reason: WorkerRejectEvent['reason'], error: Error): Promise<never> {
    this.#rejected++
    if (workerRejectChannel.active) workerRejectChannel.publish({ name: this.#name, reason })
    return Promise.reject(error)
  }

  #start(job: Job): void {
    this.#busy++
    job.startedAt = performance.now()
    this.#waits.record(job.startedAt - job.enqueuedAt)
    // piscina only treats a task as abortable (and stops its thread on abort) when it gets a
    // signal, so a controller is made only for tasks that can be aborted or time out.
    if (job.onAbort !== undefined || job.timer !== undefined) job.controller = new AbortController()
    this.#piscina
      .run(job.task, {
        transferList: job.transferList as Transferable[] | undefined,
        signal: job.controller?.signal ?? null,
      })
      .then(
        (value: unknown) => this.#done(job, 'completed', value),
        (error: unknown) => this.#done(job, 'failed', error),
      )
  }

  /**
   * piscina settled a started job: its thread slot goes to the next queued job, and the caller
   * gets the outcome unless an abort or timeout already answered it.
   */
  #done(job: Job, outcome: 'completed' | 'failed', result: unknown): void {
    this.#busy--
    const next = this.#queue.pop()
    if (next !== undefined) this.#start(next)
    else if (this.#busy === 0) this.#onDrained?.()
    if (job.settled) return
    if (outcome === 'completed') this.#completed++
    else this.#failed++
    this.#runs.record(performance.now() - job.startedAt)
    this.#settle(job, outcome)
    if (outcome === 'completed') job.resolve(result)
    else job.reject(result)
  }

  /** Aborts or times out a job, queued or running, and rejects it with `error` at once. */
  #cancel(job: Job, error: Error, outcome: 'cancelled' | 'timeout'): void {
    if (job.settled) return
    if (outcome === 'timeout') this.#timedOut++
    else this.#cancelled++
    if (job.heapIndex >= 0) this.#queue.remove(job)
    this.#settle(job, outcome)
    job.reject(error)
    // Running: piscina stops the thread, which ends the task wherever it is.
    job.controller?.abort(error)
  }

  #settle(job: Job, outcome: WorkerDoneEvent['outcome']): void {
    job.settled = true
    if (job.timer !== undefined) clearTimeout(job.timer)
    if (job.onAbort !== undefined) job.signal!.removeEventListener('abort', job.onAbort)
    if (workerDoneChannel.active) {
      const now = performance.now()
      const started = job.startedAt || now
      workerDoneChannel.publish({
        name: this.#name,
        outcome,
        waitMs: started - job.enqueuedAt,
        runMs: now - started,
      })
    }
  }

  stats(): WorkerPoolStats {
    return {
      name: this.#name,
      threads: this.#piscina.threads.length,
      maxThreads: this.#maxThreads,
      busy: this.#busy,
      queued: this.#queue.size,
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      timedOut: this.#timedOut,
      rejected: this.#rejected,
      waitMs: this.#waits.snapshot(),
      runMs: this.#runs.snapshot(),
      utilization: this.#piscina.utilization,
    }
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing
    const error = new ClosedError(`worker pool '${this.#name}'`)
    for (let job = this.#queue.pop(); job !== undefined; job = this.#queue.pop()) {
      this.#cancelled++
      this.#settle(job, 'cancelled')
      job.reject(error)
    }
    this.#closing = this.#drainAndStop()
    return this.#closing
  }

  /**
   * Waits for the running tasks, then stops the threads. The wait is done here rather than by
   * piscina's own `close()`, which only waits for tasks already posted to a thread: a task handed
   * over while its thread was still starting would be terminated at once.
   */
  async #drainAndStop(): Promise<void> {
    if (this.#busy > 0) {
      let timer: NodeJS.Timeout | undefined
      const drained = await new Promise<boolean>((resolve) => {
        this.#onDrained = () => resolve(true)
        timer = setTimeout(() => resolve(false), this.#closeTimeout)
      })
      clearTimeout(timer)
      this.#onDrained = undefined
      // Still running after closeTimeout: terminating the threads rejects those tasks.
      if (!drained) return this.#piscina.destroy()
    }
    return this.#piscina.close()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/**
 * Creates a pool of worker threads (on [piscina](https://github.com/piscinajs/piscina), an
 * optional peer dependency: `npm install piscina`) for CPU-bound work that would otherwise block
 * the event loop: image resizing, hashing, parsing. Tasks wait in a bounded priority queue (O(log n)
 * per task) until a thread is free. Threads are unref'ed while idle, so an idle pool does not keep
 * the process alive; a pending task does.
 *
 * @example
 * // resize.js: export default async function ({ image, width }) { ... return resized }
 * const workers = createWorkerPool<{ image: Uint8Array; width: number }, Uint8Array>({
 *   filename: new URL('./resize.js', import.meta.url),
 *   maxThreads: 2,
 *   maxQueue: 1_000,
 *   idleTimeout: '30s',
 *   name: 'resize',
 * })
 * const out = await workers.run({ image, width: 320 }, { timeout: '2s', priority: 5, transferList: [image.buffer] })
 * await workers.close()
 */
export function createWorkerPool<T = unknown, R = unknown>(options: WorkerPoolOptions): WorkerPool<T, R> {
  return new PiscinaWorkerPool<T, R>(options)
}

export { ClosedError, QueueFullError, WorkerTimeoutError } from './errors'
