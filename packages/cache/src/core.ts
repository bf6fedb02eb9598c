import { type SingleFlight, singleFlight } from '@hotpath/concurrency'
import { asyncTracer, eventChannel, getClock } from '@hotpath/core'
import type { Codec } from './codec'
import { Entry, fromEnvelope, toEnvelope } from './entry'
import { CacheClosedError, CacheCodecError, CacheLoaderTimeoutError } from './errors'
import type { L1 } from './l1'
import type { L2Tier } from './l2-tier'
import { LoaderContext } from './loader-context'
import { type CacheLock, LockedLoads } from './lock'
import type { ResolvedPolicy } from './options'
import { raceTimeout, TIMED_OUT } from './race'
import { Recovery } from './recovery'
import type { BusMessage, CacheBus, StoredValue, StoreWrite } from './store'
import { TagVersions } from './tag-versions'

const missChannel = eventChannel<{ cache: string; key: string }>('hotpath:cache:miss')
const staleChannel = eventChannel<{ cache: string; key: string; reason: string }>('hotpath:cache:stale')
const busChannel = eventChannel<{ cache: string; message: BusMessage; lag: number }>('hotpath:cache:bus')
const loadTracer = asyncTracer<{ cache: string; key: string }>('hotpath:cache:load')

const noop = () => {}

/**
 * A loader for one key.
 *
 * @example
 * const loadUser: Loader<User> = (ctx) => db.users.find(ctx.key.slice('user:'.length))
 * const user = await cache.getOrSet(`user:${id}`, loadUser)
 */
export type Loader<T> = (ctx: LoaderContext<T>) => T | PromiseLike<T>

/** Marks in-flight reads and loads of a key so an invalidation meanwhile keeps their result out of L1. */
interface Pending {
  invalidated: boolean
  refs: number
}

/** Cache-wide counters (L1 and L2 counters live in their tiers). */
export interface CoreCounters {
  misses: number
  loads: number
  loadErrors: number
  loaderTimeouts: number
  staleServed: number
  codecErrors: number
  busReceived: number
  busLagLast: number
  busLagMax: number
}

/** State shared by a cache and all its namespaces. */
export class CacheCore {
  readonly name: string
  readonly codec: Codec
  readonly l1: L1 | undefined
  readonly l2: L2Tier | undefined
  readonly bus: CacheBus | undefined
  readonly tags: TagVersions
  /** Changes L2 did not take, replayed once it answers; undefined without L2 or when disabled. */
  readonly recovery: Recovery | undefined
  /** Cross-instance single-flight; undefined without a lock. */
  readonly locks: LockedLoads | undefined
  readonly instanceId = `${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 10)}`
  readonly flights: SingleFlight<string, unknown> = singleFlight()
  readonly counters: CoreCounters = {
    misses: 0,
    loads: 0,
    loadErrors: 0,
    loaderTimeouts: 0,
    staleServed: 0,
    codecErrors: 0,
    busReceived: 0,
    busLagLast: 0,
    busLagMax: 0,
  }
  readonly #loads = new Map<string, Promise<unknown>>()
  readonly #pending = new Map<string, Pending>()
  readonly #closer = new AbortController()
  readonly #waiters = new Set<(error: Error) => void>()
  readonly #storePrefix: string
  epoch = 0
  closed = false
  busStarted: Promise<void> | undefined

  constructor(
    name: string,
    codec: Codec,
    l1: L1 | undefined,
    l2: L2Tier | undefined,
    bus: CacheBus | undefined,
    maxTags: number,
    recoveryQueue = 0,
    lock?: CacheLock,
  ) {
    this.name = name
    this.codec = codec
    this.l1 = l1
    this.l2 = l2
    this.bus = bus
    this.tags = new TagVersions(maxTags)
    this.#storePrefix = `${name}:${codec.id}:`
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
        .start({ message: (message) => this.#onBus(message), resubscribed: () => this.#onResubscribe() })
        .catch(noop)
    }
  }

  get signal(): AbortSignal {
    return this.#closer.signal
  }

  /** Whether an L1 entry may be served as fresh right now. */
  fresh(entry: Entry, now: number): boolean {
    return (
      entry.expiresAt > now &&
      entry.epoch === this.epoch &&
      (entry.tags === undefined || this.tags.valid(entry))
    )
  }

  /** The fresh L1 entry of `full`, counted as an L1 hit; `undefined` (nothing counted) otherwise. */
  l1Hit(full: string, now: number): Entry | undefined {
    const l1 = this.l1
    if (l1 === undefined) return undefined
    const entry = l1.lru.get(full)
    if (entry === undefined || !this.fresh(entry, now)) return undefined
    l1.counters.hits++
    return entry
  }

  storeKey(full: string): string {
    return this.#storePrefix + full
  }

  assertOpen(): void {
    if (this.closed) throw new CacheClosedError()
  }

  // ---- in-flight bookkeeping ------------------------------------------------------------------

  acquire(full: string): Pending {
    let pending = this.#pending.get(full)
    if (pending === undefined) {
      pending = { invalidated: false, refs: 0 }
      this.#pending.set(full, pending)
    }
    pending.refs++
    return pending
  }

  release(full: string, pending: Pending): void {
    if (--pending.refs === 0 && this.#pending.get(full) === pending) this.#pending.delete(full)
  }

  /** Drops a key from L1 and detaches every read or load of it still running. */
  invalidateLocal(full: string): void {
    this.l1?.lru.delete(full)
    const pending = this.#pending.get(full)
    if (pending !== undefined) {
      pending.invalidated = true
      this.#pending.delete(full)
    }
    this.flights.forget(full)
    this.#loads.delete(full)
  }

  clearLocal(prefix: string): void {
    const lru = this.l1?.lru
    if (lru) {
      if (prefix === '') lru.clear()
      else {
        const doomed: string[] = []
        for (const key of lru.keys()) if (key.startsWith(prefix)) doomed.push(key)
        for (const key of doomed) lru.delete(key)
      }
    }
    for (const [key, pending] of this.#pending) {
      if (!key.startsWith(prefix)) continue
      pending.invalidated = true
      this.#pending.delete(key)
      this.flights.forget(key)
      this.#loads.delete(key)
    }
  }

  // ---- bus ------------------------------------------------------------------------------------

  publish(message: Omit<BusMessage, 'i' | 'n' | 's'>): void {
    if (!this.bus) return
    this.bus.publish({ ...message, i: this.instanceId, n: this.name, s: getClock().now() })
  }

  #onBus(message: BusMessage): void {
    if (message.i === this.instanceId || message.n !== this.name || this.closed) return
    const lag = Math.max(0, getClock().now() - message.s)
    this.counters.busReceived++
    this.counters.busLagLast = lag
    if (lag > this.counters.busLagMax) this.counters.busLagMax = lag
    if (message.k) {
      for (const key of message.k) this.invalidateLocal(key)
      this.locks?.wake(message.k)
    }
    if (message.t) for (const [tag, version] of message.t) this.tags.observe(tag, version)
    if (message.c !== undefined) this.clearLocal(message.c)
    if (message.r === 1) this.#distrust()
    busChannel.publish({ cache: this.name, message, lag })
  }

  #onResubscribe(): void {
    this.#distrust()
  }

  #distrust(): void {
    // Invalidations sent while we were not subscribed (or that a sender had to drop) are lost:
    // nothing in L1 written before now is trusted as fresh any more (it stays usable as a
    // fail-safe fallback).
    this.epoch++
    this.tags.clear()
  }

  // ---- encoding -------------------------------------------------------------------------------

  encode(entry: Entry): StoredValue {
    return this.codec.encode(toEnvelope(entry))
  }

  decode(data: StoredValue, policy: ResolvedPolicy): Entry | undefined {
    try {
      return fromEnvelope(this.codec.decode(data), policy.eager, this.epoch)
    } catch (error) {
      this.counters.codecErrors++
      if (error instanceof CacheCodecError) return undefined
      throw error
    }
  }

  /** Builds an entry from a value and a policy; undefined when the ttl says "do not store". */
  makeEntry(
    value: unknown,
    ttl: number,
    policy: ResolvedPolicy,
    tags: string[] | undefined,
    versions: number[] | undefined,
  ): Entry | undefined {
    let ms = value === undefined || value === null ? policy.negativeTtl : ttl
    if (!(ms > 0)) return undefined
    if (policy.jitter > 0) ms *= 1 - policy.jitter * Math.random()
    const now = getClock().now()
    const expiresAt = now + ms
    return new Entry(
      value,
      now,
      expiresAt,
      expiresAt + policy.grace,
      policy.eager > 0 ? now + ms * policy.eager : Number.POSITIVE_INFINITY,
      tags,
      versions,
      this.epoch,
    )
  }

  putL1(full: string, entry: Entry, encoded: StoredValue | undefined): void {
    const l1 = this.l1
    if (!l1) return
    if (l1.bytes) {
      const size = encoded === undefined ? this.#size(this.encode(entry)) : this.#size(encoded)
      l1.lru.set(full, entry, { size })
    } else l1.lru.set(full, entry)
  }

  #size(encoded: StoredValue): number {
    return typeof encoded === 'string' ? encoded.length || 1 : encoded.byteLength || 1
  }

  /**
   * Writes entries to L1 and L2 (one L2 call per kind) and tells other instances. The caller waits
   * for L2 at most until `deadline` (monotonic ms); the write goes on in the background after it.
   */
  async write(
    items: { full: string; entry: Entry | undefined }[],
    background: boolean,
    silent = false,
    deadline?: number,
  ): Promise<void> {
    const writes: StoreWrite[] = []
    const setAts: number[] = []
    const writeKeys: string[] = []
    const deleteKeys: string[] = []
    const keys: string[] = []
    for (const { full, entry } of items) {
      keys.push(full)
      if (entry === undefined) {
        this.l1?.lru.delete(full)
        deleteKeys.push(full)
        continue
      }
      const encoded = this.l2 || this.l1?.bytes ? this.encode(entry) : undefined
      this.putL1(full, entry, encoded)
      if (this.l2) {
        writes.push({
          key: this.storeKey(full),
          value: encoded!,
          ttl: Math.max(1, entry.staleUntil - entry.setAt),
        })
        setAts.push(entry.setAt)
        writeKeys.push(full)
      }
    }
    const l2 = this.l2
    if (!l2 || keys.length === 0) {
      if (!silent) this.publish({ k: keys })
      return
    }
    const recovery = this.recovery
    if (recovery !== undefined && recovery.size > 0) for (const full of keys) recovery.supersede(full)
    const work = this.#writeL2(l2, writes, setAts, writeKeys, deleteKeys, silent)
    if (!background) await this.within(work, deadline)
  }

  /** Sends a write to L2 (never rejects): what L2 does not take goes to the recovery queue. */
  async #writeL2(
    l2: L2Tier,
    writes: StoreWrite[],
    setAts: number[],
    writeKeys: string[],
    deleteKeys: string[],
    silent: boolean,
  ): Promise<void> {
    const sets =
      writes.length === 0
        ? undefined
        : writes.length === 1
          ? l2.run('set', (s) => s.set(writes[0]!.key, writes[0]!.value, writes[0]!.ttl))
          : l2.run('setMany', (s) => s.setMany(writes))
    const deletes =
      deleteKeys.length === 0
        ? undefined
        : l2.run('delete', (s) => s.delete(deleteKeys.map((full) => this.storeKey(full))))
    deletes?.catch(noop)
    let setsTaken = true
    let deletesTaken = true
    if (sets !== undefined) await sets.catch(() => (setsTaken = false))
    if (deletes !== undefined) await deletes.catch(() => (deletesTaken = false))
    // Other instances are told once L2 holds the new value: told earlier, they could re-read the
    // old one from L2 into their L1. What L2 did not take is told when it is replayed.
    const recovery = this.recovery
    const told: string[] = []
    if (setsTaken || recovery === undefined) told.push(...writeKeys)
    else for (let i = 0; i < writes.length; i++) recovery.keepWrite(writeKeys[i]!, writes[i]!, setAts[i]!)
    if (deletesTaken || recovery === undefined) told.push(...deleteKeys)
    else for (const full of deleteKeys) recovery.keepDelete(full)
    if (!silent && told.length > 0) this.publish({ k: told })
  }

  /** The L2 budget of one call: a deadline one `l2Timeout` from now (monotonic ms). */
  budget(): number {
    return getClock().monotonic() + this.l2!.timeout
  }

  /**
   * Settles like `work`, or with {@link TIMED_OUT} once `deadline` has passed (the work goes on):
   * what is left of a call's L2 budget bounds each later L2 step of that call.
   */
  within<R>(work: Promise<R>, deadline: number | undefined): Promise<R | typeof TIMED_OUT> {
    if (deadline === undefined) return work
    const left = deadline - getClock().monotonic()
    // With a whole budget left, the tier's own timeout already bounds the call.
    if (left >= this.l2!.timeout) return work
    if (left <= 0) return Promise.resolve(TIMED_OUT)
    return raceTimeout(work, left)
  }

  /** The write time of an encoded L2 entry, or undefined when there is none or it cannot be read. */
  storedSetAt(data: StoredValue | null | undefined): number | undefined {
    if (data === null || data === undefined) return undefined
    try {
      const envelope = this.codec.decode(data)
      return Array.isArray(envelope) && typeof envelope[1] === 'number' ? envelope[1] : undefined
    } catch {
      return undefined
    }
  }

  // ---- tags -----------------------------------------------------------------------------------

  /**
   * Current versions of `tags`, fetching unknown ones from L2 (within `deadline`); undefined when
   * L2 cannot tell, or while an invalidation of one of them waits to be replayed.
   */
  async tagVersions(tags: string[], deadline?: number): Promise<number[] | undefined> {
    const unknown = this.tags.unknown(tags)
    if (unknown.length > 0) {
      if (this.l2) {
        const recovery = this.recovery
        if (recovery !== undefined && recovery.size > 0 && unknown.some((tag) => recovery.tagPending(tag)))
          return undefined
        if (deadline !== undefined && deadline <= getClock().monotonic()) return undefined
        try {
          const versions = await this.within(
            this.l2.run('getTagVersions', (s) => s.getTagVersions(unknown)),
            deadline,
          )
          if (versions === TIMED_OUT) return undefined
          for (let i = 0; i < unknown.length; i++) this.tags.observe(unknown[i]!, versions[i] ?? 0)
        } catch {
          return undefined
        }
      } else for (const tag of unknown) this.tags.set(tag, 0)
    }
    const out: number[] = []
    for (const tag of tags) {
      const version = this.tags.get(tag)
      if (version === undefined) return undefined
      out.push(version)
    }
    return out
  }

  /** Whether an entry read from L2 still matches its tags' versions. */
  async tagsValid(entry: Entry, deadline?: number): Promise<boolean> {
    if (entry.tags === undefined) return true
    if (
      this.tags.unknown(entry.tags).length > 0 &&
      (await this.tagVersions(entry.tags, deadline)) === undefined
    )
      return false
    return this.tags.valid(entry)
  }

  // ---- reads ----------------------------------------------------------------------------------

  /**
   * Reads one entry from L2 (never throws); returns it fresh or within grace, or undefined. A
   * change of the key still waiting to be replayed is what L2 will hold, so it is read instead.
   */
  async readL2(full: string, policy: ResolvedPolicy, deadline?: number): Promise<Entry | undefined> {
    const l2 = this.l2!
    let data = this.recovery !== undefined && this.recovery.size > 0 ? this.recovery.pending(full) : undefined
    if (data === undefined) {
      try {
        // Reads of other keys made in the same tick share this call's round trip (one MGET).
        data = await l2.read(this.storeKey(full))
      } catch {
        return undefined
      }
    }
    return this.#accept(data, policy, deadline)
  }

  /**
   * The L2 step of a miss: a fresh entry is counted as a hit and kept in L1 (unless the key was
   * invalidated meanwhile); an entry only within grace comes back with `fresh: false`.
   */
  async fromL2(
    full: string,
    policy: ResolvedPolicy,
    deadline = this.budget(),
  ): Promise<{ entry: Entry; fresh: boolean } | undefined> {
    const pending = this.acquire(full)
    try {
      const entry = await this.readL2(full, policy, deadline)
      if (entry === undefined) return undefined
      if (entry.expiresAt <= getClock().now()) return { entry, fresh: false }
      this.l2!.counters.hits++
      if (!pending.invalidated) this.putL1(full, entry, undefined)
      return { entry, fresh: true }
    } finally {
      this.release(full, pending)
    }
  }

  /** Reads entries from L2 in one call (never throws). */
  async readManyL2(
    fulls: string[],
    policy: ResolvedPolicy,
    deadline = this.budget(),
  ): Promise<(Entry | undefined)[]> {
    const l2 = this.l2!
    let data: (StoredValue | null | undefined)[]
    try {
      const keys = fulls.map((full) => this.storeKey(full))
      data = await l2.run('getMany', (s) => s.getMany(keys))
    } catch {
      return fulls.map(() => undefined)
    }
    const recovery = this.recovery
    if (recovery !== undefined && recovery.size > 0) {
      // Changes still waiting to be replayed are what L2 will hold.
      data = data.map((item, i) => {
        const waiting = recovery.pending(fulls[i]!)
        return waiting === undefined ? item : waiting
      })
    }
    return Promise.all(data.map((item) => this.#accept(item, policy, deadline)))
  }

  /** Decodes an L2 value and checks its age; tags are checked by the caller. */
  #decodeLive(data: StoredValue | null | undefined, policy: ResolvedPolicy): Entry | undefined {
    const l2 = this.l2!
    if (data === null || data === undefined) {
      l2.counters.misses++
      return undefined
    }
    const entry = this.decode(data, policy)
    if (entry === undefined || entry.staleUntil <= getClock().now()) {
      l2.counters.misses++
      return undefined
    }
    return entry
  }

  #accept(
    data: StoredValue | null | undefined,
    policy: ResolvedPolicy,
    deadline: number | undefined,
  ): Entry | undefined | Promise<Entry | undefined> {
    const entry = this.#decodeLive(data, policy)
    if (entry === undefined || entry.tags === undefined) return entry
    return this.tagsValid(entry, deadline).then((valid) => {
      if (valid) return entry
      this.l2!.counters.misses++
      return undefined
    })
  }

  /** L1 miss path of `get`: L2 when there is one. */
  async getSlow(full: string, policy: ResolvedPolicy): Promise<unknown> {
    this.assertOpen()
    const l1 = this.l1
    if (l1) l1.counters.misses++
    if (this.l2) {
      const found = await this.fromL2(full, policy)
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
    const running = this.#loads.get(full)
    if (running !== undefined) return running
    const pending = this.acquire(full)
    const promise = this.#load(full, key, loader, policy, tags, stale, pending, deadline).finally(() => {
      if (this.#loads.get(full) === promise) this.#loads.delete(full)
      this.release(full, pending)
    })
    promise.catch(noop)
    this.#loads.set(full, promise)
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
    const ctx = new LoaderContext<T>(key, stale?.value as T | undefined, this.#closer.signal, policy.ttl)
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
    this.#closer.abort(new CacheClosedError())
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const reject of waiters) reject(new CacheClosedError())
    await this.busStarted
    await this.bus?.close()
    await this.l2?.store.close?.()
  }
}
