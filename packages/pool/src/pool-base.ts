import { getTimerService, isThenable, Timeout } from '@hotpath/core'
import { Deque } from '@hotpath/core/internal'
import { channels, type DestroyReason } from './channels'
import { PoolCounters } from './counters'
import { DestroyTimeoutError } from './errors'
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

/**
 * @internal The state of one pool and the operations every part of it shares: retiring and
 * destroying resources, validation, the pool's timer entries and the "quiet" notification drains
 * wait for. The create code (`fill.ts`) and housekeeping work on this base; the dispatch logic
 * lives in the subclass `PoolCore` (`pool-core.ts`), which supplies `fill`, `recycle` and the
 * timer handlers, so the imports only point one way: core → fill, housekeeping → base.
 */
export abstract class PoolBase<T> {
  readonly options: Readonly<ResolvedOptions<T>>
  min: number
  max: number
  /** OPEN, DRAINING or CLOSED. */
  status = OPEN
  /** Slots ready to lend (released order: the oldest release first). */
  readonly idle = new Deque<Slot<T>>()
  /** Every slot the pool holds: idle, borrowed or being validated. */
  readonly slots = new Set<Slot<T>>()
  readonly waiters: WaiterQueue<T>
  borrowed = 0
  creating = 0
  /** Consecutive create failures (0 once a create succeeds). */
  createFailures = 0
  lastCreateError: unknown = undefined
  /** When the next create may start after a failure (monotonic ms; 0: no backoff). */
  retryAt = 0
  /** Creates and destroys in flight (`close()` waits for them, each bounded by its timeout). */
  readonly inFlight = new Set<Work>()
  /** Pending drains, settled once nothing is borrowed or waiting (or on close). */
  readonly quietListeners = new Set<(drained: boolean) => void>()
  readonly initWaiters = new Set<InitWaiter>()
  readonly counters = new PoolCounters()
  /** Closes the pool (the public `close()`). */
  readonly close: () => Promise<void>
  /**
   * The pool's timers are entries on the shared timer service. Only a caller awaiting the pool
   * keeps the process alive: the waiters' deadline entry is ref'd (and removed once nobody waits),
   * the create-retry entry is ref'd while someone waits, and housekeeping (idle eviction,
   * keepalive, lifetime, leak checks) never is.
   */
  readonly #deadline = new Timeout(() => this.#fire(this.onDeadline))
  readonly #retry = new Timeout(() => this.#fire(this.onRetry), { ref: false })
  readonly #housekeeping = new Timeout(() => this.#fire(this.onHousekeeping), { ref: false })
  #deadlineAt = Number.POSITIVE_INFINITY
  #housekeepingAt = Number.POSITIVE_INFINITY

  constructor(options: PoolOptions<T>, close: () => Promise<void>) {
    const resolved = resolveOptions(options)
    this.options = resolved
    this.min = resolved.min
    this.max = resolved.max
    this.close = close
    this.waiters = new WaiterQueue<T>((busy) => this.#setAwaited(busy))
  }

  /** Starts creates for `min` and for waiters (see `fill.ts`). */
  abstract fill(): void
  /** A validated or freshly created slot with no waiter attached: next waiter or idle. */
  abstract recycle(slot: Slot<T>, now: number): void
  /** The earliest waiter deadline is due: time out the expired waiters. */
  protected abstract onDeadline(): void
  /** The create backoff is over: start creates again. */
  protected abstract onRetry(): void
  /** Idle eviction, keepalive, lifetime and leak checks are due. */
  protected abstract onHousekeeping(): void

  #fire(handler: () => void): void {
    if (this.status !== CLOSED) handler.call(this)
  }

  /**
   * Arms the deadline entry for the earliest pending waiter (none: removed). The service may wake
   * up to a millisecond early; `onDeadline` then finds nothing expired and arms it again.
   */
  armDeadline(): void {
    const at = this.waiters.nextDeadline()
    if (at === undefined || at === Number.POSITIVE_INFINITY || this.status === CLOSED) {
      this.#deadlineAt = Number.POSITIVE_INFINITY
      getTimerService().remove(this.#deadline)
    } else if (at !== this.#deadlineAt || !this.#deadline.pending) {
      this.#deadlineAt = at
      getTimerService().addAt(this.#deadline, at)
    }
  }

  /** Arms the create-retry entry for `retryAt`. */
  armRetry(): void {
    if (this.status !== CLOSED) getTimerService().addAt(this.#retry, this.retryAt)
  }

  /** When housekeeping next runs (Infinity when not armed). */
  get housekeepingAt(): number {
    return this.#housekeepingAt
  }

  /** Arms housekeeping for `at` unless it already runs earlier. */
  armHousekeeping(at: number): void {
    if (this.status === CLOSED) return
    if (at >= this.#housekeepingAt && this.#housekeeping.pending) return
    if (at === Number.POSITIVE_INFINITY) return
    this.#housekeepingAt = at
    getTimerService().addAt(this.#housekeeping, at)
  }

  /** Housekeeping fired: it is not armed until `armHousekeeping` is called again. */
  protected housekeepingFired(): void {
    this.#housekeepingAt = Number.POSITIVE_INFINITY
  }

  /** Stops every timer for good (the pool is closing). */
  cancelTimers(): void {
    const timers = getTimerService()
    timers.remove(this.#deadline)
    timers.remove(this.#retry)
    timers.remove(this.#housekeeping)
    this.#deadlineAt = Number.POSITIVE_INFINITY
    this.#housekeepingAt = Number.POSITIVE_INFINITY
  }

  /** The first waiter arrived (`true`) or the last one settled (`false`). */
  #setAwaited(awaited: boolean): void {
    if (awaited) {
      this.#retry.ref()
      return
    }
    this.#retry.unref()
    this.#deadlineAt = Number.POSITIVE_INFINITY
    getTimerService().remove(this.#deadline)
  }

  /** Removes a slot from the pool and destroys its resource. */
  retire(slot: Slot<T>, reason: DestroyReason): void {
    if (slot.state === GONE) return
    slot.state = GONE
    this.slots.delete(slot)
    this.destroyResource(slot.resource, reason)
  }

  /**
   * Destroys a resource. A `destroy` that throws, rejects or outlives `destroyTimeout` is counted
   * and reported (channel `hotpath:pool:destroy-error`; a timeout also through `logger`) and never
   * blocks `close()` longer than `destroyTimeout`.
   */
  destroyResource(resource: T, reason: DestroyReason): void {
    this.counters.destroyed++
    if (channels.destroy.active) channels.destroy.publish({ pool: this.options.name, reason })
    let result: unknown
    try {
      result = this.options.destroy(resource)
    } catch (error) {
      this.#destroyFailed(error)
      return
    }
    if (!isThenable(result)) return
    const timeout = this.options.destroyTimeout
    const work = new Work(this.inFlight, this.status === CLOSED, timeout, () =>
      this.#destroyFailed(new DestroyTimeoutError(this.options.name, timeout)),
    )
    result.then(
      () => work.finish(),
      (error: unknown) => {
        if (work.finish()) this.#destroyFailed(error)
      },
    )
  }

  #destroyFailed(error: unknown): void {
    const c = this.counters
    c.destroyErrors++
    const timedOut = error instanceof DestroyTimeoutError
    if (timedOut) c.destroyTimeouts++
    if (channels.destroyError.active) channels.destroyError.publish({ pool: this.options.name, error })
    if (timedOut) this.options.logger?.warn(error.message, { pool: this.options.name, error })
  }

  /** Runs `validate` on the slot's resource; a throw or rejection counts as invalid. */
  validate(slot: Slot<T>): Promise<boolean> {
    const validate = this.options.validate as (resource: T) => boolean | Promise<boolean>
    try {
      return Promise.resolve(validate(slot.resource)).then(
        (ok) => ok === true,
        () => false,
      )
    } catch {
      return Promise.resolve(false)
    }
  }

  /** Nothing borrowed and nobody waiting. */
  isQuiet(): boolean {
    return this.borrowed === 0 && this.waiters.size === 0
  }

  /** Settles pending drains once nothing is borrowed or waiting. */
  checkQuiet(): void {
    if (this.quietListeners.size > 0 && this.isQuiet()) {
      for (const settle of [...this.quietListeners]) settle(true)
    }
  }
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
