import { getClock } from '@hotpath/core'
import type { CacheCore } from './core'
import type { Entry } from './entry'
import { CacheLoaderTimeoutError } from './errors'
import { BatchLoaderContext } from './loader-context'
import type { ResolvedPolicy } from './options'
import { raceTimeout, TIMED_OUT } from './race'

/**
 * Loads the missing keys of `getOrSetMany` in one call: return values aligned with `missing`, or a
 * Map from key to value (a key absent from the Map loads as `undefined`).
 *
 * @example
 * const loadUsers: ManyLoader<User> = (missing) => db.users.findMany(missing) // aligned with `missing`
 * const users = await cache.getOrSetMany(ids, loadUsers)
 */
export type ManyLoader<T> = (
  missing: string[],
  ctx: BatchLoaderContext,
) => PromiseLike<readonly T[] | ReadonlyMap<string, T>> | readonly T[] | ReadonlyMap<string, T>

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }
type Owned = [full: string, key: string]

const noop = () => {}

export async function loadMany<T>(
  core: CacheCore,
  prefix: string,
  keys: readonly string[],
  loader: ManyLoader<T>,
  policy: ResolvedPolicy,
  tags: string[] | undefined,
): Promise<unknown[]> {
  const out: unknown[] = new Array(keys.length)
  const now = getClock().now()
  const waits: Promise<void>[] = []
  const owned = new Map<string, { key: string; indices: number[] }>()
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    const full = prefix + key
    const entry = core.l1Hit(full, now)
    if (entry !== undefined) {
      out[i] = entry.value
      continue
    }
    const mine = owned.get(full)
    if (mine !== undefined) {
      mine.indices.push(i)
      continue
    }
    if (core.flights.has(full)) {
      const index = i
      waits.push(
        core.flights.do(full, noop).then((value) => {
          out[index] = value
        }),
      )
      continue
    }
    owned.set(full, { key, indices: [i] })
  }
  if (owned.size > 0) {
    const list: Owned[] = []
    for (const [full, { key }] of owned) list.push([full, key])
    const batch = runBatch(core, list, loader, policy, tags)
    batch.catch(noop)
    for (const [full, { indices }] of owned) {
      const flight = core.flights.do(full, () =>
        batch.then((results) => {
          const outcome = results.get(full)!
          if (!outcome.ok) throw outcome.error
          return outcome.value
        }),
      )
      waits.push(
        flight.then((value) => {
          for (const index of indices) out[index] = value
        }),
      )
    }
  }
  await core.track(Promise.all(waits))
  return out
}

async function runBatch<T>(
  core: CacheCore,
  owned: Owned[],
  loader: ManyLoader<T>,
  policy: ResolvedPolicy,
  tags: string[] | undefined,
): Promise<Map<string, Outcome>> {
  const results = new Map<string, Outcome>()
  const stale = new Map<string, Entry>()
  const now = getClock().now()
  for (const [full] of owned) {
    const cached = core.l1?.lru.peek(full)
    if (
      cached !== undefined &&
      cached.staleUntil > now &&
      (cached.tags === undefined || core.tags.valid(cached))
    ) {
      stale.set(full, cached)
    }
  }
  if (core.l1) core.l1.counters.misses += owned.length
  let todo = owned
  // One L2 budget for the whole call: the read, the tag versions and the write share it.
  const deadline = core.l2 === undefined ? undefined : core.budget()
  if (core.l2) {
    const pendings = owned.map(([full]) => core.acquire(full))
    try {
      const entries = await core.readManyL2(
        owned.map(([full]) => full),
        policy,
        deadline,
      )
      const later = getClock().now()
      for (let j = 0; j < owned.length; j++) {
        const entry = entries[j]
        const full = owned[j]![0]
        if (entry === undefined) continue
        if (entry.expiresAt > later) {
          core.l2.counters.hits++
          if (!pendings[j]!.invalidated) core.putL1(full, entry, undefined)
          results.set(full, { ok: true, value: entry.value })
        } else {
          const current = stale.get(full)
          if (current === undefined || entry.setAt > current.setAt) stale.set(full, entry)
        }
      }
    } finally {
      for (let j = 0; j < owned.length; j++) core.release(owned[j]![0], pendings[j]!)
    }
    todo = owned.filter(([full]) => !results.has(full))
  }
  core.counters.misses += todo.length
  const retryNow = getClock().now()
  todo = todo.filter(([full]) => {
    const old = stale.get(full)
    if (old === undefined || old.retryAt <= retryNow) return true
    core.counters.staleServed++
    results.set(full, { ok: true, value: old.value })
    return false
  })
  if (todo.length === 0) return results

  const pendings = todo.map(([full]) => core.acquire(full))
  try {
    const versions = tags === undefined ? undefined : await core.tagVersions(tags, deadline)
    const ctx = new BatchLoaderContext(core.signal, policy.ttl)
    const missing = todo.map(([, key]) => key)
    core.counters.loads++
    const loadStarted = getClock().monotonic()
    const call = Promise.resolve().then(() => loader(missing, ctx))
    const store = (
      loaded: readonly T[] | ReadonlyMap<string, T>,
    ): { values: unknown[]; write?: Promise<void> } => {
      const values = align(loaded, missing)
      if (ctx.skipped || core.closed || (tags !== undefined && versions === undefined)) return { values }
      const items = []
      for (let j = 0; j < todo.length; j++) {
        if (pendings[j]!.invalidated) continue
        items.push({ full: todo[j]![0], entry: core.makeEntry(values[j], ctx.ttl, policy, tags, versions) })
      }
      // The loader's time is not spent waiting for L2: the budget resumes where it stopped.
      const resumed = deadline === undefined ? undefined : deadline + getClock().monotonic() - loadStarted
      return { values, write: core.write(items, policy.l2Background, false, resumed).catch(noop) }
    }
    const fail = (error: unknown) => {
      core.counters.loadErrors++
      const failedAt = getClock().now()
      for (const [full] of todo) {
        const old = stale.get(full)
        if (old === undefined) results.set(full, { ok: false, error })
        else {
          old.retryAt = failedAt + policy.retry
          core.counters.staleServed++
          results.set(full, { ok: true, value: old.value })
        }
      }
    }
    let loaded: readonly T[] | ReadonlyMap<string, T> | typeof TIMED_OUT
    try {
      loaded = await raceTimeout(call, policy.hard)
    } catch (error) {
      fail(error)
      return results
    }
    if (loaded === TIMED_OUT) {
      core.counters.loaderTimeouts++
      // The loader may still finish: its values are stored then.
      call.then(store, noop).catch(noop)
      for (const [full, key] of todo) {
        const old = stale.get(full)
        if (old !== undefined) {
          core.counters.staleServed++
          results.set(full, { ok: true, value: old.value })
        } else results.set(full, { ok: false, error: new CacheLoaderTimeoutError(key, policy.hard) })
      }
      return results
    }
    let stored: ReturnType<typeof store>
    try {
      stored = store(loaded)
    } catch (error) {
      fail(error)
      return results
    }
    if (stored.write) await stored.write
    for (let j = 0; j < todo.length; j++) results.set(todo[j]![0], { ok: true, value: stored.values[j] })
    return results
  } finally {
    for (let j = 0; j < todo.length; j++) core.release(todo[j]![0], pendings[j]!)
  }
}

function align<T>(loaded: readonly T[] | ReadonlyMap<string, T>, missing: string[]): unknown[] {
  if (loaded instanceof Map) return missing.map((key) => loaded.get(key))
  if (Array.isArray(loaded) && loaded.length === missing.length) return loaded as unknown[]
  throw new TypeError(
    `Expected the getOrSetMany loader to return an array of ${missing.length} values or a Map, got ${
      Array.isArray(loaded) ? `an array of ${loaded.length}` : typeof loaded
    }`,
  )
}
