import {
  abortable,
  checkFunction,
  checkKnownOptions,
  checkSignal,
  checkString,
  coarseNow,
  describeMetrics,
  getClock,
  invalidOption,
  metricsSource,
} from '@hotpath/core'
import { loadMany, type ManyLoader } from './batch'
import { checkKey, checkKeys, checkOptions } from './cache-checks'
import { readMany } from './cache-read-many'
import {
  clearPrefix,
  deleteFulls,
  invalidateFullTags,
  type PreparedWrite,
  storePrepared,
} from './cache-writes'
import type { CacheCore, Loader } from './core'
import type { Entry } from './entry'
import { CacheClosedError } from './errors'
import type { LoaderContext } from './loader-context'
import {
  type CacheEntryInput,
  type CachePolicy,
  ENTRY_OPTIONS,
  GET_OR_SET_OPTIONS,
  type GetOrSetOptions,
  POLICY_OPTIONS,
  type ResolvedPolicy,
  resolvePolicy,
  SET_OPTIONS,
  type SetOptions,
} from './options'
import { buildStats, type CacheStats } from './stats'

/**
 * What `getOrSet` and `getOrSetMany` resolve to: the loader's own type on an untyped cache
 * (`Cache<unknown>`), the cache's type otherwise (so a loader returning `1` on a `Cache<number>`
 * gives `number`, not the literal `1`).
 *
 * @example
 * const user = await createCache().getOrSet('user:1', async () => ({ id: 1 })) // { id: number }
 * const count = await createCache<number>().getOrSet('n', () => 1) // number
 */
export type Loaded<T, V> = unknown extends T ? V : T

/**
 * A multi-tier cache (or one namespace of it). Create it with {@link createCache}.
 *
 * @example
 * const cache = createCache({ ttl: '5m' })
 * const user = await cache.getOrSet(`user:${id}`, () => db.users.find(id))
 */
export class Cache<T = unknown> {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `cache` metrics. */
  readonly [metricsSource] = describeMetrics('cache', () => this.stats())
  readonly #core: CacheCore
  readonly #prefix: string
  readonly #policy: ResolvedPolicy

  /** @internal Use {@link createCache}. */
  constructor(core: CacheCore, prefix: string, policy: ResolvedPolicy) {
    this.#core = core
    this.#prefix = prefix
    this.#policy = policy
  }

  /** The key prefix of this namespace ('' for the root). */
  get prefix(): string {
    return this.#prefix
  }

  /**
   * Returns the fresh value of `key`, or `undefined`. An L1 hit costs no network call, and
   * repeated hits on one entry share one resolved promise.
   *
   * @example
   * const model = await cache.get('model:gpt-4o')
   */
  get(key: string): Promise<T | undefined> {
    // Before the L1 lookup: on a namespace a non-string key would read 'ns:undefined'.
    if (typeof key !== 'string') checkKey(key)
    const full = this.#full(key)
    if (!this.#core.closed) {
      const entry = this.#core.l1Hit(full)
      if (entry !== undefined) return entry.settled() as Promise<T>
    }
    return this.#getSlow(full)
  }

  /**
   * Synchronous L1-only read: the fresh value this process holds for `key`, or `undefined`.
   * Never calls L2 or a loader, so `undefined` means "not in memory", not "not cached". Tags,
   * TTL and bus invalidations apply as for {@link get}; hits and misses count as L1's. Throws
   * {@link CacheClosedError} once the cache is closed.
   *
   * @example
   * const model = cache.peek('model:gpt-4o') ?? (await cache.get('model:gpt-4o'))
   */
  peek(key: string): T | undefined {
    const core = this.#core
    core.assertOpen()
    if (typeof key !== 'string') checkKey(key)
    const entry = core.l1Hit(this.#full(key))
    if (entry !== undefined) return entry.value as T
    if (core.l1 !== undefined) core.l1.counters.misses++
    return undefined
  }

  #full(key: string): string {
    return this.#prefix === '' ? key : this.#prefix + key
  }

  #getSlow(full: string): Promise<T | undefined> {
    return this.#core.getSlow(full, this.#policy) as Promise<T | undefined>
  }

  /**
   * Returns the value of `key`, loading it with `loader` on a miss. One loader runs per key at a
   * time across all callers; grace, timeouts and eager refresh apply. On an untyped cache the
   * result has the loader's type (inferred, see {@link Loaded}); on a `Cache<T>` the loader must
   * return a `T`.
   *
   * @example
   * const providers = await cache.getOrSet('providers', () => db.providers.list(), { ttl: '10m' })
   */
  getOrSet<V extends T>(
    key: string,
    loader: (ctx: LoaderContext<T>) => V | PromiseLike<V>,
    options?: GetOrSetOptions,
  ): Promise<Loaded<T, V>> {
    const core = this.#core
    if (typeof key !== 'string') checkKey(key)
    const full = this.#full(key)
    if (typeof loader !== 'function') checkFunction('loader', loader)
    if (options !== undefined) checkKnownOptions('getOrSet()', checkOptions(options), GET_OR_SET_OPTIONS)
    if (!core.closed) {
      const entry = core.l1Hit(full)
      if (entry !== undefined) {
        if (entry.refreshAt <= coarseNow())
          this.#refresh(key, full, entry, loader as Loader<unknown>, options)
        return entry.settled() as Promise<Loaded<T, V>>
      }
    }
    // Joining a load already in flight (a stampede) costs one map lookup and shares its promise.
    if (options?.signal === undefined && core.flights.has(full))
      return core.flights.do(full, noop) as Promise<Loaded<T, V>>
    return this.#getOrSetSlow(key, full, loader as Loader<unknown>, options)
  }

  #refresh(
    key: string,
    full: string,
    entry: Entry,
    loader: Loader<unknown>,
    options: GetOrSetOptions | undefined,
  ): void {
    const policy = this.#resolve(options)
    entry.refreshAt = getClock().now() + policy.retry
    this.#core.startLoad(full, key, loader, policy, this.#tags(options?.tags), entry)
  }

  #getOrSetSlow<R>(
    key: string,
    full: string,
    loader: Loader<unknown>,
    options: GetOrSetOptions | undefined,
  ): Promise<R> {
    const policy = this.#resolve(options)
    const signal = checkSignal('signal', options?.signal)
    const tags = this.#tags(options?.tags)
    const run = this.#core.closed
      ? Promise.reject(new CacheClosedError())
      : this.#core.resolve(full, key, loader, policy, tags)
    return (signal ? abortable(run, signal) : run) as Promise<R>
  }

  /**
   * Stores a value in L1 and L2 and tells other instances to drop their copy.
   *
   * @example
   * await cache.set('health:openai', { ok: true }, { ttl: '1m', tags: ['provider:openai'] })
   */
  set(key: string, value: T, options?: SetOptions): Promise<void> {
    if (options !== undefined) checkKnownOptions('set()', checkOptions(options), SET_OPTIONS)
    return storePrepared(this.#core, this.#policy, [this.#prepare(key, value, options)], false)
  }

  /**
   * Stores several values with one L2 call.
   *
   * @example
   * await cache.setMany([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: '1m' }])
   */
  setMany(entries: readonly CacheEntryInput<T>[]): Promise<void> {
    return storePrepared(this.#core, this.#policy, this.#prepareEntries(entries, 'setMany()'), false)
  }

  /** Checks every entry before anything is stored, so a bad one throws and stores nothing. */
  #prepareEntries(entries: unknown, where: string): PreparedWrite[] {
    if (!Array.isArray(entries)) throw invalidOption('entries', 'an array of { key, value }', entries)
    const prepared: PreparedWrite[] = []
    for (let i = 0; i < entries.length; i++) {
      const input: unknown = entries[i]
      if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        throw invalidOption(`entries[${i}]`, 'an object { key, value }', input)
      }
      checkKnownOptions(`${where} entries`, input, ENTRY_OPTIONS)
      const { key, value } = input as CacheEntryInput<T>
      prepared.push(this.#prepare(key, value, input as SetOptions))
    }
    return prepared
  }

  #prepare(key: string, value: unknown, options: SetOptions | undefined): PreparedWrite {
    checkKey(key)
    return {
      full: this.#prefix + key,
      value,
      policy: this.#resolve(options),
      tags: this.#tags(options?.tags),
    }
  }

  /**
   * Returns values in key order, `undefined` for a miss; L1 first, then one L2 call for the rest.
   *
   * @example
   * const [a, b] = await cache.getMany(['a', 'b'])
   */
  getMany(keys: readonly string[]): Promise<(T | undefined)[]> {
    return readMany(this.#core, this.#prefix, this.#policy, checkKeys(keys))
  }

  /**
   * Returns values in key order, loading every missing key with ONE loader call that receives only
   * the missing keys (as an array; return values aligned with it, or a Map by key). Keys already
   * loading elsewhere are joined, not loaded twice. Types as for {@link getOrSet}.
   *
   * @example
   * const users = await cache.getOrSetMany(ids, (missing) => db.users.findMany(missing))
   */
  getOrSetMany<V extends T>(
    keys: readonly string[],
    loader: ManyLoader<V>,
    options?: GetOrSetOptions,
  ): Promise<Loaded<T, V>[]> {
    checkKeys(keys)
    checkFunction('loader', loader)
    if (options !== undefined) checkKnownOptions('getOrSetMany()', checkOptions(options), GET_OR_SET_OPTIONS)
    const signal = checkSignal('signal', options?.signal)
    const policy = this.#resolve(options)
    const tags = this.#tags(options?.tags)
    const core = this.#core
    const run = core.closed
      ? Promise.reject(new CacheClosedError())
      : loadMany(core, this.#prefix, keys, loader, policy, tags)
    return (signal ? abortable(run, signal) : run) as Promise<Loaded<T, V>[]>
  }

  /**
   * Deletes a key from both tiers and from other instances' L1. When L2 cannot take it, the
   * deletion waits in the recovery queue and is replayed (and announced) once L2 answers; with
   * `recoveryQueue: 0` the promise rejects with the L2 error instead.
   *
   * @example
   * await cache.delete('user:1')
   */
  delete(key: string): Promise<void> {
    return deleteFulls(this.#core, [this.#prefix + checkKey(key)])
  }

  /**
   * Deletes several keys with one L2 call.
   *
   * @example
   * await cache.deleteMany(['user:1', 'user:2'])
   */
  deleteMany(keys: readonly string[]): Promise<void> {
    return deleteFulls(
      this.#core,
      checkKeys(keys).map((key) => this.#prefix + key),
    )
  }

  /**
   * Invalidates every value stored with any of `tags` (in this namespace), on every instance. An L1
   * hit checks tags against versions kept in memory, so tags cost no network call on reads. When
   * L2 cannot take it, values with these tags are not served as fresh here meanwhile, and the
   * invalidation is replayed once L2 answers; with `recoveryQueue: 0` the promise rejects instead.
   *
   * @example
   * await cache.invalidateTags(['provider:openai'])
   */
  invalidateTags(tags: readonly string[]): Promise<void> {
    if (!Array.isArray(tags)) throw invalidOption('tags', 'an array of strings', tags)
    return invalidateFullTags(this.#core, this.#tags(tags))
  }

  /**
   * Removes every value of this namespace (the root clears all namespaces), in both tiers and on
   * every instance.
   *
   * @example
   * await cache.namespace('models').clear()
   */
  clear(): Promise<void> {
    return clearPrefix(this.#core, this.#prefix)
  }

  /**
   * A view whose keys live under `name:` with its own policy (per-kind TTLs); it shares L1, L2,
   * the bus and the stats with its parent.
   *
   * @example
   * const models = cache.namespace('models', { ttl: '5m' })
   * const health = cache.namespace('health', { ttl: '1m', grace: '5m' })
   */
  namespace<U = T>(name: string, policy?: CachePolicy): Cache<U> {
    checkString('name', name)
    if (policy !== undefined) checkKnownOptions('namespace()', checkOptions(policy, 'policy'), POLICY_OPTIONS)
    return new Cache<U>(this.#core, `${this.#prefix}${name}:`, resolvePolicy(this.#policy, policy, 'policy'))
  }

  /**
   * Preloads values (from an array, or a function producing one) without telling other instances;
   * resolves to the number of values stored.
   *
   * @example
   * await cache.namespace('models').warm(async () => (await db.models.list()).map((m) => ({ key: m.id, value: m })))
   */
  warm(
    source: readonly CacheEntryInput<T>[] | (() => Promise<readonly CacheEntryInput<T>[]>),
  ): Promise<number> {
    if (typeof source === 'function') return Promise.resolve(source()).then((entries) => this.#warm(entries))
    return this.#warm(source)
  }

  /** Checks every entry first (nothing stored when one is bad), then stores them chunk by chunk. */
  #warm(entries: readonly CacheEntryInput<T>[]): Promise<number> {
    const prepared = this.#prepareEntries(entries, 'warm()')
    return this.#storeChunks(prepared)
  }

  async #storeChunks(prepared: PreparedWrite[]): Promise<number> {
    for (let i = 0; i < prepared.length; i += WARM_CHUNK) {
      await storePrepared(this.#core, this.#policy, prepared.slice(i, i + WARM_CHUNK), true)
    }
    return prepared.length
  }

  /**
   * A plain snapshot of the counters (shared by all namespaces of a cache).
   *
   * @example
   * const { hitRate, l1, l2 } = cache.stats()
   */
  stats(): CacheStats {
    return buildStats(this.#core)
  }

  /**
   * Closes the cache: pending calls reject with `CacheClosedError`, loaders see `ctx.signal` abort,
   * the bus unsubscribes. Clients passed in by the user are left open.
   *
   * @example
   * await cache.close()
   */
  close(): Promise<void> {
    return this.#core.close()
  }

  /** Same as {@link Cache.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #resolve(options: CachePolicy | undefined): ResolvedPolicy {
    if (options === undefined) return this.#policy
    return resolvePolicy(this.#policy, options)
  }

  #tags(tags: readonly string[] | undefined): string[] | undefined {
    if (tags === undefined) return undefined
    if (!Array.isArray(tags)) throw invalidOption('tags', 'an array of strings', tags)
    if (tags.length === 0) return undefined
    const scope = `${this.#core.name}:${this.#prefix}`
    return tags.map((tag) => scope + checkString('tags[]', tag))
  }
}

const noop = () => {}

/** Entries per L2 call in `warm()`. */
const WARM_CHUNK = 500
