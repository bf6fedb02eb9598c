import {
  checkBoolean,
  checkFunction,
  checkInteger,
  type Deferred,
  type Duration,
  deferred,
  describeMetrics,
  metricsSource,
  parseDuration,
  schedule,
  type TimerHandle,
} from '@hotpath/core'
import { Deque } from '@hotpath/core/internal'
import { ClosedError, QueueFullError } from './errors'
import { checkIterable, readOptions } from './internal/options'

/**
 * The batch function: receives the keys of one batch and returns one result per key, in the same
 * order (an `Error` instance at a position rejects that key only), or a `Map` from key to result
 * (a missing key resolves to `undefined`). A write batch may return nothing: every item then
 * resolves to `undefined`.
 *
 * @example
 * const byId: BatchFunction<string, User> = async (ids) => new Map((await db.users.findMany(ids)).map((u) => [u.id, u]))
 * const users = new Batcher(byId)
 */
export type BatchFunction<K, V> = (
  keys: K[],
) => PromiseLike<ArrayLike<V | Error> | Map<K, V | Error> | undefined | void>

/**
 * Options of {@link Batcher}.
 *
 * @example
 * const options: BatcherOptions<{ id: string }> = { maxBatchSize: 50, maxDelay: '2ms', cacheKey: (key) => key.id }
 * const loader = new Batcher(loadMany, options)
 */
export interface BatcherOptions<K> {
  /**
   * Most keys per batch call; a full batch is dispatched at once.
   * @default 100
   */
  maxBatchSize?: number
  /**
   * How long the first key of a batch waits for others (a number of ms or `'5ms'`). `0` collects
   * the keys of the current tick only.
   * @default 0
   */
  maxDelay?: Duration
  /**
   * Join calls for a key already in the pending batch (`load` shares one promise per key).
   * @default true
   */
  dedupe?: boolean
  /**
   * Maps a key to the value deduplication compares (for object keys).
   * @default (key) => key
   */
  cacheKey?: (key: K) => unknown
  /**
   * Most batch calls running at once; further full batches wait their turn (they stay bounded by
   * `maxPending`).
   * @default Infinity
   */
  concurrency?: number
  /**
   * Most keys waiting (in pending and queued batches); one more `load`/`add` rejects with
   * `E_QUEUE_FULL`.
   * @default 100_000
   */
  maxPending?: number
}

/**
 * Snapshot returned by {@link Batcher.stats}.
 *
 * @example
 * const { batches, keys, deduped, failedBatches }: BatcherStats = users.stats()
 */
export interface BatcherStats {
  /** Keys waiting for their batch to be dispatched. */
  pending: number
  /** Batch calls running. */
  inFlight: number
  batches: number
  keys: number
  /** `load` calls that joined a key already pending. */
  deduped: number
  /** Batch calls that threw (every key of the batch rejected). */
  failedBatches: number
}

interface Batch<K, V> {
  keys: K[]
  waiters: Deferred<V>[]
  index: Map<unknown, number> | undefined
}

/**
 * Coalesces individual `load(key)` (reads) or `add(item)` (writes) calls into batch calls, the
 * DataLoader way: by size (`maxBatchSize`) and by time (`maxDelay`), with keys deduplicated within
 * a batch and per-key errors. `flush()` dispatches now; `close()` flushes and waits, losing
 * nothing.
 *
 * @example
 * const users = new Batcher(async (ids: string[]) => db.users.findMany(ids), { maxDelay: '5ms' })
 * const [a, b] = await Promise.all([users.load('1'), users.load('2')]) // one findMany(['1', '2'])
 *
 * const writes = new Batcher(async (rows: Metric[]) => { await db.insert(rows) }, {
 *   maxBatchSize: 500, maxDelay: '1s', dedupe: false,
 * })
 * writes.add({ name: 'latency', value: 12 })
 * await writes.close()
 */
export class Batcher<K, V = unknown> implements AsyncDisposable {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `batcher` metrics. */
  readonly [metricsSource] = describeMetrics('batcher', () => this.stats())
  readonly #fn: BatchFunction<K, V>
  readonly #maxBatchSize: number
  readonly #maxDelay: number
  readonly #dedupe: boolean
  readonly #cacheKey: (key: K) => unknown
  readonly #concurrency: number
  readonly #maxPending: number
  #current: Batch<K, V> | undefined
  #timer: TimerHandle | undefined
  #scheduled = false
  readonly #queued = new Deque<Batch<K, V>>()
  #queuedKeys = 0
  #inFlight = 0
  readonly #running = new Set<Promise<void>>()
  #closed = false
  #batches = 0
  #keys = 0
  #deduped = 0
  #failed = 0

  constructor(fn: BatchFunction<K, V>, options?: BatcherOptions<K>) {
    this.#fn = checkFunction('fn', fn)
    const raw = readOptions('new Batcher()', options, [
      'maxBatchSize',
      'maxDelay',
      'dedupe',
      'cacheKey',
      'concurrency',
      'maxPending',
    ])
    this.#maxBatchSize = checkInteger('maxBatchSize', raw.maxBatchSize ?? 100, { min: 1 })
    this.#maxDelay = parseDuration(raw.maxDelay ?? 0, 'maxDelay')
    this.#dedupe = checkBoolean('dedupe', raw.dedupe ?? true)
    this.#cacheKey = raw.cacheKey === undefined ? (key) => key : checkFunction('cacheKey', raw.cacheKey)
    this.#concurrency = checkInteger('concurrency', raw.concurrency ?? Number.POSITIVE_INFINITY, {
      min: 1,
      allowInfinity: true,
    })
    this.#maxPending = checkInteger('maxPending', raw.maxPending ?? 100_000, { min: 1, allowInfinity: true })
  }

  /**
   * Loads one key through the next batch.
   *
   * @example
   * const user = await users.load(id)
   */
  load(key: K): Promise<V> {
    if (this.#closed) return Promise.reject(new ClosedError('batcher'))
    let batch = this.#current
    if (batch !== undefined && batch.index !== undefined) {
      const at = batch.index.get(this.#cacheKey(key))
      if (at !== undefined) {
        this.#deduped++
        return batch.waiters[at]!.promise
      }
    }
    if (this.pending >= this.#maxPending) {
      return Promise.reject(new QueueFullError(this.#maxPending, 'batcher'))
    }
    if (batch === undefined) {
      batch = { keys: [], waiters: [], index: this.#dedupe ? new Map() : undefined }
      this.#current = batch
    }
    const waiter = deferred<V>()
    batch.index?.set(this.#cacheKey(key), batch.keys.length)
    batch.keys.push(key)
    batch.waiters.push(waiter)
    if (batch.keys.length >= this.#maxBatchSize) this.#dispatch()
    else if (batch.keys.length === 1) this.#schedule()
    return waiter.promise
  }

  /**
   * Loads several keys (each through the batching above).
   *
   * @example
   * const [a, b] = await users.loadMany(['1', '2'])
   */
  loadMany(keys: Iterable<K>): Promise<V[]> {
    checkIterable('keys', keys)
    return Promise.all(Array.from(keys, (key) => this.load(key)))
  }

  /**
   * Adds an item to be written in the next batch (an alias of `load` for write batchers); the
   * promise settles when its batch is written.
   *
   * @example
   * await events.add({ type: 'login', at: Date.now() })
   */
  add(item: K): Promise<V> {
    return this.load(item)
  }

  /** Keys not yet dispatched (current plus queued batches). */
  get pending(): number {
    return (this.#current?.keys.length ?? 0) + this.#queuedKeys
  }

  /**
   * Dispatches the pending batch now and resolves when every batch dispatched so far has
   * settled.
   *
   * @example
   * await writes.flush()
   */
  async flush(): Promise<void> {
    this.#dispatch()
    while (this.#running.size > 0 || this.#queued.size > 0) {
      await Promise.allSettled([...this.#running])
    }
  }

  /**
   * Refuses new keys (`E_CLOSED`), then flushes everything already accepted.
   *
   * @example
   * process.on('SIGTERM', () => writes.close())
   */
  async close(): Promise<void> {
    this.#closed = true
    await this.flush()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /**
   * A plain snapshot of the counters.
   *
   * @example
   * const { batches, keys } = users.stats() // keys / batches = average batch size
   */
  stats(): BatcherStats {
    return {
      pending: this.pending,
      inFlight: this.#inFlight,
      batches: this.#batches,
      keys: this.#keys,
      deduped: this.#deduped,
      failedBatches: this.#failed,
    }
  }

  #schedule(): void {
    if (this.#maxDelay > 0) {
      this.#timer = schedule(() => {
        this.#timer = undefined
        this.#dispatch()
      }, this.#maxDelay)
    } else if (!this.#scheduled) {
      this.#scheduled = true
      // After the current tick's promise jobs, like DataLoader, so awaited loads join in.
      setImmediate(() => {
        this.#scheduled = false
        this.#dispatch()
      })
    }
  }

  #dispatch(): void {
    const batch = this.#current
    this.#timer?.cancel()
    this.#timer = undefined
    if (batch === undefined) return
    this.#current = undefined
    this.#queued.push(batch)
    this.#queuedKeys += batch.keys.length
    this.#pump()
  }

  #pump(): void {
    while (this.#inFlight < this.#concurrency && this.#queued.size > 0) {
      const batch = this.#queued.shift()!
      this.#queuedKeys -= batch.keys.length
      this.#inFlight++
      this.#batches++
      this.#keys += batch.keys.length
      const run = this.#run(batch).finally(() => {
        this.#inFlight--
        this.#running.delete(run)
        this.#pump()
      })
      this.#running.add(run)
    }
  }

  async #run(batch: Batch<K, V>): Promise<void> {
    const { keys, waiters } = batch
    let results: ArrayLike<V | Error> | Map<K, V | Error> | undefined | void
    try {
      results = await this.#fn(keys)
    } catch (error) {
      this.#failed++
      for (const w of waiters) w.reject(error)
      return
    }
    if (results === undefined) {
      for (const w of waiters) w.resolve(undefined as V)
      return
    }
    if (results instanceof Map) {
      for (let i = 0; i < keys.length; i++) settle(waiters[i]!, results.get(keys[i]!) as V | Error)
      return
    }
    if (results === null || typeof results !== 'object' || results.length !== keys.length) {
      this.#failed++
      const error = new TypeError(
        `The batch function must return an array of ${keys.length} results (one per key) or a Map; got ${
          results === null || typeof results !== 'object' ? typeof results : `${results.length} results`
        }.`,
      )
      for (const w of waiters) w.reject(error)
      return
    }
    for (let i = 0; i < keys.length; i++) settle(waiters[i]!, results[i] as V | Error)
  }
}

function settle<V>(waiter: Deferred<V>, result: V | Error): void {
  if (result instanceof Error) waiter.reject(result)
  else waiter.resolve(result)
}
