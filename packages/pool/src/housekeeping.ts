import { getClock } from '@hotpath/core'
import { channels } from './channels'
import type { PoolBase } from './pool-base'
import { BORROWED, CHECKING, GONE, type Slot } from './slot'

/** @internal Arms the timer for when an idle slot next needs attention. */
export function armIdle<T>(s: PoolBase<T>, slot: Slot<T>, now: number): void {
  let due = slot.expiresAt
  if (s.options.idleTimeout !== Number.POSITIVE_INFINITY && s.slots.size > s.min) {
    due = Math.min(due, now + s.options.idleTimeout)
  }
  if (s.options.validate !== undefined) due = Math.min(due, now + s.options.keepalive)
  s.armHousekeeping(due)
}

/** @internal Idle eviction, lifetime, keepalive and leak detection; returns when it is next due. */
export function housekeep<T>(s: PoolBase<T>, now: number): number {
  const o = s.options
  let next = Number.POSITIVE_INFINITY
  const idle = s.idle.drain()
  const keep: Slot<T>[] = []
  // Oldest release first, so idle eviction removes the least recently used.
  for (const slot of idle) {
    if (slot.expiresAt <= now) {
      s.retire(slot, 'lifetime')
      continue
    }
    const idleDue = slot.lastUsedAt + o.idleTimeout
    if (idleDue <= now && s.slots.size > s.min) {
      s.retire(slot, 'idle')
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
  s.fill()
  return next
}

function keepalive<T>(s: PoolBase<T>, slot: Slot<T>): void {
  slot.state = CHECKING
  void s.validate(slot).then((ok) => {
    if (slot.state === GONE) return
    const now = getClock().monotonic()
    if (!ok) {
      s.counters.validationFailures++
      s.retire(slot, 'invalid')
      s.fill()
      return
    }
    slot.lastCheckedAt = now
    s.recycle(slot, now)
  })
}

function reportLeak<T>(s: PoolBase<T>, slot: Slot<T>, now: number): void {
  slot.leakReported = true
  s.counters.leaks++
  const report = { pool: s.options.name, heldMs: now - slot.borrowedAt, stack: slot.stack ?? '' }
  channels.leak.publish(report)
  s.options.onLeak?.(report)
  s.options.logger?.warn(
    `Pool '${report.pool}': a lease has been held for ${Math.round(report.heldMs)} ms (possible leak); acquired at:`,
    report,
  )
}
