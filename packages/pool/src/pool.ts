import {
  abortReason,
  checkFunction,
  checkInteger,
  checkOptionsObject,
  checkSignal,
  Deque,
  getClock,
  parseDuration,
  schedule,
  type TimerHandle,
} from '@hotpath/core'
import { computeAdvice, type PoolAdvice } from './advise'
import { channels, type DestroyReason } from './channels'
import { PoolCounters } from './counters'
import {
  AcquireTimeoutError,
  CreateTimeoutError,
  DoubleReleaseError,
  PoolClosedError,
  PoolInitializeError,
  PoolQueueFullError,
} from './errors'
import { Lease, type LeaseOwner } from './lease'
import { checkMinMax, type PoolOptions, type ResolvedOptions, resolveOptions } from './options'
import type { AcquireOptions, DrainOptions, DrainResult, InitializeOptions, PoolStats } from './pool-types'
import { BORROWED, CHECKING, GONE, IDLE, type Slot } from './slot'
import { type Waiter, WaiterQueue } from './waiters'

const OPEN = 0
const DRAINING = 1
const CLOSED = 2
const LIFETIME_JITTER = 0.025

function noop(): void {}

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
  readonly #o: Readonly<ResolvedOptions<T>>
  #min: number
  #max: number
  #state = OPEN
  readonly #idle = new Deque<Slot<T>>()
  readonly #slots = new Set<Slot<T>>()
  readonly #waiters = new WaiterQueue<T>()
  #borrowed = 0
  #creating = 0
  #failures = 0
  #lastCreateError: unknown
  #retryAt = 0
  #timer: TimerHandle | undefined
  #timerAt = Number.POSITIVE_INFINITY
  readonly #createControllers = new Set<AbortController>()
  readonly #pendingDestroys = new Set<Promise<void>>()
  readonly #settled = new Set<(drained: boolean) => void>()
  readonly #initWaiters = new Set<{ resolve: () => void; reject: (e: unknown) => void; failFast: boolean }>()
  readonly #c = new PoolCounters()
  readonly #owner: LeaseOwner<T> = {
    giveBack: (slot, lease, error, destroy) => this.#giveBack(slot as Slot<T>, lease, error, destroy),
  }

  constructor(options: PoolOptions<T>) {
    this.#o = resolveOptions(options)
    this.#min = this.#o.min
    this.#max = this.#o.max
    this.#fill()
  }

  /** The pool name. */
  get name(): string {
    return this.#o.name
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
    if (this.#state !== OPEN) return Promise.reject(new PoolClosedError(this.#o.name))
    let signal: AbortSignal | undefined
    let priority = 0
    let timeout = this.#o.acquireTimeout
    if (options !== undefined) {
      checkOptionsObject('options', options)
      signal = checkSignal('signal', options.signal)
      if (options.priority !== undefined) priority = checkInteger('priority', options.priority)
      if (options.timeout !== undefined) timeout = parseDuration(options.timeout, 'timeout')
      if (signal?.aborted) return Promise.reject(abortReason(signal))
    }
    this.#c.windowRequested++
    const now = getClock().monotonic()
    if (this.#waiters.size === 0) {
      const slot = this.#takeIdle(now)
      if (slot !== undefined) {
        if (this.#needsCheck(slot, now)) this.#idle.push(slot)
        else {
          this.#c.wait.record(0)
          this.#c.windowWaitCount++
          return Promise.resolve(this.#lend(slot, now, undefined))
        }
      }
    }
    if (this.#waiters.size >= this.#o.maxWaiting) {
      this.#c.rejected++
      return Promise.reject(new PoolQueueFullError(this.#o.name, this.#o.maxWaiting))
    }
    return new Promise<Lease<T>>((resolve, reject) => {
      const stack = this.#o.leakDetection === Number.POSITIVE_INFINITY ? undefined : captureStack()
      const waiter = this.#waiters.add({ priority, timeout, now, resolve, reject, signal, stack }, (w) =>
        this.#abortWaiter(w),
      )
      this.#arm(waiter.deadline)
      this.#dispatch()
      this.#fill()
    })
  }

  /**
   * Runs `fn` with a borrowed resource and releases it afterwards; an error thrown by `fn` is
   * passed to `release(err)` (so `isFatal` decides whether the resource survives) and rethrown.
   *
   * @example
   * const rows = await pool.use((conn) => conn.query('select 1'), { timeout: '2s' })
   */
  async use<R>(fn: (resource: T) => R | Promise<R>, options?: AcquireOptions): Promise<R> {
    checkFunction('fn', fn)
    const lease = await this.acquire(options)
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
   * Waits until `min` resources exist. With `failFast` the first create error rejects with
   * `E_POOL_INITIALIZE_FAILED` and closes the pool; otherwise creates are retried until `timeout`.
   *
   * @example
   * await pool.initialize({ failFast: true }) // refuse to start when the database is down
   */
  initialize(options: InitializeOptions = {}): Promise<void> {
    const raw = checkOptionsObject('options', options)
    const timeout = parseDuration(raw.timeout ?? this.#o.acquireTimeout, 'timeout')
    const failFast = raw.failFast ?? false
    if (this.#state !== OPEN) return Promise.reject(new PoolClosedError(this.#o.name))
    if (this.#slots.size >= this.#min) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const timer = schedule(() => {
        this.#initWaiters.delete(entry)
        reject(
          new PoolInitializeError(this.#o.name, `timed out after ${timeout} ms`, {
            cause: this.#lastCreateError,
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
      this.#initWaiters.add(entry)
      this.#fill()
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
    const { min, max } = checkMinMax(
      raw.min ?? Math.min(this.#min, raw.max ?? this.#max),
      raw.max ?? this.#max,
    )
    this.#min = min
    this.#max = max
    while (this.#slots.size > this.#max && this.#idle.size > 0) {
      this.#retire(this.#idle.shift() as Slot<T>, 'resize')
    }
    this.#dispatch()
    this.#fill()
  }

  /**
   * A plain snapshot of sizes, counters and summaries.
   *
   * @example
   * const { borrowed, idle, pending } = pool.stats()
   */
  stats(): PoolStats {
    return {
      name: this.#o.name,
      size: this.#slots.size,
      idle: this.#idle.size,
      borrowed: this.#borrowed,
      pending: this.#waiters.size,
      creating: this.#creating,
      min: this.#min,
      max: this.#max,
      created: this.#c.created,
      destroyed: this.#c.destroyed,
      acquired: this.#c.acquired,
      reused: this.#c.reused,
      timeouts: this.#c.timeouts,
      aborted: this.#c.aborted,
      rejected: this.#c.rejected,
      createErrors: this.#c.createErrors,
      validationFailures: this.#c.validationFailures,
      leaks: this.#c.leaks,
      acquireWait: this.#c.wait.snapshot(),
      holdTime: this.#c.hold.snapshot(),
      createTime: this.#c.createTime.snapshot(),
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
    const now = getClock().monotonic()
    const advice = computeAdvice({
      min: this.#min,
      max: this.#max,
      requested: this.#c.windowRequested,
      windowMs: now - this.#c.windowStart,
      meanHoldMs: this.#c.windowHoldCount === 0 ? 0 : this.#c.windowHoldSum / this.#c.windowHoldCount,
      p99HoldMs: this.#c.hold.quantile(0.99),
      meanWaitMs: this.#c.windowWaitCount === 0 ? 0 : this.#c.windowWaitSum / this.#c.windowWaitCount,
      timeouts: this.#c.windowTimeouts,
    })
    if (options.reset) {
      this.#c.resetWindow(now)
    }
    return advice
  }

  /**
   * Stops new acquires, waits up to `timeout` for leases to come back and queued waiters to be
   * served, then closes: remaining waiters reject with `E_POOL_CLOSED`, idle resources are
   * destroyed, leases still out are destroyed when released.
   *
   * @example
   * process.on('SIGTERM', async () => { await pool.drain({ timeout: '10s' }) })
   */
  async drain(options: DrainOptions = {}): Promise<DrainResult> {
    const timeout = parseDuration(checkOptionsObject('options', options).timeout ?? '30s', 'timeout')
    if (this.#state === OPEN) this.#state = DRAINING
    let drained = this.#isQuiet()
    if (!drained && timeout > 0 && this.#state === DRAINING) {
      drained = await new Promise<boolean>((resolve) => {
        const settle = (done: boolean) => {
          timer.cancel()
          this.#settled.delete(settle)
          resolve(done)
        }
        const timer = schedule(() => settle(false), timeout)
        this.#settled.add(settle)
      })
    }
    const outstanding = this.#borrowed
    await this.#shutdown()
    return { drained, outstanding }
  }

  /**
   * Closes at once (a `drain` with no grace period). Settles every waiter.
   *
   * @example
   * await pool.close()
   */
  async close(): Promise<void> {
    await this.drain({ timeout: 0 })
  }

  /** Closes the pool (`await using pool = createPool(...)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #giveBack(slot: Slot<T>, lease: Lease<T>, error: unknown, destroy: boolean): void {
    if (slot.lease !== lease || lease.released) throw new DoubleReleaseError(this.#o.name)
    const now = getClock().monotonic()
    const held = now - slot.borrowedAt
    this.#c.hold.record(held)
    this.#c.windowHoldSum += held
    this.#c.windowHoldCount++
    this.#borrowed--
    slot.lease = undefined
    slot.stack = undefined
    slot.lastUsedAt = now
    slot.lastCheckedAt = now
    if (destroy) this.#retire(slot, 'destroyed')
    else if (error !== undefined && this.#fatal(error)) this.#retire(slot, 'error')
    else if (this.#state === CLOSED) this.#retire(slot, 'close')
    else if (slot.uses >= this.#o.maxUses) this.#retire(slot, 'uses')
    else if (slot.expiresAt <= now) this.#retire(slot, 'lifetime')
    else if (this.#slots.size > this.#max) this.#retire(slot, 'resize')
    else {
      slot.state = IDLE
      const waiter = this.#waiters.pop()
      if (waiter !== undefined) this.#grant(waiter, slot, now)
      else {
        this.#idle.push(slot)
        this.#armIdle(slot, now)
      }
    }
    if (this.#state !== OPEN) this.#checkQuiet()
    else if (this.#slots.size < this.#min || this.#waiters.size > 0) this.#fill()
  }

  #fatal(error: unknown): boolean {
    try {
      return this.#o.isFatal(error)
    } catch {
      return true
    }
  }

  /** Takes an idle slot, retiring expired ones on the way. */
  #takeIdle(now: number): Slot<T> | undefined {
    for (;;) {
      const slot = this.#o.fifo ? this.#idle.shift() : this.#idle.pop()
      if (slot === undefined || slot.expiresAt > now) return slot
      this.#retire(slot, 'lifetime')
    }
  }

  #needsCheck(slot: Slot<T>, now: number): boolean {
    return this.#o.validate !== undefined && now - slot.lastCheckedAt > this.#o.validateAfter
  }

  #lend(slot: Slot<T>, now: number, waiter: Waiter<T> | undefined): Lease<T> {
    slot.state = BORROWED
    slot.borrowedAt = now
    if (slot.uses > 0) this.#c.reused++
    slot.uses++
    this.#borrowed++
    this.#c.acquired++
    const lease = new Lease<T>(this.#owner, slot.resource, slot)
    slot.lease = lease
    if (this.#o.leakDetection !== Number.POSITIVE_INFINITY) {
      slot.leakReported = false
      slot.stack = waiter?.stack ?? captureStack()
      this.#arm(now + this.#o.leakDetection)
    }
    if (channels.acquire.active) {
      channels.acquire.publish({ pool: this.#o.name, waitMs: waiter ? now - waiter.enqueuedAt : 0 })
    }
    return lease
  }

  /** Hands `slot` (already out of the idle list) to `waiter`, validating first when due. */
  #grant(waiter: Waiter<T>, slot: Slot<T>, now: number): void {
    if (this.#needsCheck(slot, now)) {
      slot.state = CHECKING
      this.#check(slot).then((ok) => {
        if (slot.state === GONE) return
        const at = getClock().monotonic()
        if (!ok) {
          this.#c.validationFailures++
          this.#retire(slot, 'invalid')
          this.#waiters.requeue(waiter)
          this.#dispatch()
          this.#fill()
          return
        }
        slot.lastCheckedAt = at
        if (waiter.pending) this.#settleWith(waiter, slot, at)
        else this.#recycle(slot, at)
      })
      return
    }
    this.#settleWith(waiter, slot, now)
  }

  #settleWith(waiter: Waiter<T>, slot: Slot<T>, now: number): void {
    this.#waiters.settle(waiter)
    const waited = now - waiter.enqueuedAt
    this.#c.wait.record(waited)
    this.#c.windowWaitSum += waited
    this.#c.windowWaitCount++
    waiter.resolve(this.#lend(slot, now, waiter))
  }

  /** A validated or freshly created slot with no waiter attached: next waiter or idle. */
  #recycle(slot: Slot<T>, now: number): void {
    if (this.#state === CLOSED) {
      this.#retire(slot, 'close')
      return
    }
    if (this.#slots.size > this.#max) {
      this.#retire(slot, 'resize')
      return
    }
    slot.state = IDLE
    const waiter = this.#waiters.pop()
    if (waiter !== undefined) this.#grant(waiter, slot, now)
    else {
      this.#idle.push(slot)
      this.#armIdle(slot, now)
      this.#checkQuiet()
    }
  }

  #check(slot: Slot<T>): Promise<boolean> {
    const validate = this.#o.validate as (resource: T) => boolean | Promise<boolean>
    try {
      return Promise.resolve(validate(slot.resource)).then(
        (ok) => ok === true,
        () => false,
      )
    } catch {
      return Promise.resolve(false)
    }
  }

  /** Pairs queued waiters with idle slots. */
  #dispatch(): void {
    while (this.#waiters.size > 0 && this.#idle.size > 0) {
      const now = getClock().monotonic()
      const slot = this.#takeIdle(now)
      if (slot === undefined) break
      this.#grant(this.#waiters.pop() as Waiter<T>, slot, now)
    }
  }

  /** Starts creates for `min` and for waiters that outnumber the creates in flight. */
  #fill(): void {
    if (this.#state !== OPEN) return
    const now = getClock().monotonic()
    if (this.#retryAt > now) return
    let wanted = Math.max(this.#waiters.size - this.#creating, this.#min - this.#slots.size - this.#creating)
    // While creates fail, probe with one create at a time instead of one per waiter.
    if (this.#failures > 0) wanted = Math.min(wanted, 1 - this.#creating)
    while (
      wanted > 0 &&
      this.#creating < this.#o.maxCreating &&
      this.#slots.size + this.#creating < this.#max
    ) {
      this.#startCreate(now)
      wanted--
    }
  }

  #startCreate(started: number): void {
    this.#creating++
    const controller = new AbortController()
    this.#createControllers.add(controller)
    const offClose = () => this.#createControllers.delete(controller)
    let timedOut = false
    const timer = schedule(() => {
      timedOut = true
      controller.abort(new CreateTimeoutError(this.#o.name, this.#o.createTimeout))
      this.#onCreateFailed(controller.signal.reason)
    }, this.#o.createTimeout)
    timer.unref()
    let created: Promise<T>
    try {
      created = Promise.resolve(this.#o.create({ signal: controller.signal }))
    } catch (error) {
      created = Promise.reject(error)
    }
    created.then(
      (resource) => {
        timer.cancel()
        offClose()
        if (timedOut) {
          this.#destroyResource(resource, 'close')
          return
        }
        this.#onCreated(resource, started)
      },
      (error: unknown) => {
        timer.cancel()
        offClose()
        if (!timedOut) this.#onCreateFailed(error)
      },
    )
  }

  #onCreated(resource: T, started: number): void {
    this.#creating--
    this.#failures = 0
    this.#lastCreateError = undefined
    this.#retryAt = 0
    if (this.#state === CLOSED || this.#slots.size >= this.#max) {
      this.#destroyResource(resource, this.#state === CLOSED ? 'close' : 'resize')
      this.#checkQuiet()
      return
    }
    const now = getClock().monotonic()
    this.#c.created++
    this.#c.createTime.record(now - started)
    const lifetime = this.#o.maxLifetime
    const slot: Slot<T> = {
      resource,
      state: IDLE,
      createdAt: now,
      expiresAt:
        lifetime === Number.POSITIVE_INFINITY
          ? lifetime
          : now + lifetime * (1 + (Math.random() * 2 - 1) * LIFETIME_JITTER),
      lastUsedAt: now,
      lastCheckedAt: now,
      uses: 0,
      lease: undefined,
      borrowedAt: 0,
      stack: undefined,
      leakReported: false,
    }
    this.#slots.add(slot)
    if (channels.create.active) {
      channels.create.publish({ pool: this.#o.name, durationMs: now - started, size: this.#slots.size })
    }
    this.#recycle(slot, now)
    if (this.#initWaiters.size > 0 && this.#slots.size >= this.#min) {
      for (const entry of this.#initWaiters) entry.resolve()
      this.#initWaiters.clear()
    }
    this.#fill()
  }

  #onCreateFailed(error: unknown): void {
    this.#creating--
    this.#c.createErrors++
    this.#failures++
    this.#lastCreateError = error
    if (this.#state === CLOSED) return
    const ceiling = Math.min(this.#o.retryMax, this.#o.retryBase * 2 ** Math.min(30, this.#failures - 1))
    const delay = ceiling / 2 + Math.random() * (ceiling / 2)
    this.#retryAt = getClock().monotonic() + delay
    this.#arm(this.#retryAt)
    if (channels.createError.active) {
      channels.createError.publish({ pool: this.#o.name, error, failures: this.#failures, retryInMs: delay })
    }
    let failFast = false
    for (const entry of this.#initWaiters) {
      if (!entry.failFast) continue
      failFast = true
      this.#initWaiters.delete(entry)
      entry.reject(new PoolInitializeError(this.#o.name, 'the first create failed', { cause: error }))
    }
    if (failFast) void this.close()
  }

  #retire(slot: Slot<T>, reason: DestroyReason): void {
    if (slot.state === GONE) return
    slot.state = GONE
    this.#slots.delete(slot)
    this.#destroyResource(slot.resource, reason)
  }

  #destroyResource(resource: T, reason: DestroyReason): void {
    this.#c.destroyed++
    if (channels.destroy.active) channels.destroy.publish({ pool: this.#o.name, reason })
    let done: Promise<void>
    try {
      done = Promise.resolve(this.#o.destroy(resource)).then(noop, noop)
    } catch {
      done = Promise.resolve()
    }
    this.#pendingDestroys.add(done)
    void done.then(() => this.#pendingDestroys.delete(done))
  }

  #abortWaiter(waiter: Waiter<T>): void {
    if (!waiter.pending) return
    this.#waiters.settle(waiter)
    this.#c.aborted++
    waiter.reject(abortReason(waiter.signal as AbortSignal))
    this.#checkQuiet()
  }

  #timeoutWaiter(waiter: Waiter<T>, now: number): void {
    this.#waiters.settle(waiter)
    this.#c.timeouts++
    this.#c.windowTimeouts++
    const cause = this.#failures > 0 ? this.#lastCreateError : undefined
    if (channels.acquireTimeout.active) {
      channels.acquireTimeout.publish({ pool: this.#o.name, waitedMs: now - waiter.enqueuedAt, cause })
    }
    const message =
      `Pool '${this.#o.name}' gave no resource within ${waiter.timeout} ms ` +
      `(borrowed ${this.#borrowed}/${this.#max}, waiting ${this.#waiters.size + 1}` +
      (cause === undefined ? ')' : `, creates failing: ${describeError(cause)})`) +
      '; raise `max` or `acquireTimeout`, or hold resources for less time.'
    waiter.reject(new AcquireTimeoutError(waiter.timeout, message, { cause }))
    this.#checkQuiet()
  }

  /** Arms the pool's one timer for `at` unless it already fires earlier. */
  #arm(at: number): void {
    if (at >= this.#timerAt || this.#state === CLOSED) return
    this.#timer?.cancel()
    this.#timerAt = at
    this.#timer = schedule(() => this.#tick(), Math.max(0, at - getClock().monotonic())).unref()
  }

  #armIdle(slot: Slot<T>, now: number): void {
    let due = slot.expiresAt
    if (this.#o.idleTimeout !== Number.POSITIVE_INFINITY && this.#slots.size > this.#min) {
      due = Math.min(due, now + this.#o.idleTimeout)
    }
    if (this.#o.validate !== undefined) due = Math.min(due, now + this.#o.keepalive)
    if (due < this.#timerAt) this.#arm(due)
  }

  /** The pool's one timer: waiter deadlines, create retries and housekeeping. */
  #tick(): void {
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
    if (this.#state === CLOSED) return
    const now = getClock().monotonic()
    for (let waiter = this.#waiters.expired(now); waiter !== undefined; waiter = this.#waiters.expired(now)) {
      this.#timeoutWaiter(waiter, now)
    }
    if (this.#retryAt !== 0 && this.#retryAt <= now) {
      this.#retryAt = 0
      this.#fill()
    }
    let next = this.#housekeep(now)
    const deadline = this.#waiters.nextDeadline()
    if (deadline !== undefined) next = Math.min(next, deadline)
    if (this.#retryAt > now) next = Math.min(next, this.#retryAt)
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next)
  }

  /** Idle eviction, lifetime, keepalive and leak detection; returns when it is next due. */
  #housekeep(now: number): number {
    const o = this.#o
    let next = Number.POSITIVE_INFINITY
    const idle = this.#idle.drain()
    const keep: Slot<T>[] = []
    // Oldest release first, so idle eviction removes the least recently used.
    for (const slot of idle) {
      if (slot.expiresAt <= now) {
        this.#retire(slot, 'lifetime')
        continue
      }
      const idleDue = slot.lastUsedAt + o.idleTimeout
      if (idleDue <= now && this.#slots.size > this.#min) {
        this.#retire(slot, 'idle')
        continue
      }
      if (o.validate !== undefined && slot.lastCheckedAt + o.keepalive <= now) {
        this.#keepalive(slot)
        continue
      }
      keep.push(slot)
      next = Math.min(next, slot.expiresAt)
      if (this.#slots.size > this.#min && idleDue > now) next = Math.min(next, idleDue)
      if (o.validate !== undefined) next = Math.min(next, slot.lastCheckedAt + o.keepalive)
    }
    for (const slot of keep) this.#idle.push(slot)
    if (o.leakDetection !== Number.POSITIVE_INFINITY) {
      for (const slot of this.#slots) {
        if (slot.state !== BORROWED || slot.leakReported) continue
        const due = slot.borrowedAt + o.leakDetection
        if (due <= now) this.#reportLeak(slot, now)
        else next = Math.min(next, due)
      }
    }
    this.#fill()
    return next
  }

  #keepalive(slot: Slot<T>): void {
    slot.state = CHECKING
    void this.#check(slot).then((ok) => {
      if (slot.state === GONE) return
      const now = getClock().monotonic()
      if (!ok) {
        this.#c.validationFailures++
        this.#retire(slot, 'invalid')
        this.#fill()
        return
      }
      slot.lastCheckedAt = now
      this.#recycle(slot, now)
    })
  }

  #reportLeak(slot: Slot<T>, now: number): void {
    slot.leakReported = true
    this.#c.leaks++
    const report = { pool: this.#o.name, heldMs: now - slot.borrowedAt, stack: slot.stack ?? '' }
    channels.leak.publish(report)
    this.#o.onLeak?.(report)
    this.#o.logger?.warn(
      `Pool '${report.pool}': a lease has been held for ${Math.round(report.heldMs)} ms (possible leak); acquired at:`,
      report,
    )
  }

  #isQuiet(): boolean {
    return this.#borrowed === 0 && this.#waiters.size === 0
  }

  #checkQuiet(): void {
    if (this.#settled.size > 0 && this.#isQuiet()) for (const settle of [...this.#settled]) settle(true)
  }

  async #shutdown(): Promise<void> {
    if (this.#state !== CLOSED) {
      this.#state = CLOSED
      this.#timer?.cancel()
      this.#timer = undefined
      this.#timerAt = Number.POSITIVE_INFINITY
      const closed = new PoolClosedError(this.#o.name)
      for (const controller of this.#createControllers) controller.abort(closed)
      this.#createControllers.clear()
      for (const settle of [...this.#settled]) settle(false)
      for (const waiter of this.#waiters.drain()) waiter.reject(new PoolClosedError(this.#o.name))
      for (const entry of this.#initWaiters) entry.reject(new PoolClosedError(this.#o.name))
      this.#initWaiters.clear()
      for (const slot of this.#idle.drain()) this.#retire(slot, 'close')
    }
    while (this.#pendingDestroys.size > 0) await Promise.all(this.#pendingDestroys)
  }
}

function captureStack(): string {
  const holder: { stack?: string } = {}
  Error.captureStackTrace(holder, captureStack)
  return (holder.stack ?? '').replace(/^Error\n/, '')
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
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
