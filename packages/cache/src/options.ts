import {
  checkInteger,
  checkKnownOptions,
  checkNumber,
  checkOneOf,
  checkOptionsObject,
  type Duration,
  invalidOption,
  parseDuration,
} from '@hotpath/core'

/**
 * Loader timeouts.
 *
 * @example
 * const timeouts: LoaderTimeouts = { soft: '50ms', hard: '2s' }
 * const cache = createCache({ ttl: '5m', grace: '1h', timeouts })
 */
export interface LoaderTimeouts {
  /**
   * When a stale value is at hand, serve it once the loader has run this long and let the loader
   * finish in the background. `0` is stale-while-revalidate: serve stale at once. Must not exceed
   * `hard` (a `TypeError` otherwise, also when one of the two is inherited).
   * @default 0
   */
  soft?: Duration
  /**
   * Give up waiting for the loader after this long: serve stale if there is some, otherwise reject
   * with `CacheLoaderTimeoutError`. The loader still finishes in the background and its value is
   * stored. `Infinity` waits as long as the loader takes.
   * @default Infinity
   */
  hard?: Duration | typeof Number.POSITIVE_INFINITY
}

/**
 * Per-kind caching policy: cache-wide, per namespace, or per call.
 *
 * @example
 * const policy: CachePolicy = { ttl: '1m', grace: '5m', jitter: 0.1, eagerRefresh: 0.8 }
 * const health = cache.namespace('health', policy)
 */
export interface CachePolicy {
  /**
   * How long a value is fresh. `0` does not store it.
   * @default '5m'
   */
  ttl?: Duration
  /**
   * How long after expiry a value may still be served: while it reloads (stale-while-revalidate,
   * see `timeouts.soft`) and when its loader fails or times out (fail-safe). `0` disables it.
   * @default 0
   */
  grace?: Duration
  /**
   * Random reduction of each ttl, as a fraction (0.1 → between 90% and 100% of `ttl`), so keys
   * written together do not expire together.
   * @default 0
   */
  jitter?: number
  /**
   * Fraction of the ttl after which a hit through `getOrSet` starts a background reload (0.8 → at
   * 80% of the ttl). `0` disables it.
   * @default 0
   */
  eagerRefresh?: number
  /**
   * Ttl of a `null` or `undefined` loader result (negative caching). `0` does not store them.
   * @default the `ttl`
   */
  negativeTtl?: Duration
  /** Loader timeouts. @default { soft: 0, hard: Infinity } */
  timeouts?: LoaderTimeouts
  /**
   * After a failed reload that served a stale value, no new load is tried for this long.
   * @default '10s'
   */
  failSafeRetry?: Duration
  /**
   * Whether a write waits for L2 (`'await'`) or returns once L1 holds it (`'background'`; L2
   * errors are then only counted).
   * @default 'await'
   */
  l2Write?: 'await' | 'background'
}

/** Option names of {@link CachePolicy}, also accepted by `createCache`, namespaces and `getOrSet`. */
export const POLICY_OPTIONS = [
  'ttl',
  'grace',
  'jitter',
  'eagerRefresh',
  'negativeTtl',
  'timeouts',
  'failSafeRetry',
  'l2Write',
] as const
/** Option names of {@link LoaderTimeouts}. */
export const TIMEOUT_OPTIONS = ['soft', 'hard'] as const
/** Option names of {@link SetOptions}. */
export const SET_OPTIONS = ['ttl', 'grace', 'jitter', 'l2Write', 'tags'] as const
/** Field names of {@link CacheEntryInput}. */
export const ENTRY_OPTIONS = ['key', 'value', ...SET_OPTIONS] as const
/** Option names of {@link GetOrSetOptions}. */
export const GET_OR_SET_OPTIONS = [...POLICY_OPTIONS, 'tags', 'signal'] as const

/** A policy with every field resolved to milliseconds. */
export interface ResolvedPolicy {
  readonly ttl: number
  readonly grace: number
  readonly jitter: number
  readonly eager: number
  readonly negativeTtl: number
  readonly soft: number
  readonly hard: number
  readonly retry: number
  readonly l2Background: boolean
}

export const DEFAULT_POLICY: ResolvedPolicy = Object.freeze({
  ttl: 300_000,
  grace: 0,
  jitter: 0,
  eager: 0,
  negativeTtl: 300_000,
  soft: 0,
  hard: Number.POSITIVE_INFINITY,
  retry: 10_000,
  l2Background: false,
})

/**
 * Merges a user policy over a resolved one, validating every field. Option names are checked by
 * the caller, which knows what else its options object may hold.
 */
export function resolvePolicy(
  base: ResolvedPolicy,
  policy: CachePolicy | undefined,
  name = 'options',
): ResolvedPolicy {
  if (policy === undefined) return base
  const raw = checkOptionsObject(name, policy)
  const ttl = raw.ttl === undefined ? base.ttl : parseDuration(raw.ttl, 'ttl')
  const timeouts = checkOptionsObject('timeouts', raw.timeouts)
  checkKnownOptions('`timeouts`', timeouts, TIMEOUT_OPTIONS)
  const eager =
    raw.eagerRefresh === undefined
      ? base.eager
      : checkNumber('eagerRefresh', raw.eagerRefresh, { min: 0, max: 1 })
  const resolved: ResolvedPolicy = {
    ttl,
    grace: raw.grace === undefined ? base.grace : parseDuration(raw.grace, 'grace'),
    jitter: raw.jitter === undefined ? base.jitter : checkNumber('jitter', raw.jitter, { min: 0, max: 1 }),
    eager: eager === 1 ? 0 : eager,
    negativeTtl:
      raw.negativeTtl !== undefined
        ? parseDuration(raw.negativeTtl, 'negativeTtl')
        : raw.ttl !== undefined && base.negativeTtl === base.ttl
          ? ttl
          : base.negativeTtl,
    soft: timeouts.soft === undefined ? base.soft : parseDuration(timeouts.soft, 'timeouts.soft'),
    hard:
      timeouts.hard === undefined
        ? base.hard
        : parseDuration(timeouts.hard, 'timeouts.hard', { allowInfinity: true }),
    retry: raw.failSafeRetry === undefined ? base.retry : parseDuration(raw.failSafeRetry, 'failSafeRetry'),
    l2Background:
      raw.l2Write === undefined
        ? base.l2Background
        : checkOneOf('l2Write', raw.l2Write, ['await', 'background'] as const) === 'background',
  }
  // A soft timeout past the hard one would keep a caller holding a stale value waiting beyond
  // `hard`, the bound it was promised.
  if (resolved.soft > resolved.hard) {
    throw invalidOption(
      'timeouts.soft',
      `a duration <= \`timeouts.hard\` (${resolved.hard} ms)`,
      timeouts.soft ?? resolved.soft,
    )
  }
  return Object.freeze(resolved)
}

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }

/** Parses `1048576`, `'512kb'`, `'64mb'`, `'1gb'` into bytes. */
export function parseBytes(value: unknown, name: string): number {
  if (typeof value === 'number') return checkInteger(name, value, { min: 1 })
  if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i.exec(value.trim())
    if (match) {
      const bytes = Math.floor(Number(match[1]) * BYTE_UNITS[match[2]!.toLowerCase()]!)
      if (bytes >= 1) return bytes
    }
  }
  throw invalidOption(name, "a byte size (an integer >= 1, or a string like '512kb', '64mb')", value)
}

/**
 * Options of `set`.
 *
 * @example
 * const options: SetOptions = { ttl: '1m', tags: ['provider:openai'], l2Write: 'background' }
 * await cache.set('health:openai', { ok: true }, options)
 */
export interface SetOptions extends Pick<CachePolicy, 'ttl' | 'grace' | 'jitter' | 'l2Write'> {
  /**
   * Tags to invalidate the value with (`invalidateTags`).
   * @default none
   */
  tags?: readonly string[]
}

/**
 * Options of `getOrSet` and `getOrSetMany`.
 *
 * @example
 * const options: GetOrSetOptions = { ttl: '10m', tags: [`user:${id}`], signal: request.signal }
 * const user = await cache.getOrSet(`user:${id}`, () => db.users.find(id), options)
 */
export interface GetOrSetOptions extends CachePolicy {
  /**
   * Tags stored with the loaded value.
   * @default none
   */
  tags?: readonly string[]
  /**
   * Stops this caller's wait (the load goes on for others).
   * @default none
   */
  signal?: AbortSignal
}

/**
 * One entry of `setMany` or `warm`.
 *
 * @example
 * const entry: CacheEntryInput<number> = { key: 'count', value: 42, ttl: '1m', tags: ['counters'] }
 * await cache.setMany([entry])
 */
export interface CacheEntryInput<T = unknown> extends SetOptions {
  /** The key. */
  key: string
  /** The value. */
  value: T
}
