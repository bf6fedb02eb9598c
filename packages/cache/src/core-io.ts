import { getClock } from '@hotpath/core'
import { CoreBase } from './core-base'
import type { Entry } from './entry'
import type { L2Tier } from './l2-tier'
import type { ResolvedPolicy } from './options'
import { raceTimeout, TIMED_OUT } from './race'
import type { StoredValue, StoreWrite } from './store'

const noop = () => {}

/** The cache core's L2 side: writes, tag versions and reads, each bounded by the call's L2 budget. */
export abstract class CoreIO extends CoreBase {
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
    // Before sending: the tracking report of a write can come back before the write's own reply.
    const session = this.expectOwn(writeKeys)
    const work = this.#writeL2(l2, writes, setAts, writeKeys, deleteKeys, silent, session)
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
    session: number | undefined,
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
    // A failed (or timed-out) write may not have been applied: its report is not waited for.
    if (!setsTaken && session !== undefined) this.ownWrites.cancel(writeKeys, session)
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
          const generation = this.tags.generation
          const versions = await this.within(
            this.l2.run('getTagVersions', (s) => s.getTagVersions(unknown)),
            deadline,
          )
          if (versions === TIMED_OUT) return undefined
          for (let i = 0; i < unknown.length; i++)
            this.tags.observeSince(generation, unknown[i]!, versions[i] ?? 0)
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
   * The L2 step of a miss (never throws): a fresh entry is counted as a hit and kept in L1 (unless
   * the key was invalidated meanwhile); an entry only within grace comes back with `fresh: false`.
   * A change of the key still waiting to be replayed is what L2 will hold, so it is read instead.
   * The read is registered as in flight (see `acquire`) unless `register` is false, for a caller
   * that has neither an L1 fill to guard nor a flight for `clear()` to detach.
   */
  async fromL2(
    full: string,
    policy: ResolvedPolicy,
    deadline = this.budget(),
    register = true,
  ): Promise<{ entry: Entry; fresh: boolean } | undefined> {
    const pending = register ? this.acquire(full) : undefined
    try {
      const recovery = this.recovery
      let data = recovery !== undefined && recovery.size > 0 ? recovery.pending(full) : undefined
      if (data === undefined) {
        try {
          // Reads of other keys made in the same tick share this call's round trip (one MGET).
          data = await this.l2!.read(this.storeKey(full))
        } catch {
          return undefined
        }
      }
      const accepted = this.#accept(data, policy, deadline)
      // Only an entry with tags waits for a check: the others skip a microtask hop.
      const entry = accepted instanceof Promise ? await accepted : accepted
      if (entry === undefined) return undefined
      if (entry.expiresAt <= getClock().now()) return { entry, fresh: false }
      this.l2!.counters.hits++
      if (pending !== undefined && !pending.invalidated) this.putL1(full, entry, undefined)
      return { entry, fresh: true }
    } finally {
      if (pending !== undefined) this.release(full, pending)
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
}
