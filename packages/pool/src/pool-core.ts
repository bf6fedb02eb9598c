import { abortReason, getClock } from '@hotpath/core'
import { channels } from './channels'
import { AcquireTimeoutError, DoubleReleaseError, PoolClosedError, PoolQueueFullError } from './errors'
import { fill } from './fill'
import { armIdle, housekeep } from './housekeeping'
import { Lease, type LeaseOwner } from './lease'
import type { PoolOptions } from './options'
import { CLOSED, captureStack, describeError, OPEN, PoolBase } from './pool-base'
import { BORROWED, CHECKING, GONE, IDLE, type Slot } from './slot'
import type { Waiter } from './waiters'

/**
 * @internal The pool's dispatch logic: acquire (lend an idle slot, or queue a waiter with its
 * deadline), release, pairing waiters with slots, and the timer handlers. The life of an acquire
 * reads top to bottom here: `acquire` → `waiters.add` + `armDeadline` → `onDeadline` →
 * `#timeoutWaiter` (or `#grant` when a slot comes free first).
 */
export class PoolCore<T> extends PoolBase<T> implements LeaseOwner<T> {
  constructor(options: PoolOptions<T>, close: () => Promise<void>) {
    super(options, close)
    this.fill()
  }

  /** Borrows a resource; the options are already validated. */
  acquire(priority: number, timeout: number, signal: AbortSignal | undefined): Promise<Lease<T>> {
    if (this.status !== OPEN) return Promise.reject(new PoolClosedError(this.options.name))
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    this.counters.windowRequested++
    const now = getClock().monotonic()
    if (this.waiters.size === 0) {
      const slot = this.takeIdle(now)
      if (slot !== undefined) {
        if (this.needsCheck(slot, now)) this.idle.push(slot)
        else {
          this.counters.wait.record(0)
          this.counters.windowWaitCount++
          return Promise.resolve(this.lend(slot, now, undefined))
        }
      }
    }
    // Waiters up to the room left under `max` are served by creates; only those beyond it wait
    // for a release, and `maxWaiting` bounds them (0: an acquire never waits behind others).
    if (this.waiters.size >= this.options.maxWaiting + Math.max(0, this.max - this.slots.size)) {
      this.counters.rejected++
      return Promise.reject(new PoolQueueFullError(this.options.name, this.options.maxWaiting))
    }
    return new Promise<Lease<T>>((resolve, reject) => {
      const stack = this.options.leakDetection === Number.POSITIVE_INFINITY ? undefined : captureStack()
      this.waiters.add({ priority, timeout, now, resolve, reject, signal, stack }, (w) =>
        this.#abortWaiter(w),
      )
      this.armDeadline()
      this.dispatch()
      this.fill()
    })
  }

  /** The earliest deadline is due: every waiter past its deadline rejects, then re-arm. */
  protected onDeadline(): void {
    const now = getClock().monotonic()
    for (let waiter = this.waiters.expired(now); waiter !== undefined; waiter = this.waiters.expired(now)) {
      this.#timeoutWaiter(waiter, now)
    }
    this.armDeadline()
  }

  protected onRetry(): void {
    if (this.retryAt === 0) return
    if (this.retryAt > getClock().monotonic()) this.armRetry()
    else {
      this.retryAt = 0
      this.fill()
    }
  }

  protected onHousekeeping(): void {
    this.housekeepingFired()
    this.armHousekeeping(housekeep(this, getClock().monotonic()))
  }

  /** A waiter's deadline passed: it rejects with `E_POOL_ACQUIRE_TIMEOUT`. */
  #timeoutWaiter(waiter: Waiter<T>, now: number): void {
    this.waiters.settle(waiter)
    this.counters.timeouts++
    this.counters.windowTimeouts++
    const cause = this.createFailures > 0 ? this.lastCreateError : undefined
    if (channels.acquireTimeout.active) {
      channels.acquireTimeout.publish({ pool: this.options.name, waitedMs: now - waiter.enqueuedAt, cause })
    }
    const message =
      `Pool '${this.options.name}' gave no resource within ${waiter.timeout} ms ` +
      `(borrowed ${this.borrowed}/${this.max}, waiting ${this.waiters.size + 1}` +
      (cause === undefined ? ')' : `, creates failing: ${describeError(cause)})`) +
      '; raise `max` or `acquireTimeout`, or hold resources for less time.'
    waiter.reject(new AcquireTimeoutError(waiter.timeout, message, { cause }))
    this.checkQuiet()
  }

  #abortWaiter(waiter: Waiter<T>): void {
    if (!waiter.pending) return
    this.waiters.settle(waiter)
    this.counters.aborted++
    waiter.reject(abortReason(waiter.signal as AbortSignal))
    this.checkQuiet()
  }

  /** Starts creates for `min` and for waiters that outnumber the creates in flight. */
  fill(): void {
    fill(this)
  }

  /** Returns a lent slot to the pool (called by the lease). */
  giveBack(lent: unknown, lease: Lease<T>, error: unknown, destroy: boolean): void {
    const slot = lent as Slot<T>
    if (slot.lease !== lease || lease.released) throw new DoubleReleaseError(this.options.name)
    const now = getClock().monotonic()
    const held = now - slot.borrowedAt
    const c = this.counters
    c.hold.record(held)
    c.windowHoldSum += held
    c.windowHoldCount++
    this.borrowed--
    slot.lease = undefined
    slot.stack = undefined
    slot.lastUsedAt = now
    slot.lastCheckedAt = now
    if (destroy) this.retire(slot, 'destroyed')
    else if (error !== undefined && this.#fatal(error)) this.retire(slot, 'error')
    else if (this.status === CLOSED) this.retire(slot, 'close')
    else if (slot.uses >= this.options.maxUses) this.retire(slot, 'uses')
    else if (slot.expiresAt <= now) this.retire(slot, 'lifetime')
    else if (this.slots.size > this.max) this.retire(slot, 'resize')
    else this.#offer(slot, now)
    if (this.waiters.size > 0 || (this.status === OPEN && this.slots.size < this.min)) this.fill()
    if (this.status !== OPEN) this.checkQuiet()
  }

  #fatal(error: unknown): boolean {
    try {
      return this.options.isFatal(error)
    } catch {
      return true
    }
  }

  /** Takes an idle slot, retiring expired and known-broken ones on the way. */
  takeIdle(now: number): Slot<T> | undefined {
    const isBroken = this.options.isBroken
    for (;;) {
      const slot = this.options.fifo ? this.idle.shift() : this.idle.pop()
      if (slot === undefined) return undefined
      if (slot.expiresAt <= now) this.retire(slot, 'lifetime')
      else if (isBroken !== undefined && brokenOrThrows(isBroken, slot.resource)) {
        this.counters.validationFailures++
        this.retire(slot, 'invalid')
      } else return slot
    }
  }

  /** True when the slot is due for `validate` before it is lent. */
  needsCheck(slot: Slot<T>, now: number): boolean {
    return this.options.validate !== undefined && now - slot.lastCheckedAt > this.options.validateAfter
  }

  /** Lends a slot: counts it, arms leak detection and wraps it in a lease. */
  lend(slot: Slot<T>, now: number, waiter: Waiter<T> | undefined): Lease<T> {
    slot.state = BORROWED
    slot.borrowedAt = now
    if (slot.uses > 0) this.counters.reused++
    slot.uses++
    this.borrowed++
    this.counters.acquired++
    const lease = new Lease<T>(this, slot.resource, slot)
    slot.lease = lease
    if (this.options.leakDetection !== Number.POSITIVE_INFINITY) {
      slot.leakReported = false
      slot.stack = waiter?.stack ?? captureStack()
      this.armHousekeeping(now + this.options.leakDetection)
    }
    if (channels.acquire.active) {
      channels.acquire.publish({ pool: this.options.name, waitMs: waiter ? now - waiter.enqueuedAt : 0 })
    }
    return lease
  }

  /** Hands `slot` (already out of the idle list) to `waiter`, validating first when due. */
  #grant(waiter: Waiter<T>, slot: Slot<T>, now: number): void {
    if (this.needsCheck(slot, now)) {
      slot.state = CHECKING
      this.validate(slot).then((ok) => {
        if (slot.state === GONE) return
        const at = getClock().monotonic()
        if (!ok) {
          this.counters.validationFailures++
          this.retire(slot, 'invalid')
          this.waiters.requeue(waiter)
          this.dispatch()
          this.fill()
          return
        }
        slot.lastCheckedAt = at
        if (waiter.pending) this.#settleWith(waiter, slot, at)
        else this.recycle(slot, at)
      })
      return
    }
    this.#settleWith(waiter, slot, now)
  }

  #settleWith(waiter: Waiter<T>, slot: Slot<T>, now: number): void {
    this.waiters.settle(waiter)
    const waited = now - waiter.enqueuedAt
    const c = this.counters
    c.wait.record(waited)
    c.windowWaitSum += waited
    c.windowWaitCount++
    waiter.resolve(this.lend(slot, now, waiter))
  }

  /** A validated or freshly created slot with no waiter attached: next waiter or idle. */
  recycle(slot: Slot<T>, now: number): void {
    if (this.status === CLOSED) {
      this.retire(slot, 'close')
      return
    }
    if (this.slots.size > this.max) {
      this.retire(slot, 'resize')
      return
    }
    if (this.#offer(slot, now)) this.checkQuiet()
  }

  /** A usable slot is free: the first waiter gets it, or it goes idle. Returns true if it went idle. */
  #offer(slot: Slot<T>, now: number): boolean {
    slot.state = IDLE
    const waiter = this.waiters.pop()
    if (waiter !== undefined) {
      this.#grant(waiter, slot, now)
      return false
    }
    this.idle.push(slot)
    armIdle(this, slot, now)
    return true
  }

  /** Pairs queued waiters with idle slots. */
  dispatch(): void {
    while (this.waiters.size > 0 && this.idle.size > 0) {
      const now = getClock().monotonic()
      const slot = this.takeIdle(now)
      if (slot === undefined) break
      this.#grant(this.waiters.pop() as Waiter<T>, slot, now)
    }
  }
}

function brokenOrThrows<T>(isBroken: (resource: T) => boolean, resource: T): boolean {
  try {
    return isBroken(resource) === true
  } catch {
    return true
  }
}
