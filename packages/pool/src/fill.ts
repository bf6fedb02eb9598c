import { getClock } from '@hotpath/core'
import { channels } from './channels'
import { CreateTimeoutError, PoolInitializeError } from './errors'
import { CLOSED, OPEN, type PoolBase } from './pool-base'
import { IDLE, type Slot } from './slot'
import { Work } from './work'

const LIFETIME_JITTER = 0.025

/**
 * @internal Starts creates for `min` and for waiters that outnumber the creates in flight. While
 * draining, only for waiters: every acquire queued before `drain()` is still served.
 */
export function fill<T>(s: PoolBase<T>): void {
  if (s.status === CLOSED) return
  const now = getClock().monotonic()
  if (s.retryAt > now) return
  const forMin = s.status === OPEN ? s.min - s.slots.size - s.creating : 0
  let wanted = Math.max(s.waiters.size - s.creating, forMin)
  // While creates fail, probe with one create at a time instead of one per waiter.
  if (s.createFailures > 0) wanted = Math.min(wanted, 1 - s.creating)
  while (wanted > 0 && s.creating < s.options.maxCreating && s.slots.size + s.creating < s.max) {
    startCreate(s, now)
    wanted--
  }
}

function startCreate<T>(s: PoolBase<T>, started: number): void {
  s.creating++
  const controller = new AbortController()
  const work = new Work(
    s.inFlight,
    false,
    s.options.createTimeout,
    () => {
      controller.abort(new CreateTimeoutError(s.options.name, s.options.createTimeout))
      onCreateFailed(s, controller.signal.reason)
    },
    controller,
  )
  let created: Promise<T>
  try {
    created = Promise.resolve(s.options.create({ signal: controller.signal }))
  } catch (error) {
    created = Promise.reject(error)
  }
  created.then(
    (resource) => {
      // Timed out already: counted as a failure, the late resource is not wanted.
      if (work.finished) s.destroyResource(resource, 'close')
      else onCreated(s, resource, started)
      work.finish()
    },
    (error: unknown) => {
      if (work.finish()) onCreateFailed(s, error)
    },
  )
}

function onCreated<T>(s: PoolBase<T>, resource: T, started: number): void {
  s.creating--
  s.createFailures = 0
  s.lastCreateError = undefined
  s.retryAt = 0
  if (s.status === CLOSED || s.slots.size >= s.max) {
    s.destroyResource(resource, s.status === CLOSED ? 'close' : 'resize')
    s.checkQuiet()
    return
  }
  const now = getClock().monotonic()
  s.counters.created++
  s.counters.createTime.record(now - started)
  const lifetime = s.options.maxLifetime
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
    channels.create.publish({ pool: s.options.name, durationMs: now - started, size: s.slots.size })
  }
  s.recycle(slot, now)
  if (s.initWaiters.size > 0 && s.slots.size >= s.min) {
    for (const entry of s.initWaiters) entry.resolve()
    s.initWaiters.clear()
  }
  fill(s)
}

function onCreateFailed<T>(s: PoolBase<T>, error: unknown): void {
  s.creating--
  s.counters.createErrors++
  s.createFailures++
  s.lastCreateError = error
  if (s.status === CLOSED) return
  const ceiling = Math.min(s.options.retryMax, s.options.retryBase * 2 ** Math.min(30, s.createFailures - 1))
  const delay = ceiling / 2 + Math.random() * (ceiling / 2)
  s.retryAt = getClock().monotonic() + delay
  s.armRetry()
  if (channels.createError.active) {
    channels.createError.publish({
      pool: s.options.name,
      error,
      failures: s.createFailures,
      retryInMs: delay,
    })
  }
  let failFast = false
  for (const entry of s.initWaiters) {
    if (!entry.failFast) continue
    failFast = true
    s.initWaiters.delete(entry)
    entry.reject(new PoolInitializeError(s.options.name, 'the first create failed', { cause: error }))
  }
  if (failFast) void s.close()
}
