import {
  abortReason,
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKnownOptions,
  checkOptionsObject,
  checkSignal,
  describeMetrics,
  getClock,
  metricsSource,
  parseDuration,
  schedule,
} from '@hotpath/core'
import { computeAdvice, type PoolAdvice } from './advise'
import { abortWaiter, dispatch, giveBack, lend, needsCheck, takeIdle } from './dispatch'
import { shutdown, waitUntilQuiet } from './drain'
import { PoolClosedError, PoolInitializeError, PoolQueueFullError } from './errors'
import { fill } from './fill'
import { tick } from './housekeeping'
import type { Lease } from './lease'
import { checkMinMax, type PoolOptions } from './options'
import {
  arm,
  captureStack,
  createPoolState,
  DRAINING,
  isQuiet,
  OPEN,
  type PoolState,
  retire,
} from './pool-state'
import type { AcquireOptions, DrainOptions, DrainResult, InitializeOptions, PoolStats } from './pool-types'
import type { Slot } from './slot'

const ACQUIRE_OPTIONS = ['signal', 'priority', 'timeout'] as const satisfies readonly (keyof AcquireOptions)[]
const INITIALIZE_OPTIONS = ['failFast', 'timeout'] as const satisfies readonly (keyof InitializeOptions)[]
const DRAIN_OPTIONS = ['timeout'] as const satisfies readonly (keyof DrainOptions)[]
const RESIZE_OPTIONS = ['min', 'max'] as const
const ADVISE_OPTIONS = ['reset'] as const

/** Runs `fn` on a lease's resource and releases it; an error is passed to `release(err)` and rethrown. */
async function runLeased<T, R>(lease: Lease<T>, fn: (resource: T) => R | Promise<R>): Promise<R> {
  let result: R
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
  readonly #s: PoolState<T>

  constructor(options: PoolOptions<T>) {
    this.#s = createPoolState<T>(options, {
      giveBack: (slot, lease, error, destroy) => giveBack(this.#s, slot as Slot<T>, lease, error, destroy),
      close: () => this.close(),
      tick: () => tick(this.#s),
    })
    fill(this.#s)
  }

  /** The pool name. */
  get name(): string {
    return this.#s.o.name
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
    let timeout = this.#s.o.acquireTimeout
    if (options !== undefined) {
      checkOptionsObject('options', options)
      checkKnownOptions('acquire()', options, ACQUIRE_OPTIONS)
      signal = checkSignal('signal', options.signal)
      if (options.priority !== undefined) priority = checkInteger('priority', options.priority)
      if (options.timeout !== undefined) timeout = parseDuration(options.timeout, 'timeout')
    }
    if (this.#s.state !== OPEN) return Promise.reject(new PoolClosedError(this.#s.o.name))
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    this.#s.c.windowRequested++
    const now = getClock().monotonic()
    if (this.#s.waiters.size === 0) {
      const slot = takeIdle(this.#s, now)
      if (slot !== undefined) {
        if (needsCheck(this.#s, slot, now)) this.#s.idle.push(slot)
        else {
          this.#s.c.wait.record(0)
          this.#s.c.windowWaitCount++
          return Promise.resolve(lend(this.#s, slot, now, undefined))
        }
      }
    }
    // Waiters up to the room left under `max` are served by creates; only those beyond it wait
    // for a release, and `maxWaiting` bounds them (0: an acquire never waits behind others).
    if (this.#s.waiters.size >= this.#s.o.maxWaiting + Math.max(0, this.#s.max - this.#s.slots.size)) {
      this.#s.c.rejected++
      return Promise.reject(new PoolQueueFullError(this.#s.o.name, this.#s.o.maxWaiting))
    }
    return new Promise<Lease<T>>((resolve, reject) => {
      const stack = this.#s.o.leakDetection === Number.POSITIVE_INFINITY ? undefined : captureStack()
      const waiter = this.#s.waiters.add({ priority, timeout, now, resolve, reject, signal, stack }, (w) =>
        abortWaiter(this.#s, w),
      )
      arm(this.#s, waiter.deadline)
      dispatch(this.#s)
      fill(this.#s)
    })
  }

  /**
   * Runs `fn` with a borrowed resource and releases it afterwards; an error thrown by `fn` is
   * passed to `release(err)` (so `isFatal` decides whether the resource survives) and rethrown.
   *
   * @example
   * const rows = await pool.use((conn) => conn.query('select 1'), { timeout: '2s' })
   */
  use<R>(fn: (resource: T) => R | Promise<R>, options?: AcquireOptions): Promise<R> {
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
    const timeout = parseDuration(raw.timeout ?? this.#s.o.acquireTimeout, 'timeout')
    const failFast = checkBoolean('failFast', raw.failFast ?? false)
    if (this.#s.state !== OPEN) return Promise.reject(new PoolClosedError(this.#s.o.name))
    if (this.#s.slots.size >= this.#s.min) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const timer = schedule(() => {
        this.#s.initWaiters.delete(entry)
        reject(
          new PoolInitializeError(this.#s.o.name, `timed out after ${timeout} ms`, {
            cause: this.#s.lastCreateError,
          }),
        )
      }, timeout)
      const entry = {
        failFast,
        resolve: () => {
          timer.cancel()
          resolve()
        },
        reject: (error: unknown) => {
          timer.cancel()
          reject(error)
        },
      }
      this.#s.initWaiters.add(entry)
      fill(this.#s)
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
      raw.min ?? Math.min(this.#s.min, raw.max ?? this.#s.max),
      raw.max ?? this.#s.max,
    )
    this.#s.min = min
    this.#s.max = max
    while (this.#s.slots.size > this.#s.max && this.#s.idle.size > 0) {
      retire(this.#s, this.#s.idle.shift() as Slot<T>, 'resize')
    }
    dispatch(this.#s)
    fill(this.#s)
  }

  /**
   * A plain snapshot of sizes, counters and summaries.
   *
   * @example
   * const { borrowed, idle, pending } = pool.stats()
   */
  stats(): PoolStats {
    return {
      name: this.#s.o.name,
      size: this.#s.slots.size,
      idle: this.#s.idle.size,
      borrowed: this.#s.borrowed,
      pending: this.#s.waiters.size,
      creating: this.#s.creating,
      min: this.#s.min,
      max: this.#s.max,
      created: this.#s.c.created,
      destroyed: this.#s.c.destroyed,
      destroyErrors: this.#s.c.destroyErrors,
      destroyTimeouts: this.#s.c.destroyTimeouts,
      acquired: this.#s.c.acquired,
      reused: this.#s.c.reused,
      timeouts: this.#s.c.timeouts,
      aborted: this.#s.c.aborted,
      rejected: this.#s.c.rejected,
      createErrors: this.#s.c.createErrors,
      validationFailures: this.#s.c.validationFailures,
      leaks: this.#s.c.leaks,
      acquireWait: this.#s.c.wait.snapshot(),
      holdTime: this.#s.c.hold.snapshot(),
      createTime: this.#s.c.createTime.snapshot(),
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
      min: this.#s.min,
      max: this.#s.max,
      requested: this.#s.c.windowRequested,
      windowMs: now - this.#s.c.windowStart,
      meanHoldMs: this.#s.c.windowHoldCount === 0 ? 0 : this.#s.c.windowHoldSum / this.#s.c.windowHoldCount,
      p99HoldMs: this.#s.c.hold.quantile(0.99),
      meanWaitMs: this.#s.c.windowWaitCount === 0 ? 0 : this.#s.c.windowWaitSum / this.#s.c.windowWaitCount,
      timeouts: this.#s.c.windowTimeouts,
    })
    if (reset) this.#s.c.resetWindow(now)
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
    if (this.#s.state === OPEN) this.#s.state = DRAINING
    let drained = isQuiet(this.#s)
    if (!drained && timeout > 0 && this.#s.state === DRAINING) {
      drained = await waitUntilQuiet(this.#s, timeout)
    }
    const outstanding = this.#s.borrowed
    await shutdown(this.#s)
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
