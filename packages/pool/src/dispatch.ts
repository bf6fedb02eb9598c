import { abortReason, getClock } from '@hotpath/core'
import { channels } from './channels'
import { AcquireTimeoutError, DoubleReleaseError } from './errors'
import { fill } from './fill'
import { armIdle } from './housekeeping'
import { Lease } from './lease'
import {
  arm,
  CLOSED,
  captureStack,
  checkQuiet,
  describeError,
  OPEN,
  type PoolState,
  retire,
} from './pool-state'
import { BORROWED, CHECKING, GONE, IDLE, type Slot } from './slot'
import type { Waiter } from './waiters'

/** @internal Returns a lent slot to the pool (the lease owner's `giveBack`). */
export function giveBack<T>(
  s: PoolState<T>,
  slot: Slot<T>,
  lease: Lease<T>,
  error: unknown,
  destroy: boolean,
): void {
  if (slot.lease !== lease || lease.released) throw new DoubleReleaseError(s.o.name)
  const now = getClock().monotonic()
  const held = now - slot.borrowedAt
  s.c.hold.record(held)
  s.c.windowHoldSum += held
  s.c.windowHoldCount++
  s.borrowed--
  slot.lease = undefined
  slot.stack = undefined
  slot.lastUsedAt = now
  slot.lastCheckedAt = now
  if (destroy) retire(s, slot, 'destroyed')
  else if (error !== undefined && fatal(s, error)) retire(s, slot, 'error')
  else if (s.state === CLOSED) retire(s, slot, 'close')
  else if (slot.uses >= s.o.maxUses) retire(s, slot, 'uses')
  else if (slot.expiresAt <= now) retire(s, slot, 'lifetime')
  else if (s.slots.size > s.max) retire(s, slot, 'resize')
  else offer(s, slot, now)
  if (s.waiters.size > 0 || (s.state === OPEN && s.slots.size < s.min)) fill(s)
  if (s.state !== OPEN) checkQuiet(s)
}

function fatal<T>(s: PoolState<T>, error: unknown): boolean {
  try {
    return s.o.isFatal(error)
  } catch {
    return true
  }
}

/** @internal Takes an idle slot, retiring expired and known-broken ones on the way. */
export function takeIdle<T>(s: PoolState<T>, now: number): Slot<T> | undefined {
  const isBroken = s.o.isBroken
  for (;;) {
    const slot = s.o.fifo ? s.idle.shift() : s.idle.pop()
    if (slot === undefined) return undefined
    if (slot.expiresAt <= now) retire(s, slot, 'lifetime')
    else if (isBroken !== undefined && brokenOrThrows(isBroken, slot.resource)) {
      s.c.validationFailures++
      retire(s, slot, 'invalid')
    } else return slot
  }
}

function brokenOrThrows<T>(isBroken: (resource: T) => boolean, resource: T): boolean {
  try {
    return isBroken(resource) === true
  } catch {
    return true
  }
}

/** @internal */
export function needsCheck<T>(s: PoolState<T>, slot: Slot<T>, now: number): boolean {
  return s.o.validate !== undefined && now - slot.lastCheckedAt > s.o.validateAfter
}

/** @internal */
export function lend<T>(
  s: PoolState<T>,
  slot: Slot<T>,
  now: number,
  waiter: Waiter<T> | undefined,
): Lease<T> {
  slot.state = BORROWED
  slot.borrowedAt = now
  if (slot.uses > 0) s.c.reused++
  slot.uses++
  s.borrowed++
  s.c.acquired++
  const lease = new Lease<T>(s.owner, slot.resource, slot)
  slot.lease = lease
  if (s.o.leakDetection !== Number.POSITIVE_INFINITY) {
    slot.leakReported = false
    slot.stack = waiter?.stack ?? captureStack()
    arm(s, now + s.o.leakDetection)
  }
  if (channels.acquire.active) {
    channels.acquire.publish({ pool: s.o.name, waitMs: waiter ? now - waiter.enqueuedAt : 0 })
  }
  return lease
}

/** Hands `slot` (already out of the idle list) to `waiter`, validating first when due. */
function grant<T>(s: PoolState<T>, waiter: Waiter<T>, slot: Slot<T>, now: number): void {
  if (needsCheck(s, slot, now)) {
    slot.state = CHECKING
    check(s, slot).then((ok) => {
      if (slot.state === GONE) return
      const at = getClock().monotonic()
      if (!ok) {
        s.c.validationFailures++
        retire(s, slot, 'invalid')
        s.waiters.requeue(waiter)
        dispatch(s)
        fill(s)
        return
      }
      slot.lastCheckedAt = at
      if (waiter.pending) settleWith(s, waiter, slot, at)
      else recycle(s, slot, at)
    })
    return
  }
  settleWith(s, waiter, slot, now)
}

function settleWith<T>(s: PoolState<T>, waiter: Waiter<T>, slot: Slot<T>, now: number): void {
  s.waiters.settle(waiter)
  const waited = now - waiter.enqueuedAt
  s.c.wait.record(waited)
  s.c.windowWaitSum += waited
  s.c.windowWaitCount++
  waiter.resolve(lend(s, slot, now, waiter))
}

/** @internal A validated or freshly created slot with no waiter attached: next waiter or idle. */
export function recycle<T>(s: PoolState<T>, slot: Slot<T>, now: number): void {
  if (s.state === CLOSED) {
    retire(s, slot, 'close')
    return
  }
  if (s.slots.size > s.max) {
    retire(s, slot, 'resize')
    return
  }
  if (offer(s, slot, now)) checkQuiet(s)
}

/** A usable slot is free: the first waiter gets it, or it goes idle. Returns true if it went idle. */
function offer<T>(s: PoolState<T>, slot: Slot<T>, now: number): boolean {
  slot.state = IDLE
  const waiter = s.waiters.pop()
  if (waiter !== undefined) {
    grant(s, waiter, slot, now)
    return false
  }
  s.idle.push(slot)
  armIdle(s, slot, now)
  return true
}

/** @internal Runs `validate` on the slot's resource; a throw or rejection counts as invalid. */
export function check<T>(s: PoolState<T>, slot: Slot<T>): Promise<boolean> {
  const validate = s.o.validate as (resource: T) => boolean | Promise<boolean>
  try {
    return Promise.resolve(validate(slot.resource)).then(
      (ok) => ok === true,
      () => false,
    )
  } catch {
    return Promise.resolve(false)
  }
}

/** @internal Pairs queued waiters with idle slots. */
export function dispatch<T>(s: PoolState<T>): void {
  while (s.waiters.size > 0 && s.idle.size > 0) {
    const now = getClock().monotonic()
    const slot = takeIdle(s, now)
    if (slot === undefined) break
    grant(s, s.waiters.pop() as Waiter<T>, slot, now)
  }
}

/** @internal */
export function abortWaiter<T>(s: PoolState<T>, waiter: Waiter<T>): void {
  if (!waiter.pending) return
  s.waiters.settle(waiter)
  s.c.aborted++
  waiter.reject(abortReason(waiter.signal as AbortSignal))
  checkQuiet(s)
}

/** @internal */
export function timeoutWaiter<T>(s: PoolState<T>, waiter: Waiter<T>, now: number): void {
  s.waiters.settle(waiter)
  s.c.timeouts++
  s.c.windowTimeouts++
  const cause = s.failures > 0 ? s.lastCreateError : undefined
  if (channels.acquireTimeout.active) {
    channels.acquireTimeout.publish({ pool: s.o.name, waitedMs: now - waiter.enqueuedAt, cause })
  }
  const message =
    `Pool '${s.o.name}' gave no resource within ${waiter.timeout} ms ` +
    `(borrowed ${s.borrowed}/${s.max}, waiting ${s.waiters.size + 1}` +
    (cause === undefined ? ')' : `, creates failing: ${describeError(cause)})`) +
    '; raise `max` or `acquireTimeout`, or hold resources for less time.'
  waiter.reject(new AcquireTimeoutError(waiter.timeout, message, { cause }))
  checkQuiet(s)
}
