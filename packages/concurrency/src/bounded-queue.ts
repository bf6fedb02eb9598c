import {
  abortReason,
  checkFunction,
  checkInteger,
  checkOneOf,
  checkSignal,
  type Duration,
  describeMetrics,
  metricsSource,
  parseDuration,
} from '@hotpath/core'
import { Deque } from '@hotpath/core/internal'
import { ClosedError, QueueFullError, SemaphoreTimeoutError } from './errors'
import { readOptions } from './internal/options'
import { WaitQueue } from './internal/wait-queue'

/**
 * Options of {@link BoundedQueue}.
 *
 * @example
 * const events = new BoundedQueue<LogEvent>({ capacity: 10_000, overflow: 'drop-oldest', onDrop: () => dropped.inc() })
 */
export interface BoundedQueueOptions<T> {
  /** Most items held (required: a queue without a bound is refused). */
  capacity: number
  /**
   * What `push` does when full: `'reject'` rejects with `E_QUEUE_FULL`, `'drop-oldest'` evicts
   * the oldest item (passed to `onDrop`), `'wait'` waits for space (with `signal`/`timeout`).
   * @default 'reject'
   */
  overflow?: 'reject' | 'drop-oldest' | 'wait'
  /**
   * Called with each item evicted by `'drop-oldest'`.
   * @default undefined
   */
  onDrop?: (item: T) => void
  /**
   * Most producers (in `'wait'` mode) and most consumers that may wait at once.
   * @default 100_000
   */
  maxWaiting?: number
  /**
   * Default timeout of waiting `push` and `take` calls.
   * @default Infinity
   */
  timeout?: Duration
}

/**
 * Options of a waiting `push` or `take`.
 *
 * @example
 * const options: QueueWaitOptions = { signal, timeout: '30s' }
 * const job = await jobs.take(options)
 */
export interface QueueWaitOptions {
  /**
   * Aborts the wait.
   * @default undefined
   */
  signal?: AbortSignal
  /**
   * Wait timeout; rejects with `E_SEMAPHORE_TIMEOUT`.
   * @default the queue's `timeout`
   */
  timeout?: Duration
}

/**
 * Snapshot returned by {@link BoundedQueue.stats}.
 *
 * @example
 * const { size, capacity, dropped, waitingConsumers }: BoundedQueueStats = jobs.stats()
 */
export interface BoundedQueueStats {
  size: number
  capacity: number
  pushed: number
  taken: number
  dropped: number
  rejected: number
  waitingProducers: number
  waitingConsumers: number
  closed: boolean
}

/** The checked options of one wait. */
interface Wait {
  signal: AbortSignal | undefined
  timeout: number
}

/**
 * A FIFO queue with a hard capacity and a chosen overflow policy, for producer/consumer pipelines.
 * `take()` waits for an item; iterate with `for await` until `close()` and drained.
 *
 * @example
 * const jobs = new BoundedQueue<Job>({ capacity: 1_000, overflow: 'wait' })
 * await jobs.push(job, { timeout: '1s' })   // waits while full
 * for await (const job of jobs) await handle(job) // ends after close() once empty
 */
export class BoundedQueue<T> implements AsyncDisposable, AsyncIterable<T> {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `queue` metrics. */
  readonly [metricsSource] = describeMetrics('queue', () => this.stats())
  readonly #items = new Deque<T>()
  readonly #capacity: number
  readonly #overflow: 'reject' | 'drop-oldest' | 'wait'
  readonly #onDrop: ((item: T) => void) | undefined
  readonly #maxWaiting: number
  readonly #timeout: number
  readonly #defaultWait: Wait
  readonly #producers: WaitQueue<void>
  readonly #consumers: WaitQueue<T>
  #closed = false
  #pushed = 0
  #taken = 0
  #dropped = 0
  #rejected = 0

  constructor(options: BoundedQueueOptions<T>) {
    const raw = readOptions('new BoundedQueue()', options, [
      'capacity',
      'overflow',
      'onDrop',
      'maxWaiting',
      'timeout',
    ])
    this.#capacity = checkInteger('capacity', raw.capacity, { min: 1 })
    this.#overflow = checkOneOf('overflow', raw.overflow ?? 'reject', [
      'reject',
      'drop-oldest',
      'wait',
    ] as const)
    this.#onDrop =
      raw.onDrop === undefined ? undefined : checkFunction<(item: T) => void>('onDrop', raw.onDrop)
    this.#maxWaiting = checkInteger('maxWaiting', raw.maxWaiting ?? 100_000, { min: 0, allowInfinity: true })
    this.#timeout = parseDuration(raw.timeout ?? Number.POSITIVE_INFINITY, 'timeout', { allowInfinity: true })
    this.#defaultWait = { signal: undefined, timeout: this.#timeout }
    this.#producers = new WaitQueue<void>({
      timeoutError: (timeout) => new SemaphoreTimeoutError(timeout, 'space in the queue'),
      onCancel: () => {},
    })
    this.#consumers = new WaitQueue<T>({
      timeoutError: (timeout) => new SemaphoreTimeoutError(timeout, 'an item'),
      onCancel: () => {},
    })
  }

  /** Items in the queue. */
  get size(): number {
    return this.#items.size
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * Adds an item without waiting; returns false when full in `'reject'`/`'wait'` mode or closed.
   * In `'drop-oldest'` mode it always succeeds (evicting the oldest item when full).
   *
   * @example
   * if (!queue.tryPush(event)) metrics.dropped++
   */
  tryPush(item: T): boolean {
    if (this.#closed) return false
    if (this.#handOff(item)) return true
    if (this.#items.size < this.#capacity) {
      this.#items.push(item)
      this.#pushed++
      return true
    }
    if (this.#overflow !== 'drop-oldest') return false
    const dropped = this.#items.shift() as T
    this.#dropped++
    this.#items.push(item)
    this.#pushed++
    this.#onDrop?.(dropped)
    return true
  }

  /**
   * Adds an item following the overflow policy: rejects with `E_QUEUE_FULL` (`'reject'`), evicts
   * the oldest (`'drop-oldest'`) or waits for space (`'wait'`).
   *
   * @example
   * await queue.push(job, { signal, timeout: '2s' })
   */
  push(item: T, options?: QueueWaitOptions): Promise<void> {
    const wait = this.#readWait('BoundedQueue.push()', options)
    if (this.#closed) return Promise.reject(new ClosedError('queue'))
    if (this.tryPush(item)) return Promise.resolve()
    if (this.#overflow === 'reject') {
      this.#rejected++
      return Promise.reject(new QueueFullError(this.#capacity, 'bounded queue'))
    }
    return this.#wait(this.#producers, wait, item) as Promise<void>
  }

  /**
   * Removes and returns the oldest item, waiting for one if the queue is empty. Rejects with
   * `E_CLOSED` once the queue is closed and empty.
   *
   * @example
   * const job = await queue.take({ timeout: '30s' })
   */
  take(options?: QueueWaitOptions): Promise<T> {
    const wait = this.#readWait('BoundedQueue.take()', options)
    if (this.#items.size > 0) return Promise.resolve(this.#takeNow())
    if (this.#closed) return Promise.reject(new ClosedError('queue'))
    return this.#wait(this.#consumers, wait, undefined) as Promise<T>
  }

  /**
   * Removes and returns the oldest item, or undefined when empty.
   *
   * @example
   * const next = queue.tryTake()
   */
  tryTake(): T | undefined {
    return this.#items.size > 0 ? this.#takeNow() : undefined
  }

  /**
   * Refuses new items; waiting producers reject with `E_CLOSED`; consumers get what is left, then
   * `E_CLOSED` (iteration ends).
   *
   * @example
   * queue.close()
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      this.#rejected += this.#producers.clear(() => new ClosedError('queue'))
      this.#consumers.clear(() => new ClosedError('queue'))
    }
    return Promise.resolve()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#items.size > 0) yield this.#takeNow()
      else if (this.#closed) return
      else {
        try {
          yield await this.take()
        } catch (error) {
          if (error instanceof ClosedError) return
          throw error
        }
      }
    }
  }

  /**
   * A plain snapshot of the counters.
   *
   * @example
   * const { size, dropped } = queue.stats()
   */
  stats(): BoundedQueueStats {
    return {
      size: this.#items.size,
      capacity: this.#capacity,
      pushed: this.#pushed,
      taken: this.#taken,
      dropped: this.#dropped,
      rejected: this.#rejected,
      waitingProducers: this.#producers.size,
      waitingConsumers: this.#consumers.size,
      closed: this.#closed,
    }
  }

  #handOff(item: T): boolean {
    const consumer = this.#consumers.shift()
    if (consumer === undefined) return false
    this.#pushed++
    this.#taken++
    consumer.resolve(item)
    return true
  }

  #takeNow(): T {
    const item = this.#items.shift() as T
    this.#taken++
    const producer = this.#producers.shift()
    if (producer !== undefined) {
      this.#items.push(producer.payload as T)
      this.#pushed++
      producer.resolve()
    }
    return item
  }

  /** Checks the options of a `push`/`take` (before anything happens, so even when it need not wait). */
  #readWait(where: string, options: QueueWaitOptions | undefined): Wait {
    if (options === undefined) return this.#defaultWait
    const raw = readOptions(where, options, ['signal', 'timeout'])
    return {
      signal: checkSignal('signal', raw.signal),
      timeout:
        raw.timeout === undefined
          ? this.#timeout
          : parseDuration(raw.timeout, 'timeout', { allowInfinity: true }),
    }
  }

  #wait<W>(queue: WaitQueue<W>, { signal, timeout }: Wait, payload: unknown): Promise<W> {
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    if (queue.size >= this.#maxWaiting) {
      this.#rejected++
      return Promise.reject(new QueueFullError(this.#maxWaiting, 'waiting list of the bounded queue'))
    }
    if (timeout === 0) return Promise.reject(new SemaphoreTimeoutError(0, 'the queue'))
    return queue.enqueue(1, 0, signal, timeout, payload)
  }
}
