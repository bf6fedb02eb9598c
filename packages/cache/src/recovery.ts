import { eventChannel, getClock, getTimerService, Timeout } from '@hotpath/core'
import { cacheChannels } from './channels'
import type { CacheCore } from './core'
import type { StoredValue, StoreWrite } from './store'

/**
 * What the recovery queue reports on `hotpath:cache:recovery`: a change kept because L2 could not
 * take it (`queued`), changes sent again once L2 answered (`replayed`), or changes that did not
 * fit and whose keys are deleted from L2 instead (`dropped`).
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe('hotpath:cache:recovery', (m) => {
 *   const event = m as RecoveryEvent
 *   if (event.event === 'dropped') log.warn(`${event.count} cache changes dropped, keys deleted instead`)
 * })
 */
export interface RecoveryEvent {
  /** The cache name. */
  cache: string
  /** What happened. */
  event: 'queued' | 'replayed' | 'dropped'
  /** How many changes it concerned. */
  count: number
  /** Changes still waiting afterwards. */
  pending: number
}

const recoveryChannel = eventChannel<RecoveryEvent>(cacheChannels.recovery)

/** A change L2 has not taken yet; `at` is its wall-clock time, to compare with what L2 holds. */
type Change =
  | { kind: 'set'; full: string; write: StoreWrite; at: number }
  | { kind: 'delete'; full: string; at: number }
  | { kind: 'tag'; tag: string }
type KeyChange = Exclude<Change, { kind: 'tag' }>

/** Changes sent again per round trip. */
const CHUNK = 500

/**
 * Writes, deletes and tag invalidations L2 did not take, replayed in order once L2 answers again,
 * so an outage loses no update. One change per key (the latest wins) and per tag; when `max`
 * changes wait, further keys are only remembered by name and deleted from L2 on recovery, and
 * past twice that the whole cache is cleared from L2 on recovery: an old value never survives
 * looking fresh. Every replayed key and tag is announced on the bus.
 */
export class Recovery {
  readonly #core: CacheCore
  readonly #max: number
  readonly #changes = new Map<string, Change>()
  /** Keys whose change did not fit: deleted from L2 on recovery. */
  readonly #lost = new Set<string>()
  /** Too many lost keys to remember: the whole cache is cleared from L2 on recovery. */
  #lostAll = false
  #replaying = false
  /** The next replay: housekeeping, so an unref'd entry of the timer service. */
  readonly #retry = new Timeout(() => void this.replay(), { ref: false, name: 'hotpath:cache:replay' })
  replayed = 0
  dropped = 0

  constructor(core: CacheCore, max: number) {
    this.#core = core
    this.#max = max
  }

  /** Changes waiting (keys remembered by name count too). */
  get size(): number {
    return this.#changes.size + this.#lost.size + (this.#lostAll ? 1 : 0)
  }

  /**
   * What L2 will hold for `full` once replayed: the waiting value, `null` for a waiting deletion,
   * `undefined` when nothing waits (reads then ask L2).
   */
  pending(full: string): StoredValue | null | undefined {
    const change = this.#changes.get(`k${full}`)
    if (change !== undefined) return change.kind === 'set' ? change.write.value : null
    return this.#lostAll || this.#lost.has(full) ? null : undefined
  }

  /** Whether an invalidation of `tag` is waiting: its version in L2 is outdated until replayed. */
  tagPending(tag: string): boolean {
    return this.#lostAll || this.#changes.has(`t${tag}`)
  }

  /** A newer change of `full` is being sent: the waiting one must not overwrite it. */
  supersede(full: string): void {
    this.#changes.delete(`k${full}`)
    this.#lost.delete(full)
  }

  /** Every key under `prefix` was cleared from L2 after its waiting change: nothing to replay. */
  supersedePrefix(prefix: string): void {
    for (const [id, change] of this.#changes) {
      if (change.kind !== 'tag' && change.full.startsWith(prefix)) this.#changes.delete(id)
    }
    for (const full of this.#lost) if (full.startsWith(prefix)) this.#lost.delete(full)
    if (prefix === '') this.#lostAll = false
  }

  supersedeTag(tag: string): void {
    this.#changes.delete(`t${tag}`)
  }

  keepWrite(full: string, write: StoreWrite, at: number): void {
    this.#keep(`k${full}`, { kind: 'set', full, write, at })
  }

  keepDelete(full: string): void {
    this.#keep(`k${full}`, { kind: 'delete', full, at: getClock().now() })
  }

  keepTag(tag: string): void {
    this.#keep(`t${tag}`, { kind: 'tag', tag })
  }

  #keep(id: string, change: Change): void {
    const changes = this.#changes
    let dropped = 0
    if (changes.has(id))
      changes.delete(id) // re-inserted last: the latest change of a key wins
    else if (changes.size >= this.#max) {
      // The oldest change of a key gives up its value and is remembered by name only.
      for (const [oldId, old] of changes) {
        if (old.kind === 'tag') continue
        changes.delete(oldId)
        this.#forgetValue(old.full)
        dropped++
        break
      }
      if (dropped === 0) {
        // Only tag invalidations wait, and they cannot be kept by name: the whole cache is
        // cleared from L2 on recovery instead, which covers this change too.
        this.#lostAll = true
        this.#note('dropped', 1)
        this.#arm()
        return
      }
    }
    if (change.kind !== 'tag') this.#lost.delete(change.full)
    changes.set(id, change)
    this.#note('queued', 1)
    if (dropped > 0) this.#note('dropped', dropped)
    this.#arm()
  }

  #forgetValue(full: string): void {
    if (this.#lostAll) return
    if (this.#lost.size >= this.#max) {
      this.#lostAll = true
      this.#lost.clear()
      return
    }
    this.#lost.add(full)
  }

  #note(event: RecoveryEvent['event'], count: number): void {
    if (event === 'dropped') this.dropped += count
    else if (event === 'replayed') this.replayed += count
    if (recoveryChannel.active)
      recoveryChannel.publish({ cache: this.#core.name, event, count, pending: this.size })
  }

  /** Retries on its own while changes wait; the timer never keeps an idle process alive. */
  #arm(): void {
    if (this.#retry.pending || this.#core.closed) return
    // Right when the breaker lets a probe out, so the replay is that probe.
    const breaker = this.#core.l2!.breaker
    const delay = Math.max(50, breaker.probeIn || Math.min(breaker.cooldown, 5_000))
    getTimerService().add(this.#retry, delay)
  }

  /** Sends waiting changes to L2, in order, until none is left or L2 fails again. */
  async replay(): Promise<void> {
    if (this.#replaying || this.size === 0 || this.#core.closed) return
    this.#replaying = true
    getTimerService().remove(this.#retry)
    try {
      while (this.size > 0 && !this.#core.closed) {
        if (!(await this.#step())) {
          this.#arm()
          return
        }
      }
    } finally {
      this.#replaying = false
    }
  }

  /**
   * One round trip (two for keys: their current L2 copies are read and compared first, then
   * written where they did not change meanwhile); false on failure.
   */
  async #step(): Promise<boolean> {
    const core = this.#core
    const l2 = core.l2!
    try {
      if (this.#lostAll) {
        await l2.run('clear', (s) => s.clear(core.storeKey('')))
        this.#lostAll = false
        this.#lost.clear()
        core.publish({ c: '' })
        this.#note('replayed', 1)
        return true
      }
      if (this.#lost.size > 0) {
        // The first CHUNK keys only: copying the whole set per chunk is quadratic in its size.
        const fulls: string[] = []
        for (const full of this.#lost) {
          fulls.push(full)
          if (fulls.length === CHUNK) break
        }
        await l2.run('delete', (s) => s.delete(fulls.map((full) => core.storeKey(full))))
        for (const full of fulls) this.#lost.delete(full)
        core.publish({ k: fulls })
        this.#note('replayed', fulls.length)
        return true
      }
      return await this.#replayChanges()
    } catch {
      return false
    }
  }

  async #replayChanges(): Promise<boolean> {
    const core = this.#core
    const l2 = core.l2!
    const batch: [string, Change][] = []
    for (const entry of this.#changes) {
      batch.push(entry)
      if (batch.length === CHUNK) break
    }
    const keyed = batch.filter(([, change]) => change.kind !== 'tag') as [string, KeyChange][]
    // Another instance may have written a key since: a change older than what L2 holds is dropped.
    const current =
      keyed.length === 0
        ? []
        : await l2.run('getMany', (s) => s.getMany(keyed.map(([, change]) => core.storeKey(change.full))))
    const swaps: [string, KeyChange, StoredValue | null][] = []
    const tags: string[] = []
    const sent: [string, Change][] = []
    const newer: string[] = []
    keyed.forEach(([id, change], i) => {
      // Superseded meanwhile by a newer change of this instance.
      if (this.#changes.get(id) !== change) return
      // A tie is replayed: it is most often this very write, landed after it timed out.
      const storedAt = core.storedSetAt(current[i])
      if (storedAt !== undefined && storedAt > change.at) {
        this.#changes.delete(id)
        newer.push(change.full)
        return
      }
      swaps.push([id, change, current[i] ?? null])
    })
    for (const [id, change] of batch) {
      if (change.kind !== 'tag') continue
      tags.push(change.tag)
      sent.push([id, change])
    }
    // This instance's L1 may hold its own older value: it reads L2 again.
    for (const full of newer) core.invalidateLocal(full)
    const generation = core.tags.generation
    const [, versions] = await Promise.all([
      this.#sendKeys(swaps, sent),
      tags.length === 0 ? undefined : l2.run('bumpTagVersions', (s) => s.bumpTagVersions(tags)),
    ])
    const keys: string[] = [...newer]
    for (const [id, change] of sent) {
      if (this.#changes.get(id) === change) this.#changes.delete(id)
      if (change.kind !== 'tag') {
        keys.push(change.full)
        core.invalidateLocal(change.full)
      }
    }
    const pairs: [string, number][] = tags.map((tag, i) => [tag, versions![i]!])
    for (const [tag, version] of pairs) core.tags.observeSince(generation, tag, version)
    if (keys.length > 0 || pairs.length > 0)
      core.publish(
        pairs.length === 0 ? { k: keys } : keys.length === 0 ? { t: pairs } : { k: keys, t: pairs },
      )
    // Nothing to report when every key changed meanwhile (they are read again on the next step).
    if (sent.length + newer.length > 0) this.#note('replayed', sent.length + newer.length)
    return true
  }

  /**
   * Writes and deletes the keys judged older in L2, adding those sent to `sent`. A store that can
   * compare and set applies each one only if the key still holds what was read: a key written
   * since stays queued and is read and compared again on the next step. Other stores write
   * unconditionally (a write landing between the read and this call can be overwritten).
   */
  async #sendKeys(swaps: [string, KeyChange, StoredValue | null][], sent: [string, Change][]): Promise<void> {
    if (swaps.length === 0) return
    const core = this.#core
    const l2 = core.l2!
    if (l2.store.compareAndSet !== undefined) {
      const applied = await l2.run('compareAndSet', (s) =>
        s.compareAndSet!(
          swaps.map(([, change, expected]) => ({
            key: core.storeKey(change.full),
            expected,
            value: change.kind === 'set' ? change.write.value : null,
            ttl: change.kind === 'set' ? change.write.ttl : 0,
          })),
        ),
      )
      swaps.forEach(([id, change], i) => {
        if (applied[i]) sent.push([id, change])
      })
      return
    }
    const writes: StoreWrite[] = []
    const deletes: string[] = []
    for (const [id, change] of swaps) {
      if (change.kind === 'set') writes.push(change.write)
      else deletes.push(core.storeKey(change.full))
      sent.push([id, change])
    }
    await Promise.all([
      writes.length === 0 ? undefined : l2.run('setMany', (s) => s.setMany(writes)),
      deletes.length === 0 ? undefined : l2.run('delete', (s) => s.delete(deletes)),
    ])
  }

  close(): void {
    getTimerService().remove(this.#retry)
  }
}
