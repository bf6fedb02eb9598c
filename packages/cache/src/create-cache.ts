import {
  checkInteger,
  checkKnownOptions,
  checkOneOf,
  checkOptionsObject,
  checkString,
  type Duration,
  invalidOption,
  parseDuration,
} from '@hotpath/core'
import { Cache } from './cache'
import { type Codec, jsonCodec } from './codec'
import { CacheCore } from './core'
import { createL1, type L1Options } from './l1'
import { L2Tier } from './l2-tier'
import type { CacheLock } from './lock'
import { type CachePolicy, DEFAULT_POLICY, POLICY_OPTIONS, resolvePolicy } from './options'
import type { CacheBus, CacheStore } from './store'

/**
 * Circuit breaker settings of the L2 tier.
 *
 * @example
 * const cache = createCache({ l2: redisStore({ client }), breaker: { threshold: 3, cooldown: '10s' } })
 */
export interface BreakerOptions {
  /**
   * Consecutive L2 failures (errors or timeouts) that open the breaker.
   * @default 5
   */
  threshold?: number
  /**
   * How long L2 is skipped once the breaker opens; then one probe call decides.
   * @default '5s'
   */
  cooldown?: Duration
}

/**
 * Options of {@link createCache}. Policy fields are the defaults of every namespace and call.
 *
 * @example
 * const options: CacheOptions = { namespace: 'router', l1: { maxEntries: 5_000 }, ttl: '5m', grace: '1h' }
 * const cache = createCache(options)
 */
export interface CacheOptions extends CachePolicy {
  /**
   * The cache's name: part of every L2 key and bus message, so caches sharing one Redis stay apart.
   * @default 'cache'
   */
  namespace?: string
  /**
   * L1 bounds, or `false` for no L1 (every read goes to L2).
   * @default { maxEntries: 10_000 }
   */
  l1?: L1Options | false
  /**
   * The L2 store (`redisStore`, `kyselyStore`).
   * @default none
   */
  l2?: CacheStore
  /**
   * Cross-instance invalidation (`redisBus`).
   * @default none
   */
  bus?: CacheBus
  /**
   * How changes made elsewhere reach this instance's L1. `'bus'`: the `bus` carries this
   * package's own invalidations between cache instances. `'tracking'`: Redis itself reports every
   * change of a cached key or tag counter, whoever made it (another service, `redis-cli`, a raw
   * client), through client-side caching (`CLIENT TRACKING ... BCAST`) on one extra connection per
   * cache; needs `l2: redisStore(...)` on a single Redis server (not a Cluster) and no `bus`.
   * `'both'`: the two together (needs `bus` too). While tracking is not connected, and once again
   * when it is set up, L1 entries from before stop counting as fresh (they remain usable as
   * stale values within `grace`).
   * @default 'bus'
   */
  invalidation?: 'bus' | 'tracking' | 'both'
  /**
   * Cross-instance single-flight (`redisLock`): on a miss one instance loads the key while the
   * others wait for its value in L2, within their own loader timeouts. Needs `l2`; while the lock
   * cannot answer, each instance loads on its own.
   * @default none
   */
  lock?: CacheLock
  /**
   * Bound of every L2 call; a call past it counts as a failure and the caller goes on without L2.
   * @default '200ms'
   */
  l2Timeout?: Duration
  /**
   * The L2 circuit breaker.
   * @default { threshold: 5, cooldown: '5s' }
   */
  breaker?: BreakerOptions
  /**
   * Most writes, deletes and tag invalidations kept while L2 cannot take them, one per key (the
   * latest wins), replayed in order and announced on the bus once L2 answers again. Past it, keys
   * are only remembered by name and deleted from L2 on recovery (past twice it, the whole cache
   * is cleared from L2): never an old value that looks fresh. `0` turns the queue off: failed
   * writes are then only counted, and `delete`/`invalidateTags` reject with the L2 error.
   * @default 10_000
   */
  recoveryQueue?: number
  /**
   * The codec for both tiers.
   * @default jsonCodec()
   */
  codec?: Codec
  /**
   * Most tag versions kept in memory.
   * @default 100_000
   */
  maxTags?: number
}

/** Option names of {@link CacheOptions}. */
export const CACHE_OPTIONS = [
  ...POLICY_OPTIONS,
  'namespace',
  'l1',
  'l2',
  'bus',
  'invalidation',
  'lock',
  'l2Timeout',
  'breaker',
  'codec',
  'maxTags',
  'recoveryQueue',
] as const
/** Option names of {@link BreakerOptions}. */
export const BREAKER_OPTIONS = ['threshold', 'cooldown'] as const

/**
 * Creates a cache: L1 in memory on lru-cache, optional L2 store and bus.
 *
 * @example
 * import { createCache } from '@hotpath/cache'
 * import { redisBus, redisStore } from '@hotpath/cache/redis'
 *
 * const cache = createCache({
 *   namespace: 'router',
 *   l1: { maxEntries: 10_000, maxBytes: '64mb' },
 *   l2: redisStore({ client }),
 *   bus: redisBus({ client }),
 *   ttl: '5m', grace: '1h', timeouts: { soft: '50ms', hard: '2s' },
 * })
 *
 * @example
 * // Keys also written by other services: Redis reports every change (one extra connection).
 * const models = createCache({ namespace: 'models', l2: redisStore({ client }), invalidation: 'tracking' })
 * await redis.set('hotpath:models:j1:gpt-4o', payload) // every instance drops `gpt-4o` from L1
 */
export function createCache<T = unknown>(options: CacheOptions = {}): Cache<T> {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('createCache()', raw, CACHE_OPTIONS)
  const name = checkString('namespace', raw.namespace ?? 'cache')
  const codec = raw.codec ?? jsonCodec()
  if (
    typeof codec?.encode !== 'function' ||
    typeof codec.decode !== 'function' ||
    typeof codec.id !== 'string'
  ) {
    throw invalidOption('codec', 'a codec ({ id, encode, decode })', codec)
  }
  const l1 = createL1(raw.l1)
  const breaker = checkOptionsObject('breaker', raw.breaker)
  checkKnownOptions('`breaker`', breaker, BREAKER_OPTIONS)
  let l2: L2Tier | undefined
  if (raw.l2 !== undefined) {
    if (typeof raw.l2?.get !== 'function') throw invalidOption('l2', 'a cache store', raw.l2)
    l2 = new L2Tier(
      raw.l2,
      parseDuration(raw.l2Timeout ?? 200, 'l2Timeout'),
      checkInteger('breaker.threshold', breaker.threshold ?? 5, { min: 1 }),
      parseDuration(breaker.cooldown ?? 5_000, 'breaker.cooldown'),
    )
  }
  if (l1 === undefined && l2 === undefined) {
    throw invalidOption('l1', 'an L1 options object when there is no `l2`', false)
  }
  if (raw.bus !== undefined && typeof raw.bus?.publish !== 'function')
    throw invalidOption('bus', 'a cache bus', raw.bus)
  const invalidation = checkOneOf('invalidation', raw.invalidation ?? 'bus', [
    'bus',
    'tracking',
    'both',
  ] as const)
  if (invalidation !== 'bus') checkTracking(invalidation, raw.l2, raw.bus)
  if (raw.lock !== undefined) {
    if (typeof raw.lock?.acquire !== 'function') throw invalidOption('lock', 'a cache lock', raw.lock)
    if (l2 === undefined) throw invalidOption('l2', 'a cache store when `lock` is set', raw.l2)
  }
  const maxTags = checkInteger('maxTags', raw.maxTags ?? 100_000, { min: 1 })
  const recoveryQueue = checkInteger('recoveryQueue', raw.recoveryQueue ?? 10_000, { min: 0 })
  const policy = resolvePolicy(DEFAULT_POLICY, raw)
  const core = new CacheCore(
    name,
    codec,
    l1,
    l2,
    raw.bus,
    maxTags,
    recoveryQueue,
    raw.lock,
    invalidation !== 'bus',
  )
  return new Cache<T>(core, '', policy)
}

/** What `invalidation: 'tracking' | 'both'` needs: a store that can track, and a bus for 'both' only. */
function checkTracking(invalidation: 'tracking' | 'both', l2: CacheStore | undefined, bus: unknown): void {
  if (typeof l2?.track !== 'function') {
    throw invalidOption(
      'l2',
      `a store that supports tracking (\`redisStore\` on a single Redis server, not a Cluster) when \`invalidation\` is '${invalidation}'`,
      l2,
    )
  }
  if (invalidation === 'tracking' && bus !== undefined) {
    throw invalidOption('bus', "undefined when `invalidation` is 'tracking' (use 'both' for both)", bus)
  }
  if (invalidation === 'both' && bus === undefined) {
    throw invalidOption('bus', "a cache bus when `invalidation` is 'both'", bus)
  }
}
