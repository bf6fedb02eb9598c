import { AsyncLocalStorage } from 'node:async_hooks'
import {
  checkBoolean,
  checkString,
  type Duration,
  describeMetrics,
  eventChannel,
  getClock,
  invalidOption,
  metricsSource,
  parseDuration,
  type SummarySnapshot,
} from '@hotpath/core'
import { concurrencyChannels } from './channels'
import { LockSelfWaitError } from './errors'
import { readOptions } from './internal/options'
import type { Permit } from './permit'
import { Semaphore } from './semaphore'
import type { ClearOptions, WatchOptions } from './semaphore-types'

/**
 * Message on `hotpath:concurrency:lock-wait`: a lock was acquired after `waitMs`.
 *
 * @example
 * lockWaitChannel.subscribe(({ name, kind, waitMs }: LockWaitEvent) => lockWaits.with({ name, kind }).record(waitMs))
 */
export interface LockWaitEvent {
  /** The lock's `name`. */
  name: string
  kind: 'mutex' | 'read' | 'write'
  waitMs: number
  /** True when `waitMs` is above the lock's `warnAfter`. */
  slow: boolean
}

/**
 * `hotpath:concurrency:lock-wait`: every lock acquisition with its wait time, flagged `slow` above
 * the lock's `warnAfter` (a timed lock that warns on long waits).
 *
 * @example
 * lockWaitChannel.subscribe((e) => { if (e.slow) log.warn(e, 'slow lock wait') })
 */
export const lockWaitChannel = eventChannel<LockWaitEvent>(concurrencyChannels.lockWait)

/**
 * Options of one lock acquisition.
 *
 * @example
 * const options: LockAcquireOptions = { signal: AbortSignal.timeout(5_000), timeout: '1s' }
 * await lock.run(() => flush(), options)
 */
export interface LockAcquireOptions {
  /**
   * Aborts the wait; the waiter leaves the queue at once.
   * @default undefined
   */
  signal?: AbortSignal
  /**
   * Wait timeout; rejects with `E_SEMAPHORE_TIMEOUT`.
   * @default the lock's `timeout`
   */
  timeout?: Duration
}

/**
 * Options of {@link Mutex}.
 *
 * @example
 * const lock = new Mutex({ name: 'cache', reentrant: true, warnAfter: '50ms', timeout: '5s', maxQueue: 1_000 })
 */
export interface MutexOptions {
  /**
   * Name shown in stats, channels and errors.
   * @default 'mutex'
   */
  name?: string
  /**
   * Lets code already inside `run()` of this mutex (in the same async context) lock it again
   * without deadlocking (a re-entrant lock, like Python's `RLock`).
   * @default false
   */
  reentrant?: boolean
  /**
   * Waits longer than this are flagged `slow` on `hotpath:concurrency:lock-wait` and counted in
   * `stats().slowWaits`.
   * @default Infinity
   */
  warnAfter?: Duration
  /**
   * Default wait timeout.
   * @default Infinity
   */
  timeout?: Duration
  /**
   * Most callers that may wait; one more rejects with `E_QUEUE_FULL`.
   * @default 100_000
   */
  maxQueue?: number
}

/**
 * Snapshot returned by {@link Mutex.stats}.
 *
 * @example
 * const { locked, waiting, slowWaits, waitTime }: MutexStats = lock.stats()
 */
export interface MutexStats {
  name: string
  locked: boolean
  waiting: number
  acquired: number
  timedOut: number
  aborted: number
  rejected: number
  /** Waits above `warnAfter`. */
  slowWaits: number
  /** Wait times in ms. */
  waitTime: SummarySnapshot
}

/**
 * A held lock; `release()` (idempotent) or `using`/`await using`.
 *
 * @example
 * const held: LockHandle = await lock.acquire()
 * try { await save() } finally { held.release() }
 */
export interface LockHandle extends Disposable, AsyncDisposable {
  /** Releases the lock; false when already released. */
  release(): boolean
}

const LOCK_OPTIONS = ['signal', 'timeout']

/**
 * Checks the function and options of a lock call (synchronously, before any wait). Shared by
 * Mutex and RWLock.
 * @internal
 */
export function checkLockCall(where: string, fn: unknown, options: LockAcquireOptions | undefined): void {
  if (fn !== undefined && typeof fn !== 'function') throw invalidOption('fn', 'a function', fn)
  if (options !== undefined) readOptions(where, options, LOCK_OPTIONS)
}

const REENTERED: LockHandle = {
  release: () => false,
  [Symbol.dispose]() {},
  [Symbol.asyncDispose]: () => Promise.resolve(),
}

/**
 * Measures a lock wait, publishes it, and counts slow waits. Shared by Mutex and RWLock.
 * @internal
 */
export class WaitMeter {
  readonly name: string
  readonly warnAfter: number
  slowWaits = 0

  constructor(name: string, warnAfter: number) {
    this.name = name
    this.warnAfter = warnAfter
  }

  /** Returns a start mark when anyone needs the wait time, else -1. */
  start(): number {
    return this.warnAfter !== Number.POSITIVE_INFINITY || lockWaitChannel.active ? getClock().monotonic() : -1
  }

  /** Measures the wait for `permit` (started now). */
  wait(permit: Promise<Permit>, kind: LockWaitEvent['kind']): Promise<Permit> {
    const started = this.start()
    if (started < 0) return permit
    return permit.then((held) => {
      this.done(started, kind)
      return held
    })
  }

  done(started: number, kind: LockWaitEvent['kind']): void {
    if (started < 0) return
    const waitMs = getClock().monotonic() - started
    const slow = waitMs > this.warnAfter
    if (slow) this.slowWaits++
    if (lockWaitChannel.active) lockWaitChannel.publish({ name: this.name, kind, waitMs, slow })
  }
}

/**
 * A mutual-exclusion lock with abortable, timed waits, wait-time statistics, a slow-wait warning
 * and an optional reentrant mode.
 *
 * @example
 * const lock = new Mutex({ name: 'token_lock', warnAfter: '100ms' })
 * await lock.run(async () => refreshToken())
 * {
 *   await using held = await lock.acquire({ signal, timeout: '1s' })
 *   await writeFile(path, data)
 * }
 */
export class Mutex implements AsyncDisposable {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `other` metrics. */
  readonly [metricsSource] = describeMetrics('other', () => this.stats())
  readonly #semaphore: Semaphore
  readonly #reentrant: boolean
  readonly #meter: WaitMeter
  readonly #holders: AsyncLocalStorage<Set<Mutex>> | undefined

  constructor(options?: MutexOptions) {
    const raw = readOptions('new Mutex()', options, ['name', 'reentrant', 'warnAfter', 'timeout', 'maxQueue'])
    const name = checkString('name', raw.name ?? 'mutex')
    this.#reentrant = checkBoolean('reentrant', raw.reentrant ?? false)
    this.#meter = new WaitMeter(
      name,
      parseDuration(raw.warnAfter ?? Number.POSITIVE_INFINITY, 'warnAfter', { allowInfinity: true }),
    )
    this.#semaphore = new Semaphore({
      permits: 1,
      name,
      ...(raw.timeout === undefined ? {} : { timeout: raw.timeout }),
      ...(raw.maxQueue === undefined ? {} : { maxQueue: raw.maxQueue }),
    })
    this.#holders = this.#reentrant ? holdersStorage() : undefined
  }

  /** True while someone holds the lock. */
  get locked(): boolean {
    return this.#semaphore.inUse > 0
  }

  /**
   * True while someone holds the lock (the method form of `locked`).
   *
   * @example
   * if (!lock.isLocked()) await lock.run(refresh)
   */
  isLocked(): boolean {
    return this.#semaphore.inUse > 0
  }

  /**
   * Resolves once the lock is free and nobody waits for it, without taking it (at once if so
   * already); queued `acquire()`/`run()` callers are served first. Rejects with the signal's
   * reason when `signal` aborts, and with `LockSelfWaitError` when called inside `run()` of this
   * re-entrant mutex (the wait could never end).
   *
   * @example
   * await lock.waitForUnlock({ signal: AbortSignal.timeout(5_000) })
   * const snapshot = readState() // no writer is running or queued right now
   */
  waitForUnlock(options?: WatchOptions): Promise<void> {
    if (options !== undefined) readOptions('Mutex.waitForUnlock()', options, ['signal'])
    // A re-entrant holder waiting for its own lock would wait forever.
    if (this.#holdsIt()) return Promise.reject(new LockSelfWaitError('mutex'))
    return this.#semaphore.onIdle(options)
  }

  /**
   * Waits for the lock and returns a disposable handle. In reentrant mode, a caller already inside
   * `run()` of this mutex gets a handle at once (releasing it does nothing).
   *
   * @example
   * await using held = await lock.acquire({ timeout: '500ms' })
   */
  acquire(options?: LockAcquireOptions): Promise<LockHandle> {
    checkLockCall('Mutex.acquire()', undefined, options)
    if (this.#holdsIt()) return Promise.resolve(REENTERED)
    return this.#meter.wait(this.#semaphore.acquire(options), 'mutex')
  }

  /**
   * Runs `fn` holding the lock. In reentrant mode, nested `run()` calls of the same mutex from
   * inside `fn` run at once.
   *
   * @example
   * const balance = await lock.run(async () => { const b = await read(); await write(b + 1); return b + 1 })
   */
  run<R>(fn: () => R | PromiseLike<R>, options?: LockAcquireOptions): Promise<Awaited<R>> {
    checkLockCall('Mutex.run()', fn, options)
    return this.#run(fn, options)
  }

  async #run<R>(fn: () => R | PromiseLike<R>, options: LockAcquireOptions | undefined): Promise<Awaited<R>> {
    if (this.#holdsIt()) return await fn()
    const permit = await this.#meter.wait(this.#semaphore.acquire(options), 'mutex')
    try {
      if (this.#holders === undefined) return await fn()
      const held = new Set(this.#holders.getStore())
      held.add(this)
      return await this.#holders.run(held, fn)
    } finally {
      permit.release()
    }
  }

  /**
   * Rejects every waiter with `reason` (default `E_SEMAPHORE_CLEARED`); the holder keeps the lock.
   *
   * @example
   * lock.clear()
   * lock.clear({ reason: new Error('shutting down') })
   */
  clear(options?: ClearOptions): number {
    if (options !== undefined) readOptions('Mutex.clear()', options, ['reason'])
    return this.#semaphore.clear(options)
  }

  /**
   * A plain snapshot of the counters.
   *
   * @example
   * const { waitTime, slowWaits } = lock.stats()
   */
  stats(): MutexStats {
    const s = this.#semaphore.stats()
    return {
      name: s.name,
      locked: s.inUse > 0,
      waiting: s.waiting,
      acquired: s.acquired,
      timedOut: s.timedOut,
      aborted: s.aborted,
      rejected: s.rejected,
      slowWaits: this.#meter.slowWaits,
      waitTime: s.waitTime,
    }
  }

  /**
   * Rejects waiters and new callers, then waits for the holder to release.
   *
   * @example
   * await lock.close()
   */
  close(): Promise<void> {
    return this.#semaphore.close()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #holdsIt(): boolean {
    return this.#holders?.getStore()?.has(this) === true
  }
}

let storage: AsyncLocalStorage<Set<Mutex>> | undefined
function holdersStorage(): AsyncLocalStorage<Set<Mutex>> {
  storage ??= new AsyncLocalStorage()
  return storage
}
