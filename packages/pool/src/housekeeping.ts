import { getClock } from '@hotpath/core'
import { channels } from './channels'
import { check, recycle, timeoutWaiter } from './dispatch'
import { fill } from './fill'
import { arm, CLOSED, type PoolState, retire } from './pool-state'
import { BORROWED, CHECKING, GONE, type Slot } from './slot'

/** @internal Arms the timer for when an idle slot next needs attention. */
export function armIdle<T>(s: PoolState<T>, slot: Slot<T>, now: number): void {
  let due = slot.expiresAt
  if (s.o.idleTimeout !== Number.POSITIVE_INFINITY && s.slots.size > s.min) {
    due = Math.min(due, now + s.o.idleTimeout)
  }
  if (s.o.validate !== undefined) due = Math.min(due, now + s.o.keepalive)
  if (due < s.timerAt) arm(s, due)
}

/** @internal The pool's one timer: waiter deadlines, create retries and housekeeping. */
export function tick<T>(s: PoolState<T>): void {
  s.timer = undefined
  s.timerAt = Number.POSITIVE_INFINITY
  if (s.state === CLOSED) return
  const now = getClock().monotonic()
  for (let waiter = s.waiters.expired(now); waiter !== undefined; waiter = s.waiters.expired(now)) {
    timeoutWaiter(s, waiter, now)
  }
  if (s.retryAt !== 0 && s.retryAt <= now) {
    s.retryAt = 0
    fill(s)
  }
  let next = housekeep(s, now)
  const deadline = s.waiters.nextDeadline()
  if (deadline !== undefined) next = Math.min(next, deadline)
  if (s.retryAt > now) next = Math.min(next, s.retryAt)
  if (next !== Number.POSITIVE_INFINITY) arm(s, next)
}

/** Idle eviction, lifetime, keepalive and leak detection; returns when it is next due. */
function housekeep<T>(s: PoolState<T>, now: number): number {
  const o = s.o
  let next = Number.POSITIVE_INFINITY
  const idle = s.idle.drain()
  const keep: Slot<T>[] = []
  // Oldest release first, so idle eviction removes the least recently used.
  for (const slot of idle) {
    if (slot.expiresAt <= now) {
      retire(s, slot, 'lifetime')
      continue
    }
    const idleDue = slot.lastUsedAt + o.idleTimeout
    if (idleDue <= now && s.slots.size > s.min) {
      retire(s, slot, 'idle')
      continue
    }
    if (o.validate !== undefined && slot.lastCheckedAt + o.keepalive <= now) {
      keepalive(s, slot)
      continue
    }
    keep.push(slot)
    next = Math.min(next, slot.expiresAt)
    if (s.slots.size > s.min && idleDue > now) next = Math.min(next, idleDue)
    if (o.validate !== undefined) next = Math.min(next, slot.lastCheckedAt + o.keepalive)
  }
  for (const slot of keep) s.idle.push(slot)
  if (o.leakDetection !== Number.POSITIVE_INFINITY) {
    for (const slot of s.slots) {
      if (slot.state !== BORROWED || slot.leakReported) continue
      const due = slot.borrowedAt + o.leakDetection
      if (due <= now) reportLeak(s, slot, now)
      else next = Math.min(next, due)
    }
  }
  fill(s)
  return next
}

function keepalive<T>(s: PoolState<T>, slot: Slot<T>): void {
  slot.state = CHECKING
  void check(s, slot).then((ok) => {
    if (slot.state === GONE) return
    const now = getClock().monotonic()
    if (!ok) {
      s.c.validationFailures++
      retire(s, slot, 'invalid')
      fill(s)
      return
    }
    slot.lastCheckedAt = now
    recycle(s, slot, now)
  })
}

function reportLeak<T>(s: PoolState<T>, slot: Slot<T>, now: number): void {
  slot.leakReported = true
  s.c.leaks++
  const report = { pool: s.o.name, heldMs: now - slot.borrowedAt, stack: slot.stack ?? '' }
  channels.leak.publish(report)
  s.o.onLeak?.(report)
  s.o.logger?.warn(
    `Pool '${report.pool}': a lease has been held for ${Math.round(report.heldMs)} ms (possible leak); acquired at:`,
    report,
  )
}
