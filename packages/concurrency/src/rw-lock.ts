import {
  checkInteger,
  checkString,
  type Duration,
  describeMetrics,
  metricsSource,
  parseDuration,
  type SummarySnapshot,
} from '@hotpath/core'
import { readOptions } from './internal/options'
import { checkLockCall, type LockAcquireOptions, type LockHandle, WaitMeter } from './mutex'
import { Semaphore } from './semaphore'
import type { ClearOptions } from './semaphore-types'

/**
 * Options of {@link RWLock}.
 *
 * @example
 * const lock = new RWLock({ name: 'routes', maxReaders: 64, warnAfter: '20ms', timeout: '2s' })
 */
export interface RWLockOptions {
  /**
   * Name shown in stats, channels and errors.
   * @default 'rwlock'
   */
  name?: string
  /**
   * Most readers holding the lock at once.
   * @default 1_048_576
   */
  maxReaders?: number
  /**
   * Waits longer than this are flagged `slow` on `hotpath:concurrency:lock-wait`.
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
 * Snapshot returned by {@link RWLock.stats}.
 *
 * @example
 * const { readers, writing, waiting, slowWaits }: RWLockStats = lock.stats()
 */
export interface RWLockStats {
  name: string
  readers: number
  writing: boolean
  waiting: number
  acquired: number
  timedOut: number
  aborted: number
  slowWaits: number
  waitTime: SummarySnapshot
}

/**
 * A readers-writer lock: many readers or one writer. Waiters are served in arrival order, so a
 * waiting writer is not starved by a stream of readers (readers that come after it wait).
 *
 * @example
 * const lock = new RWLock({ name: 'config' })
 * const config = await lock.read(() => current)
 * await lock.write(async () => { current = await reload() })
 */
export class RWLock implements AsyncDisposable {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `other` metrics. */
  readonly [metricsSource] = describeMetrics('other', () => this.stats())
  readonly #semaphore: Semaphore
  readonly #all: number
  readonly #meter: WaitMeter

  constructor(options?: RWLockOptions) {
    const raw = readOptions('new RWLock()', options, [
      'name',
      'maxReaders',
      'warnAfter',
      'timeout',
      'maxQueue',
    ])
    const name = checkString('name', raw.name ?? 'rwlock')
    this.#all = checkInteger('maxReaders', raw.maxReaders ?? 1_048_576, { min: 1 })
    this.#meter = new WaitMeter(
      name,
      parseDuration(raw.warnAfter ?? Number.POSITIVE_INFINITY, 'warnAfter', { allowInfinity: true }),
    )
    this.#semaphore = new Semaphore({
      permits: this.#all,
      name,
      ...(raw.timeout === undefined ? {} : { timeout: raw.timeout }),
      ...(raw.maxQueue === undefined ? {} : { maxQueue: raw.maxQueue }),
    })
  }

  /**
   * Waits for a shared (read) hold.
   *
   * @example
   * await using held = await lock.acquireRead({ timeout: '1s' })
   */
  acquireRead(options?: LockAcquireOptions): Promise<LockHandle> {
    checkLockCall('RWLock.acquireRead()', undefined, options)
    return this.#read(options)
  }

  /**
   * Waits for the exclusive (write) hold.
   *
   * @example
   * await using held = await lock.acquireWrite({ signal })
   */
  acquireWrite(options?: LockAcquireOptions): Promise<LockHandle> {
    checkLockCall('RWLock.acquireWrite()', undefined, options)
    return this.#write(options)
  }

  // Options already checked by the public method that called these.
  #read(options: LockAcquireOptions | undefined): Promise<LockHandle> {
    return this.#meter.wait(this.#semaphore.acquire(options), 'read')
  }

  #write(options: LockAcquireOptions | undefined): Promise<LockHandle> {
    return this.#meter.wait(this.#semaphore.acquire({ ...options, weight: this.#all }), 'write')
  }

  /**
   * Runs `fn` under a read hold.
   *
   * @example
   * const value = await lock.read(() => map.get(key))
   */
  read<R>(fn: () => R | PromiseLike<R>, options?: LockAcquireOptions): Promise<Awaited<R>> {
    checkLockCall('RWLock.read()', fn, options)
    return this.#hold(this.#read(options), fn)
  }

  /**
   * Runs `fn` under the write hold.
   *
   * @example
   * await lock.write(() => map.set(key, value))
   */
  write<R>(fn: () => R | PromiseLike<R>, options?: LockAcquireOptions): Promise<Awaited<R>> {
    checkLockCall('RWLock.write()', fn, options)
    return this.#hold(this.#write(options), fn)
  }

  async #hold<R>(hold: Promise<LockHandle>, fn: () => R | PromiseLike<R>): Promise<Awaited<R>> {
    const held = await hold
    try {
      return await fn()
    } finally {
      held.release()
    }
  }

  /**
   * A plain snapshot of the counters.
   *
   * @example
   * const { readers, writing, waiting } = lock.stats()
   */
  stats(): RWLockStats {
    const s = this.#semaphore.stats()
    const writing = s.inUse >= this.#all
    return {
      name: s.name,
      readers: writing ? 0 : s.inUse,
      writing,
      waiting: s.waiting,
      acquired: s.acquired,
      timedOut: s.timedOut,
      aborted: s.aborted,
      slowWaits: this.#meter.slowWaits,
      waitTime: s.waitTime,
    }
  }

  /**
   * Rejects every waiter with `reason` (default `E_SEMAPHORE_CLEARED`).
   *
   * @example
   * lock.clear()
   */
  clear(options?: ClearOptions): number {
    if (options !== undefined) readOptions('RWLock.clear()', options, ['reason'])
    return this.#semaphore.clear(options)
  }

  /**
   * Rejects waiters and new callers, then waits for the holders to release.
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
}
