import { type SingleFlight, singleFlight } from '@hotpath/concurrency'
import { coarseNow, eventChannel, getClock } from '@hotpath/core'
import { cacheChannels } from './channels'
import type { Codec } from './codec'
import { Entry, fromEnvelope, toEnvelope } from './entry'
import { CacheClosedError, CacheCodecError } from './errors'
import type { L1 } from './l1'
import type { L2Tier } from './l2-tier'
import type { LockedLoads } from './lock'
import type { ResolvedPolicy } from './options'
import { OwnWrites } from './own-writes'
import type { Recovery } from './recovery'
import type { BusMessage, CacheBus, StoredValue, StoreTracking } from './store'
import { TagVersions } from './tag-versions'

const busChannel = eventChannel<{ cache: string; message: BusMessage; lag: number }>(cacheChannels.bus)

/** Marks in-flight reads and loads of a key so an invalidation meanwhile keeps their result out of L1. */
export interface Pending {
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
  trackedDrops: number
  trackedOwn: number
}

/**
 * The state a cache and its namespaces share, with what needs no L2 round trip: freshness, the
 * in-flight bookkeeping, bus messages and encoding. `CoreIO` adds L2 reads and writes, `CacheCore`
 * the loads.
 */
export abstract class CoreBase {
  readonly name: string
  readonly codec: Codec
  readonly l1: L1 | undefined
  readonly l2: L2Tier | undefined
  readonly bus: CacheBus | undefined
  readonly tags: TagVersions
  /** Changes L2 did not take, replayed once it answers; undefined without L2 or when disabled. */
  abstract readonly recovery: Recovery | undefined
  /** Cross-instance single-flight; undefined without a lock. */
  abstract readonly locks: LockedLoads | undefined
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
    trackedDrops: 0,
    trackedOwn: 0,
  }
  /** Server-assisted invalidation (`invalidation: 'tracking' | 'both'`), or undefined. */
  tracking: StoreTracking | undefined
  /** This instance's writes whose tracking reports are not to drop its own L1 values. */
  readonly ownWrites = new OwnWrites()
  /** Loads running, per key. */
  protected readonly loads = new Map<string, Promise<unknown>>()
  protected readonly closer = new AbortController()
  readonly #pending = new Map<string, Pending>()
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
  ) {
    this.name = name
    this.codec = codec
    this.l1 = l1
    this.l2 = l2
    this.bus = bus
    this.tags = new TagVersions(maxTags)
    this.#storePrefix = `${name}:${codec.id}:`
  }

  get signal(): AbortSignal {
    return this.closer.signal
  }

  /** Whether an L1 entry may be served as fresh right now. */
  fresh(entry: Entry, now: number): boolean {
    return (
      entry.expiresAt > now &&
      entry.epoch === this.epoch &&
      (entry.tags === undefined || this.tags.valid(entry))
    )
  }

  /**
   * The fresh L1 entry of `full`, counted as an L1 hit; `undefined` (nothing counted) otherwise.
   * `now` defaults to {@link coarseNow}, read only when an entry is found: a cache without L1, or
   * a miss, never holds the time (holding it costs the event loop one more turn).
   */
  l1Hit(full: string, now?: number): Entry | undefined {
    const l1 = this.l1
    if (l1 === undefined) return undefined
    const entry = l1.lru.get(full)
    if (entry === undefined || !this.fresh(entry, now ?? coarseNow())) return undefined
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
    this.loads.delete(full)
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
      this.loads.delete(key)
    }
  }

  // ---- bus ------------------------------------------------------------------------------------

  publish(message: Omit<BusMessage, 'i' | 'n' | 's'>): void {
    if (!this.bus) return
    this.bus.publish({ ...message, i: this.instanceId, n: this.name, s: getClock().now() })
  }

  protected onBus(message: BusMessage): void {
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

  protected onResubscribe(): void {
    this.#distrust()
  }

  // ---- tracking -------------------------------------------------------------------------------

  /** Keys (store keys) some client changed in L2, as reported by the store's tracking. */
  protected onTrackedKeys(keys: string[]): void {
    if (this.closed) return
    const prefix = this.#storePrefix
    const fulls: string[] = []
    for (const key of keys) {
      if (!key.startsWith(prefix)) continue
      const full = key.slice(prefix.length)
      fulls.push(full)
      if (this.ownWrites.consume(full)) this.counters.trackedOwn++
      else {
        this.counters.trackedDrops++
        this.invalidateLocal(full)
      }
    }
    if (fulls.length > 0) this.locks?.wake(fulls)
  }

  /** Tags whose counters some client changed in L2: their version here is outdated. */
  protected onTrackedTags(tags: string[]): void {
    if (this.closed) return
    for (const tag of tags) this.tags.invalidate(tag)
  }

  /** Tracking lost, set up again, or the database flushed: changes may have gone unreported. */
  protected onTrackingReset(): void {
    this.ownWrites.reset()
    this.#distrust()
  }

  /** Registers keys about to be written to L2, when tracking would report them back. */
  expectOwn(fulls: readonly string[]): number | undefined {
    if (this.tracking === undefined || this.l1 === undefined || fulls.length === 0) return undefined
    return this.tracking.connected() ? this.ownWrites.expect(fulls) : undefined
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
}
