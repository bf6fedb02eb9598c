import { getClock, isThenable, schedule, type TimerHandle } from '@hotpath/core'
import { Deque } from '@hotpath/core/internal'
import { channels, type DestroyReason } from './channels'
import { PoolCounters } from './counters'
import { DestroyTimeoutError } from './errors'
import type { LeaseOwner } from './lease'
import { type PoolOptions, type ResolvedOptions, resolveOptions } from './options'
import { GONE, type Slot } from './slot'
import { WaiterQueue } from './waiters'
import { Work } from './work'

/** @internal Pool states. */
export const OPEN = 0
/** @internal */
export const DRAINING = 1
/** @internal */
export const CLOSED = 2

/** @internal A pending `initialize()` call. */
export interface InitWaiter {
  resolve: () => void
  reject: (e: unknown) => void
  failFast: boolean
}

/** @internal The mutable state of one pool, shared by the dispatch, create, housekeeping and drain code. */
export interface PoolState<T> {
  readonly o: Readonly<ResolvedOptions<T>>
  min: number
  max: number
  state: number
  readonly idle: Deque<Slot<T>>
  readonly slots: Set<Slot<T>>
  readonly waiters: WaiterQueue<T>
  borrowed: number
  creating: number
  failures: number
  lastCreateError: unknown
  retryAt: number
  timer: TimerHandle | undefined
  timerAt: number
  /** True while a caller awaits the pool (a pending acquire): the timer then keeps the process alive. */
  held: boolean
  /** Creates and destroys in flight (`close()` waits for them, each bounded by its timeout). */
  readonly work: Set<Work>
  readonly settled: Set<(drained: boolean) => void>
  readonly initWaiters: Set<InitWaiter>
  readonly c: PoolCounters
  readonly owner: LeaseOwner<T>
  /** Closes the pool (the public `close()`). */
  readonly close: () => Promise<void>
  /** The pool's one timer callback. */
  readonly tick: () => void
}

/** @internal Hooks the state calls back into. */
export interface PoolStateHooks<T> {
  giveBack: LeaseOwner<T>['giveBack']
  close: () => Promise<void>
  tick: () => void
}

/** @internal */
export function createPoolState<T>(options: PoolOptions<T>, hooks: PoolStateHooks<T>): PoolState<T> {
  const idle = new Deque<Slot<T>>()
  const slots = new Set<Slot<T>>()
  const waiters = new WaiterQueue<T>((busy) => hold(state, busy))
  const work = new Set<Work>()
  const settled = new Set<(drained: boolean) => void>()
  const initWaiters = new Set<InitWaiter>()
  const c = new PoolCounters()
  const owner: LeaseOwner<T> = { giveBack: hooks.giveBack }
  const o = resolveOptions(options)
  const state: PoolState<T> = {
    o,
    min: o.min,
    max: o.max,
    state: OPEN,
    idle,
    slots,
    waiters,
    borrowed: 0,
    creating: 0,
    failures: 0,
    lastCreateError: undefined,
    retryAt: 0,
    timer: undefined,
    timerAt: Number.POSITIVE_INFINITY,
    held: false,
    work,
    settled,
    initWaiters,
    c,
    owner,
    close: hooks.close,
    tick: hooks.tick,
  }
  return state
}

/**
 * @internal The pool's timer keeps the process alive only while a caller awaits the pool: a
 * pending acquire's deadline, and the create retries serving it, must run even when nothing else
 * is pending in the process; housekeeping of an idle pool (eviction, keepalive, lifetime, leak
 * checks) must never delay the process's exit.
 */
export function hold<T>(s: PoolState<T>, held: boolean): void {
  s.held = held
  if (held) s.timer?.ref()
  else s.timer?.unref()
}

/** @internal Removes a slot from the pool and destroys its resource. */
export function retire<T>(s: PoolState<T>, slot: Slot<T>, reason: DestroyReason): void {
  if (slot.state === GONE) return
  slot.state = GONE
  s.slots.delete(slot)
  destroyResource(s, slot.resource, reason)
}

/**
 * @internal Destroys a resource. A `destroy` that throws, rejects or outlives `destroyTimeout` is
 * counted and reported (channel `hotpath:pool:destroy-error`; a timeout also through `logger`) and
 * never blocks `close()` longer than `destroyTimeout`.
 */
export function destroyResource<T>(s: PoolState<T>, resource: T, reason: DestroyReason): void {
  s.c.destroyed++
  if (channels.destroy.active) channels.destroy.publish({ pool: s.o.name, reason })
  let result: unknown
  try {
    result = s.o.destroy(resource)
  } catch (error) {
    destroyFailed(s, error)
    return
  }
  if (!isThenable(result)) return
  const timeout = s.o.destroyTimeout
  const work = new Work(s.work, s.state === CLOSED, timeout, () =>
    destroyFailed(s, new DestroyTimeoutError(s.o.name, timeout)),
  )
  result.then(
    () => work.finish(),
    (error: unknown) => {
      if (work.finish()) destroyFailed(s, error)
    },
  )
}

function destroyFailed<T>(s: PoolState<T>, error: unknown): void {
  s.c.destroyErrors++
  const timedOut = error instanceof DestroyTimeoutError
  if (timedOut) s.c.destroyTimeouts++
  if (channels.destroyError.active) channels.destroyError.publish({ pool: s.o.name, error })
  if (timedOut) s.o.logger?.warn(error.message, { pool: s.o.name, error })
}

/** @internal Arms the pool's one timer for `at` unless it already fires earlier. */
export function arm<T>(s: PoolState<T>, at: number): void {
  if (at >= s.timerAt || s.state === CLOSED) return
  s.timer?.cancel()
  s.timerAt = at
  s.timer = schedule(s.tick, Math.max(0, at - getClock().monotonic()))
  if (!s.held) s.timer.unref()
}

/** @internal */
export function isQuiet<T>(s: PoolState<T>): boolean {
  return s.borrowed === 0 && s.waiters.size === 0
}

/** @internal Settles pending drains once nothing is borrowed or waiting. */
export function checkQuiet<T>(s: PoolState<T>): void {
  if (s.settled.size > 0 && isQuiet(s)) for (const settle of [...s.settled]) settle(true)
}

/** @internal */
export function captureStack(): string {
  const holder: { stack?: string } = {}
  Error.captureStackTrace(holder, captureStack)
  return (holder.stack ?? '').replace(/^Error\n/, '')
}

/** @internal */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
