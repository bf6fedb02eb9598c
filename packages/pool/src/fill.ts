import { getClock } from '@hotpath/core'
import { channels } from './channels'
import { recycle } from './dispatch'
import { CreateTimeoutError, PoolInitializeError } from './errors'
import { arm, CLOSED, checkQuiet, destroyResource, OPEN, type PoolState } from './pool-state'
import { IDLE, type Slot } from './slot'
import { Work } from './work'

const LIFETIME_JITTER = 0.025

/**
 * @internal Starts creates for `min` and for waiters that outnumber the creates in flight. While
 * draining, only for waiters: every acquire queued before `drain()` is still served.
 */
export function fill<T>(s: PoolState<T>): void {
  if (s.state === CLOSED) return
  const now = getClock().monotonic()
  if (s.retryAt > now) return
  const forMin = s.state === OPEN ? s.min - s.slots.size - s.creating : 0
  let wanted = Math.max(s.waiters.size - s.creating, forMin)
  // While creates fail, probe with one create at a time instead of one per waiter.
  if (s.failures > 0) wanted = Math.min(wanted, 1 - s.creating)
  while (wanted > 0 && s.creating < s.o.maxCreating && s.slots.size + s.creating < s.max) {
    startCreate(s, now)
    wanted--
  }
}

function startCreate<T>(s: PoolState<T>, started: number): void {
  s.creating++
  const controller = new AbortController()
  const work = new Work(
    s.work,
    false,
    s.o.createTimeout,
    () => {
      controller.abort(new CreateTimeoutError(s.o.name, s.o.createTimeout))
      onCreateFailed(s, controller.signal.reason)
    },
    controller,
  )
  let created: Promise<T>
  try {
    created = Promise.resolve(s.o.create({ signal: controller.signal }))
  } catch (error) {
    created = Promise.reject(error)
  }
  created.then(
    (resource) => {
      // Timed out already: counted as a failure, the late resource is not wanted.
      if (work.finished) destroyResource(s, resource, 'close')
      else onCreated(s, resource, started)
      work.finish()
    },
    (error: unknown) => {
      if (work.finish()) onCreateFailed(s, error)
    },
  )
}

function onCreated<T>(s: PoolState<T>, resource: T, started: number): void {
  s.creating--
  s.failures = 0
  s.lastCreateError = undefined
  s.retryAt = 0
  if (s.state === CLOSED || s.slots.size >= s.max) {
    destroyResource(s, resource, s.state === CLOSED ? 'close' : 'resize')
    checkQuiet(s)
    return
  }
  const now = getClock().monotonic()
  s.c.created++
  s.c.createTime.record(now - started)
  const lifetime = s.o.maxLifetime
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
  s.slots.add(slot)
  if (channels.create.active) {
    channels.create.publish({ pool: s.o.name, durationMs: now - started, size: s.slots.size })
  }
  recycle(s, slot, now)
  if (s.initWaiters.size > 0 && s.slots.size >= s.min) {
    for (const entry of s.initWaiters) entry.resolve()
    s.initWaiters.clear()
  }
  fill(s)
}

function onCreateFailed<T>(s: PoolState<T>, error: unknown): void {
  s.creating--
  s.c.createErrors++
  s.failures++
  s.lastCreateError = error
  if (s.state === CLOSED) return
  const ceiling = Math.min(s.o.retryMax, s.o.retryBase * 2 ** Math.min(30, s.failures - 1))
  const delay = ceiling / 2 + Math.random() * (ceiling / 2)
  s.retryAt = getClock().monotonic() + delay
  arm(s, s.retryAt)
  if (channels.createError.active) {
    channels.createError.publish({ pool: s.o.name, error, failures: s.failures, retryInMs: delay })
  }
  let failFast = false
  for (const entry of s.initWaiters) {
    if (!entry.failFast) continue
    failFast = true
    s.initWaiters.delete(entry)
    entry.reject(new PoolInitializeError(s.o.name, 'the first create failed', { cause: error }))
  }
  if (failFast) void s.close()
}
