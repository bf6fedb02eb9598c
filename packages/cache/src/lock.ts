import { eventChannel, getClock, getTimerService, Timeout } from '@hotpath/core'
import { cacheChannels } from './channels'
import type { Entry } from './entry'
import { CacheClosedError, CacheLoaderTimeoutError } from './errors'
import type { ResolvedPolicy } from './options'
import { raceTimeout, TIMED_OUT } from './race'

const LOCK_WAIT = { name: 'hotpath:cache:lock-wait' }

/**
 * A lease on one key, held by the instance that loads it. The lock renews it while the loader
 * runs; `release` gives it up once the value is in L2.
 *
 * @example
 * const lease = await lock.acquire('cache:j1:user:1')
 * if (lease) try { await load() } finally { await lease.release() }
 */
export interface CacheLease {
  /** Gives the lease up (only if this instance still holds it). Never rejects. */
  release(): Promise<void>
}

/**
 * Cross-instance single-flight: on a miss, one instance takes the key's lease and loads; the
 * others wait for its value in L2. `redisLock` implements it.
 *
 * @example
 * const cache = createCache({ l2: redisStore({ client }), bus: redisBus({ client }), lock: redisLock({ client }) })
 */
export interface CacheLock {
  /** A short name shown in events ('redis', ...). */
  readonly kind: string
  /** Longest pause, in milliseconds, between two looks at L2 while another instance loads. */
  readonly maxPoll: number
  /**
   * Tries to take the lease of `key`: the lease, or `null` while another instance holds it.
   * Rejects when the backend cannot answer; the cache then loads without the lock.
   */
  acquire(key: string): Promise<CacheLease | null>
}

/**
 * What happened to one miss under the lock, published on the `hotpath:cache:lock` channel.
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe('hotpath:cache:lock', (event) => console.log((event as LockEvent).event))
 */
export interface LockEvent {
  cache: string
  key: string
  /** `acquired`: this instance loads; `waited`: it waited and got another's value; `fallback`: the lock could not answer, it loaded on its own. */
  event: 'acquired' | 'waited' | 'fallback'
}

/** Lock counters in stats. */
export interface LockCounters {
  acquired: number
  waited: number
  fallbacks: number
}

const lockChannel = eventChannel<LockEvent>(cacheChannels.lock)

const noop = () => {}

/** First pause between two looks at L2; it doubles up to `maxPoll`. */
const FIRST_POLL = 5

/** What the core lends the lock: its name, its L2 read and its L2 timeout. */
export interface LockHost {
  readonly name: string
  readonly closed: boolean
  readonly l2: { readonly timeout: number } | undefined
  storeKey(full: string): string
  fromL2(full: string, policy: ResolvedPolicy): Promise<{ entry: Entry; fresh: boolean } | undefined>
}

/** The outcome of {@link LockedLoads.enter}. */
export type Entered = { found: true; value: unknown } | { found: false; lease: CacheLease | undefined }

/**
 * The cache's side of the lock: who loads a missed key, and how the others wait for its value
 * (woken by the bus message the loader's write sends, or by polling L2 with a growing pause).
 */
export class LockedLoads {
  readonly lock: CacheLock
  readonly counters: LockCounters = { acquired: 0, waited: 0, fallbacks: 0 }
  readonly #host: LockHost
  readonly #wakers = new Map<string, Set<() => void>>()

  constructor(lock: CacheLock, host: LockHost) {
    this.lock = lock
    this.#host = host
  }

  /** Called for keys another instance changed: its waiters look at L2 now. */
  wake(keys: readonly string[]): void {
    if (this.#wakers.size === 0) return
    for (const key of keys) {
      const set = this.#wakers.get(key)
      if (set === undefined) continue
      this.#wakers.delete(key)
      for (const wake of set) wake()
    }
  }

  /**
   * Decides who loads `full`: resolves with the value another instance stored, or with the lease
   * to load under (none when the lock could not answer: the caller then loads on its own). Waits
   * at most `policy.hard`; never fails because of the lock itself.
   */
  async enter(full: string, key: string, policy: ResolvedPolicy): Promise<Entered> {
    const host = this.#host
    const lockKey = host.storeKey(full)
    const giveUp = getClock().monotonic() + policy.hard
    let pause = FIRST_POLL
    for (;;) {
      if (host.closed) throw new CacheClosedError()
      let lease: CacheLease | null
      try {
        const acquiring = this.lock.acquire(lockKey)
        const taken = await raceTimeout(acquiring, host.l2?.timeout ?? 1_000)
        if (taken === TIMED_OUT) {
          // A lease granted after we gave up would be renewed with no load behind it: give it back.
          acquiring.then((late) => late?.release(), noop)
          throw new Error('lock timed out')
        }
        lease = taken
      } catch {
        this.#event(full, 'fallback')
        return { found: false, lease: undefined }
      }
      if (lease !== null) {
        // The previous holder stores its value before it releases: look once more, so a value
        // that landed between our last look (the miss that brought us here, or a poll) and the
        // lease is not loaded a second time. One GET per leased miss buys "one load in total".
        const entry = await this.#fresh(full, policy)
        if (entry !== undefined) {
          void lease.release()
          this.#event(full, 'waited')
          return { found: true, value: entry.value }
        }
        this.#event(full, 'acquired')
        return { found: false, lease }
      }
      const left = giveUp - getClock().monotonic()
      if (left <= 0) throw new CacheLoaderTimeoutError(key, policy.hard)
      await this.#sleep(full, Math.min(pause, this.lock.maxPoll, left))
      pause *= 2
      const entry = await this.#fresh(full, policy)
      if (entry !== undefined) {
        this.#event(full, 'waited')
        return { found: true, value: entry.value }
      }
    }
  }

  async #fresh(full: string, policy: ResolvedPolicy): Promise<Entry | undefined> {
    const found = await this.#host.fromL2(full, policy)
    return found?.fresh ? found.entry : undefined
  }

  /** Sleeps `ms`, or less when the bus says `full` changed. */
  #sleep(full: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.#wakers.get(full)
      if (set === undefined) {
        set = new Set()
        this.#wakers.set(full, set)
      }
      const wakers = set
      const done = () => {
        getTimerService().remove(timer)
        wakers.delete(done)
        if (wakers.size === 0 && this.#wakers.get(full) === wakers) this.#wakers.delete(full)
        resolve()
      }
      // A caller waits on this: the entry is ref'd and keeps the process alive meanwhile.
      const timer = new Timeout(done, LOCK_WAIT)
      getTimerService().add(timer, Math.max(1, Math.ceil(ms)))
      wakers.add(done)
    })
  }

  #event(full: string, event: LockEvent['event']): void {
    if (event === 'acquired') this.counters.acquired++
    else if (event === 'waited') this.counters.waited++
    else this.counters.fallbacks++
    if (lockChannel.active) lockChannel.publish({ cache: this.#host.name, key: full, event })
  }
}
