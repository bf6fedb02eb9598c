import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKnownOptions,
  checkOptionsObject,
  checkSignal,
  describeMetrics,
  getClock,
  getTimerService,
  metricsSource,
  parseDuration,
  Timeout,
} from '@hotpath/core'
import { computeAdvice, type PoolAdvice } from './advise'
import { shutdown, waitUntilQuiet } from './drain'
import { PoolClosedError, PoolInitializeError } from './errors'
import type { Lease } from './lease'
import { checkMinMax, type PoolOptions } from './options'
import { DRAINING, OPEN } from './pool-base'
import { PoolCore } from './pool-core'
import type { AcquireOptions, DrainOptions, DrainResult, InitializeOptions, PoolStats } from './pool-types'
import type { Slot } from './slot'

const ACQUIRE_OPTIONS = ['signal', 'priority', 'timeout'] as const satisfies readonly (keyof AcquireOptions)[]
const INITIALIZE_OPTIONS = ['failFast', 'timeout'] as const satisfies readonly (keyof InitializeOptions)[]
const DRAIN_OPTIONS = ['timeout'] as const satisfies readonly (keyof DrainOptions)[]
const RESIZE_OPTIONS = ['min', 'max'] as const
const ADVISE_OPTIONS = ['reset'] as const

/** Runs `fn` on a lease's resource and releases it; an error is passed to `release(err)` and rethrown. */
async function runLeased<T, R>(
  lease: Lease<T>,
  fn: (resource: T) => R | PromiseLike<R>,
): Promise<Awaited<R>> {
  let result: Awaited<R>
  try {
    result = await fn(lease.resource)
  } catch (error) {
    lease.release(error)
    throw error
  }
  lease.release()
  return result
}

/**
 * A resource pool: bounded, with one deadline per acquire, create retries with backoff, max
 * lifetime and uses, keepalive, leak detection, live resize, stats and sizing advice.
 * Create it with {@link createPool}.
 *
 * @example
 * const pool = createPool({ create: () => connect(), destroy: (c) => c.end(), max: 10 })
 * await pool.use((conn) => conn.query('select 1'))
 */
export class Pool<T> {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `pool` metrics. */
  readonly [metricsSource] = describeMetrics('pool', () => this.stats())
  readonly #core: PoolCore<T>

  constructor(options: PoolOptions<T>) {
    this.#core = new PoolCore<T>(options, () => this.close())
  }

  /** The pool name. */
  get name(): string {
    return this.#core.options.name
  }

  /**
   * Borrows a resource. Resolves with a {@link Lease}; rejects with `E_POOL_ACQUIRE_TIMEOUT` when
   * the deadline (queue wait + create + validation) passes, `E_POOL_QUEUE_FULL`, `E_POOL_CLOSED`,
   * or the signal's reason.
   *
   * @example
   * await using lease = await pool.acquire({ signal: request.signal, priority: 1 })
   */
  acquire(options?: AcquireOptions): Promise<Lease<T>> {
    let signal: AbortSignal | undefined
    let priority = 0
    let timeout = this.#core.options.acquireTimeout
    if (options !== undefined) {
      checkOptionsObject('options', options)
      checkKnownOptions('acquire()', options, ACQUIRE_OPTIONS)
      signal = checkSignal('signal', options.signal)
      if (options.priority !== undefined) priority = checkInteger('priority', options.priority)
      if (options.timeout !== undefined) timeout = parseDuration(options.timeout, 'timeout')
    }
    return this.#core.acquire(priority, timeout, signal)
  }

  /**
   * Runs `fn` with a borrowed resource and releases it afterwards; an error thrown by `fn` is
   * passed to `release(err)` (so `isFatal` decides whether the resource survives) and rethrown.
   *
   * @example
   * const rows = await pool.use((conn) => conn.query('select 1'), { timeout: '2s' })
   */
  use<R>(fn: (resource: T) => R | PromiseLike<R>, options?: AcquireOptions): Promise<Awaited<R>> {
    checkFunction('fn', fn)
    return this.acquire(options).then((lease) => runLeased(lease, fn))
  }

  /**
   * Waits until `min` resources exist. With `failFast` the first create error rejects with
   * `E_POOL_INITIALIZE_FAILED` and closes the pool; otherwise creates are retried until `timeout`.
   *
   * @example
   * await pool.initialize({ failFast: true }) // refuse to start when the database is down
   */
  initialize(options: InitializeOptions = {}): Promise<void> {
    const raw = checkOptionsObject('options', options)
    checkKnownOptions('initialize()', raw, INITIALIZE_OPTIONS)
    const timeout = parseDuration(raw.timeout ?? this.#core.options.acquireTimeout, 'timeout')
    const failFast = checkBoolean('failFast', raw.failFast ?? false)
    if (this.#core.status !== OPEN) return Promise.reject(new PoolClosedError(this.#core.options.name))
    if (this.#core.slots.size >= this.#core.min) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      // ref'd: the caller awaits `initialize()`, so the process stays alive until it settles
      const timer = new Timeout(() => {
        this.#core.initWaiters.delete(entry)
        reject(
          new PoolInitializeError(this.#core.options.name, `timed out after ${timeout} ms`, {
            cause: this.#core.lastCreateError,
          }),
        )
      })
      getTimerService().add(timer, timeout)
      const entry = {
        failFast,
        resolve: () => {
          getTimerService().remove(timer)
          resolve()
        },
        reject: (error: unknown) => {
          getTimerService().remove(timer)
          reject(error)
        },
      }
      this.#core.initWaiters.add(entry)
      this.#core.fill()
    })
  }

  /**
   * Changes the bounds live. Shrinking destroys idle resources at once and borrowed ones as they
   * come back; growing creates for `min` and for waiting acquires.
   *
   * @example
   * pool.resize({ max: pool.advise().suggestedMax })
   */
  resize(bounds: { min?: number; max?: number }): void {
    const raw = checkOptionsObject('bounds', bounds)
    checkKnownOptions('resize()', raw, RESIZE_OPTIONS)
    const { min, max } = checkMinMax(
      raw.min ?? Math.min(this.#core.min, raw.max ?? this.#core.max),
      raw.max ?? this.#core.max,
    )
    this.#core.min = min
    this.#core.max = max
    while (this.#core.slots.size > this.#core.max && this.#core.idle.size > 0) {
      this.#core.retire(this.#core.idle.shift() as Slot<T>, 'resize')
    }
    this.#core.dispatch()
    this.#core.fill()
  }

  /**
   * A plain snapshot of sizes, counters and summaries.
   *
   * @example
   * const { borrowed, idle, pending } = pool.stats()
   */
  stats(): PoolStats {
    return {
      name: this.#core.options.name,
      size: this.#core.slots.size,
      idle: this.#core.idle.size,
      borrowed: this.#core.borrowed,
      pending: this.#core.waiters.size,
      creating: this.#core.creating,
      min: this.#core.min,
      max: this.#core.max,
      created: this.#core.counters.created,
      destroyed: this.#core.counters.destroyed,
      destroyErrors: this.#core.counters.destroyErrors,
      destroyTimeouts: this.#core.counters.destroyTimeouts,
      acquired: this.#core.counters.acquired,
      reused: this.#core.counters.reused,
      timeouts: this.#core.counters.timeouts,
      aborted: this.#core.counters.aborted,
      rejected: this.#core.counters.rejected,
      createErrors: this.#core.counters.createErrors,
      validationFailures: this.#core.counters.validationFailures,
      leaks: this.#core.counters.leaks,
      acquireWait: this.#core.counters.wait.snapshot(),
      holdTime: this.#core.counters.hold.snapshot(),
      createTime: this.#core.counters.createTime.snapshot(),
    }
  }

  /**
   * Sizing advice from Little's law over the window since the pool started or the previous call
   * with `reset: true`: resources busy on average = arrival rate × mean hold time.
   *
   * @example
   * const advice = pool.advise({ reset: true })
   * if (advice.suggestedMax > advice.currentMax) console.warn(advice.summary)
   */
  advise(options: { reset?: boolean } = {}): PoolAdvice {
    const raw = checkOptionsObject('options', options)
    checkKnownOptions('advise()', raw, ADVISE_OPTIONS)
    const reset = checkBoolean('reset', raw.reset ?? false)
    const now = getClock().monotonic()
    const advice = computeAdvice({
      min: this.#core.min,
      max: this.#core.max,
      requested: this.#core.counters.windowRequested,
      windowMs: now - this.#core.counters.windowStart,
      meanHoldMs:
        this.#core.counters.windowHoldCount === 0
          ? 0
          : this.#core.counters.windowHoldSum / this.#core.counters.windowHoldCount,
      p99HoldMs: this.#core.counters.hold.quantile(0.99),
      meanWaitMs:
        this.#core.counters.windowWaitCount === 0
          ? 0
          : this.#core.counters.windowWaitSum / this.#core.counters.windowWaitCount,
      timeouts: this.#core.counters.windowTimeouts,
    })
    if (reset) this.#core.counters.resetWindow(now)
    return advice
  }

  /**
   * Refuses new acquires (`E_POOL_CLOSED`), serves every acquire queued before the call (creating
   * resources when needed) and waits up to `timeout` for leases to come back, then closes: waiters
   * still queued reject with `E_POOL_CLOSED`, idle resources are destroyed, creates and destroys in
   * flight are awaited (each at most its timeout), leases still out are destroyed when released.
   * Bad options throw a `TypeError` synchronously.
   *
   * @example
   * process.on('SIGTERM', async () => { await pool.drain({ timeout: '10s' }) })
   */
  drain(options: DrainOptions = {}): Promise<DrainResult> {
    const raw = checkOptionsObject('options', options)
    checkKnownOptions('drain()', raw, DRAIN_OPTIONS)
    return this.#drain(parseDuration(raw.timeout ?? '30s', 'timeout'))
  }

  async #drain(timeout: number): Promise<DrainResult> {
    if (this.#core.status === OPEN) this.#core.status = DRAINING
    let drained = this.#core.isQuiet()
    if (!drained && timeout > 0 && this.#core.status === DRAINING) {
      drained = await waitUntilQuiet(this.#core, timeout)
    }
    const outstanding = this.#core.borrowed
    await shutdown(this.#core)
    return { drained, outstanding }
  }

  /**
   * Closes at once (a `drain` with no grace period): queued acquires reject with `E_POOL_CLOSED`.
   * Resolves once the pool's creates and destroys in flight are done or timed out.
   *
   * @example
   * await pool.close()
   */
  async close(): Promise<void> {
    await this.#drain(0)
  }

  /** Closes the pool (`await using pool = createPool(...)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/**
 * Creates a {@link Pool}. It starts creating `min` resources at once; `initialize()` waits for them.
 *
 * @example
 * const pool = createPool({
 *   create: () => connect(url), destroy: (c) => c.end(), validate: (c) => c.ping(),
 *   min: 2, max: 10, acquireTimeout: '5s', maxLifetime: '30m',
 * })
 * await using lease = await pool.acquire()
 */
export function createPool<T>(options: PoolOptions<T>): Pool<T> {
  return new Pool(options)
}
