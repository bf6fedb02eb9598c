import { HotpathError, type HotpathErrorOptions } from '@hotpath/core'

/**
 * A loader ran past the hard timeout and no stale value was there to serve instead
 * (`E_CACHE_LOADER_TIMEOUT`). The loader keeps running in the background and its value is stored
 * when it settles.
 *
 * @example
 * try { await cache.getOrSet('k', load, { timeouts: { hard: '1s' } }) }
 * catch (err) { if (err instanceof CacheLoaderTimeoutError) respond503() }
 */
export class CacheLoaderTimeoutError extends HotpathError {
  /** The cache key whose loader timed out. */
  readonly key: string
  /** The hard timeout that elapsed, in milliseconds. */
  readonly timeout: number

  constructor(key: string, timeout: number, options: HotpathErrorOptions = {}) {
    super(
      'E_CACHE_LOADER_TIMEOUT',
      `The loader of key '${key}' did not settle within ${timeout} ms; raise \`timeouts.hard\` or give the key a \`grace\` period so a stale value can be served.`,
      options,
    )
    this.key = key
    this.timeout = timeout
  }
}

/**
 * An L2 call did not answer within `l2Timeout` (`E_CACHE_L2_TIMEOUT`). Reads treat it as a miss;
 * it surfaces only from calls that must reach L2 (such as `invalidateTags`).
 *
 * @example
 * cache.stats().l2.timeouts // counts these
 */
export class CacheL2TimeoutError extends HotpathError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeout: number

  constructor(operation: string, timeout: number, options: HotpathErrorOptions = {}) {
    super(
      'E_CACHE_L2_TIMEOUT',
      `The L2 store did not answer '${operation}' within ${timeout} ms; check the store's health or raise \`l2Timeout\`.`,
      options,
    )
    this.timeout = timeout
  }
}

/**
 * L2 is not usable right now (`E_CACHE_L2_UNAVAILABLE`): the circuit breaker is open or the client
 * is not connected. Reads fall back to L1, grace and the loader.
 *
 * @example
 * if (err instanceof CacheL2UnavailableError) log.warn('serving from memory only')
 */
export class CacheL2UnavailableError extends HotpathError {
  constructor(reason: string, options: HotpathErrorOptions = {}) {
    super(
      'E_CACHE_L2_UNAVAILABLE',
      `The L2 store is unavailable (${reason}); it is retried by itself.`,
      options,
    )
  }
}

/**
 * A stored value could not be encoded or decoded, or was refused because it tries to pollute
 * prototypes (`E_CACHE_CODEC`). A read that meets it behaves as a miss.
 *
 * @example
 * jsonCodec().decode('{"__proto__":{"admin":true}}') // throws CacheCodecError
 */
export class CacheCodecError extends HotpathError {
  constructor(message: string, options: HotpathErrorOptions = {}) {
    super('E_CACHE_CODEC', message, options)
  }
}

/**
 * The cache was closed (`E_CACHE_CLOSED`); create a new one.
 *
 * @example
 * await cache.close()
 * await cache.get('k') // rejects with CacheClosedError
 */
export class CacheClosedError extends HotpathError {
  constructor() {
    super('E_CACHE_CLOSED', 'The cache is closed; create a new one with createCache().')
  }
}

/**
 * The cache's error classes by name.
 *
 * @example
 * if (err instanceof errors.CacheLoaderTimeoutError) ...
 */
export const errors = {
  CacheLoaderTimeoutError,
  CacheL2TimeoutError,
  CacheL2UnavailableError,
  CacheCodecError,
  CacheClosedError,
} as const
