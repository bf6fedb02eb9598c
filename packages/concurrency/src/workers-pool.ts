import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { Transferable } from 'node:worker_threads'
import {
  abortReason,
  checkInteger,
  checkNumber,
  checkSignal,
  checkString,
  describeMetrics,
  getTimerService,
  invalidOption,
  MAX_TIMER_DELAY,
  metricsSource,
  parseDuration,
  Summary,
  Timeout,
} from '@hotpath/core'
import { type HeapItem, IndexedHeap } from '@hotpath/core/internal'
import { Piscina } from 'piscina'
import { ClosedError, QueueFullError, WorkerCrashedError, WorkerTimeoutError } from './errors'
import { readOptions } from './internal/options'
import {
  type WorkerDoneEvent,
  type WorkerPool,
  type WorkerPoolOptions,
  type WorkerPoolStats,
  type WorkerRejectEvent,
  type WorkerRunOptions,
  workerDoneChannel,
  workerRejectChannel,
  workerRunTracer,
} from './workers-types'

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
  timer: Timeout | undefined
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

/**
 * The {@link WorkerPool} behind {@link createWorkerPool}: a priority queue of its own in front of
 * one piscina instance, which gets a task only when one of `maxThreads` slots is free.
 *
 * @example
 * const workers: WorkerPool<number, number> = new PiscinaWorkerPool({ filename: new URL('./fib.js', import.meta.url) })
 */
export class PiscinaWorkerPool<T, R> implements WorkerPool<T, R> {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `worker-pool` metrics. */
  readonly [metricsSource] = describeMetrics('worker-pool', () => this.stats())
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
  #crashed = 0
  #cancelled = 0
  #timedOut = 0
  #rejected = 0
  #closing: Promise<void> | undefined
  #onDrained: (() => void) | undefined
  /** True while this pool stops a thread itself (abort, timeout, closeTimeout): not a crash. */
  #stopping = false
  /** Set for the microtasks in which piscina fails the tasks of a thread that just died. */
  #threadDied = false
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
    this.#piscina.on('workerDestroy', () => this.#onThreadGone())
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
        // A ref'd entry of the timer service: the caller awaits the task.
        job.timer = new Timeout(() =>
          this.#cancel(job, new WorkerTimeoutError(timeout, this.#name), 'timeout'),
        )
        getTimerService().add(job.timer, timeout)
      }
      if (startNow) this.#start(job)
      else this.#queue.push(job)
    })
  }

  /**
   * piscina removes a dead thread (exit, uncaught error) and then, synchronously, rejects the
   * tasks it was running with what it died of; their rejections reach `#done` one microtask later.
   * The mark outlives that microtask by one more hop, so those failures, and only those, are
   * reported as crashes rather than as errors the task threw.
   */
  #onThreadGone(): void {
    if (this.#stopping) return
    this.#threadDied = true
    queueMicrotask(() =>
      queueMicrotask(() => {
        this.#threadDied = false
      }),
    )
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
    else if (this.#threadDied) {
      this.#crashed++
      job.reject(new WorkerCrashedError(this.#name, { cause: result }))
    } else job.reject(result)
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
    this.#stopping = true
    try {
      job.controller?.abort(error)
    } finally {
      this.#stopping = false
    }
  }

  #settle(job: Job, outcome: WorkerDoneEvent['outcome']): void {
    job.settled = true
    if (job.timer !== undefined) getTimerService().remove(job.timer)
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
      crashed: this.#crashed,
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
      // The caller of close() awaits the drain: a ref'd entry of the timer service bounds it.
      let timer: Timeout | undefined
      const drained = await new Promise<boolean>((resolve) => {
        this.#onDrained = () => resolve(true)
        timer = new Timeout(() => resolve(false))
        getTimerService().add(timer, this.#closeTimeout)
      })
      getTimerService().remove(timer!)
      this.#onDrained = undefined
      // Still running after closeTimeout: terminating the threads rejects those tasks.
      if (!drained) {
        this.#stopping = true
        return this.#piscina.destroy()
      }
    }
    return this.#piscina.close()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}
