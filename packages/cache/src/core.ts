import { asyncTracer, eventChannel, getClock } from '@hotpath/core'
import { cacheChannels } from './channels'
import type { Codec } from './codec'
import type { Pending } from './core-base'
import { CoreIO } from './core-io'
import type { Entry } from './entry'
import { CacheClosedError, CacheCodecError, CacheLoaderTimeoutError } from './errors'
import type { L1 } from './l1'
import type { L2Tier } from './l2-tier'
import { LoaderContext } from './loader-context'
import { type CacheLock, LockedLoads } from './lock'
import type { ResolvedPolicy } from './options'
import { raceTimeout, TIMED_OUT } from './race'
import { Recovery } from './recovery'
import type { CacheBus } from './store'

export type { CoreCounters } from './core-base'

const missChannel = eventChannel<{ cache: string; key: string }>(cacheChannels.miss)
const staleChannel = eventChannel<{ cache: string; key: string; reason: string }>(cacheChannels.stale)
const loadTracer = asyncTracer<{ cache: string; key: string }>(cacheChannels.load)

const noop = () => {}

/**
 * A loader for one key.
 *
 * @example
 * const loadUser: Loader<User> = (ctx) => db.users.find(ctx.key.slice('user:'.length))
 * const user = await cache.getOrSet(`user:${id}`, loadUser)
 */
export type Loader<T> = (ctx: LoaderContext<T>) => T | PromiseLike<T>

/** State shared by a cache and all its namespaces: see `CoreBase` and `CoreIO`; this part loads. */
export class CacheCore extends CoreIO {
  readonly recovery: Recovery | undefined
  readonly locks: LockedLoads | undefined
  readonly #waiters = new Set<(error: Error) => void>()
  #trackingStarted: Promise<void> | undefined

  constructor(
    name: string,
    codec: Codec,
    l1: L1 | undefined,
    l2: L2Tier | undefined,
    bus: CacheBus | undefined,
    maxTags: number,
    recoveryQueue = 0,
    lock?: CacheLock,
    tracking = false,
  ) {
    super(name, codec, l1, l2, bus, maxTags)
    this.locks = lock === undefined ? undefined : new LockedLoads(lock, this)
    const recovery = l2 && recoveryQueue > 0 ? new Recovery(this, recoveryQueue) : undefined
    this.recovery = recovery
    if (recovery && l2) {
      l2.onAnswer = () => {
        if (recovery.size > 0) void recovery.replay()
      }
    }
    if (bus) {
      this.busStarted = bus
        .start({ message: (message) => this.onBus(message), resubscribed: () => this.onResubscribe() })
        .catch(noop)
    }
    if (tracking && l2?.store.track) {
      const tracker = l2.store.track({ keys: this.storeKey(''), tags: `${name}:` })
      this.tracking = tracker
      this.#trackingStarted = tracker
        .start({
          keys: (keys) => this.onTrackedKeys(keys),
          tags: (tags) => this.onTrackedTags(tags),
          reset: () => this.onTrackingReset(),
        })
        .catch(noop)
    }
  }

  /** L1 miss path of `get`: L2 when there is one. */
  async getSlow(full: string, policy: ResolvedPolicy): Promise<unknown> {
    this.assertOpen()
    const l1 = this.l1
    if (l1) l1.counters.misses++
    if (this.l2) {
      // Without L1 a plain read has nothing to guard: registering it would cost a map insert and
      // delete per read.
      const found = await this.fromL2(full, policy, undefined, l1 !== undefined)
      if (found?.fresh) return found.entry.value
    }
    this.counters.misses++
    if (missChannel.active) missChannel.publish({ cache: this.name, key: full })
    return undefined
  }

  // ---- loads ----------------------------------------------------------------------------------

  /** The whole miss path of `getOrSet`, run once per key at a time (single-flight). */
  resolve<T>(
    full: string,
    key: string,
    loader: Loader<T>,
    policy: ResolvedPolicy,
    tags: string[] | undefined,
  ): Promise<unknown> {
    this.assertOpen()
    return this.flights.do(full, () => this.track(this.#resolve(full, key, loader, policy, tags)))
  }

  /**
   * Settles like `work`, or rejects with CacheClosedError when the cache closes first. One
   * registration per flight (not per caller), so a 1,000-caller stampede costs one.
   */
  track<R>(work: Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiters.add(reject)
      work.then(
        (value) => {
          this.#waiters.delete(reject)
          resolve(value)
        },
        (error: unknown) => {
          this.#waiters.delete(reject)
          reject(error)
        },
      )
    })
  }

  async #resolve<T>(
    full: string,
    key: string,
    loader: Loader<T>,
    policy: ResolvedPolicy,
    tags: string[] | undefined,
  ): Promise<unknown> {
    const now = getClock().now()
    let stale: Entry | undefined
    const cached = this.l1?.lru.peek(full)
    if (cached !== undefined) {
      if (this.fresh(cached, now)) return cached.value
      if (cached.staleUntil > now && (cached.tags === undefined || this.tags.valid(cached))) stale = cached
    }
    this.l1 && this.l1.counters.misses++
    // One L2 budget for the whole call: the read, the tag versions and the write share it.
    const deadline = this.l2 === undefined ? undefined : this.budget()
    if (this.l2) {
      const found = await this.fromL2(full, policy, deadline)
      if (found !== undefined) {
        if (found.fresh) return found.entry.value
        if (stale === undefined || found.entry.setAt > stale.setAt) stale = found.entry
      }
    }
    this.counters.misses++
    if (missChannel.active) missChannel.publish({ cache: this.name, key: full })
    if (stale !== undefined && stale.retryAt > getClock().now())
      return this.#serveStale(full, stale, 'throttled')
    const load = this.startLoad(full, key, loader, policy, tags, stale, deadline)
    if (stale !== undefined) {
      if (policy.soft === 0) return this.#serveStale(full, stale, 'revalidating')
      try {
        const first = await raceTimeout(load, policy.soft)
        if (first !== TIMED_OUT) return first
      } catch {
        return this.#serveStale(full, stale, 'error')
      }
      return this.#serveStale(full, stale, 'soft-timeout')
    }
    if (policy.hard === Number.POSITIVE_INFINITY) return load
    const result = await raceTimeout(load, policy.hard)
    if (result === TIMED_OUT) {
      this.counters.loaderTimeouts++
      throw new CacheLoaderTimeoutError(key, policy.hard)
    }
    return result
  }

  #serveStale(full: string, stale: Entry, reason: string): unknown {
    this.counters.staleServed++
    if (staleChannel.active) staleChannel.publish({ cache: this.name, key: full, reason })
    return stale.value
  }

  /** Starts the loader for a key unless one already runs; stores its value when it settles. */
  startLoad<T>(
    full: string,
    key: string,
    loader: Loader<T>,
    policy: ResolvedPolicy,
    tags: string[] | undefined,
    stale: Entry | undefined,
    deadline?: number,
  ): Promise<unknown> {
    const running = this.loads.get(full)
    if (running !== undefined) return running
    const pending = this.acquire(full)
    const promise = this.#load(full, key, loader, policy, tags, stale, pending, deadline).finally(() => {
      if (this.loads.get(full) === promise) this.loads.delete(full)
      this.release(full, pending)
    })
    promise.catch(noop)
    this.loads.set(full, promise)
    return promise
  }

  /** Loads here, or under the lock: takes the lease, or waits for the value its holder stores. */
  async #load<T>(
    full: string,
    key: string,
    loader: Loader<T>,
    policy: ResolvedPolicy,
    tags: string[] | undefined,
    stale: Entry | undefined,
    pending: Pending,
    deadline: number | undefined,
  ): Promise<unknown> {
    const locks = this.locks
    if (locks === undefined)
      return this.#loadHere(full, key, loader, policy, tags, stale, pending, deadline, false)
    const waitStarted = getClock().monotonic()
    const entered = await locks.enter(full, key, policy)
    if (entered.found) return entered.value
    // Waiting for another instance is not spent waiting for L2: the budget resumes after it.
    if (deadline !== undefined) deadline += getClock().monotonic() - waitStarted
    const lease = entered.lease
    if (lease === undefined)
      return this.#loadHere(full, key, loader, policy, tags, stale, pending, deadline, false)
    try {
      // The waiting instances look for the value in L2: it is stored before the lease goes.
      return await this.#loadHere(full, key, loader, policy, tags, stale, pending, deadline, true)
    } finally {
      // Not awaited: the value is stored, and a Redis that stopped answering must not hold the load.
      void lease.release()
    }
  }

  async #loadHere<T>(
    full: string,
    key: string,
    loader: Loader<T>,
    policy: ResolvedPolicy,
    tags: string[] | undefined,
    stale: Entry | undefined,
    pending: Pending,
    deadline: number | undefined,
    leased: boolean,
  ): Promise<unknown> {
    // Versions are read before loading: an invalidation during the load then outdates the value.
    const versions = tags === undefined ? undefined : await this.tagVersions(tags, deadline)
    const ctx = new LoaderContext<T>(key, stale?.value as T | undefined, this.signal, policy.ttl)
    this.counters.loads++
    const loadStarted = deadline === undefined ? 0 : getClock().monotonic()
    let value: T
    try {
      value = loadTracer.active
        ? await loadTracer.trace(
            async () => loader(ctx),
            () => ({ cache: this.name, key: full }),
          )
        : await loader(ctx)
    } catch (error) {
      this.counters.loadErrors++
      if (stale !== undefined && !pending.invalidated) {
        stale.retryAt = getClock().now() + policy.retry
        if (this.l1 && this.l1.lru.peek(full) !== stale) this.putL1(full, stale, undefined)
      }
      throw error
    }
    if (ctx.skipped || pending.invalidated || this.closed) return value
    if (tags !== undefined && versions === undefined) return value
    // The loader's time is not spent waiting for L2: the budget resumes where it stopped.
    if (deadline !== undefined) deadline += getClock().monotonic() - loadStarted
    try {
      const entry = this.makeEntry(value, ctx.ttl, policy, tags, versions)
      if (entry !== undefined && this.l2 === undefined && this.bus === undefined)
        this.putL1(full, entry, undefined)
      else await this.write([{ full, entry }], policy.l2Background && !leased, false, deadline)
    } catch (error) {
      if (error instanceof CacheCodecError) this.counters.codecErrors++
      // The value is returned even when storing it failed; L2 errors are counted by the tier.
    }
    return value
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.recovery?.close()
    this.l2?.close()
    this.closer.abort(new CacheClosedError())
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const reject of waiters) reject(new CacheClosedError())
    await this.busStarted
    await this.bus?.close()
    await this.#trackingStarted
    await this.tracking?.close()
    await this.l2?.store.close?.()
  }
}
