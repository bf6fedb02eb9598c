import { type Duration, parseDuration } from '@hotpath/core'

/**
 * What a loader receives. Tell the cache not to store the result with `skip()`, or give it its own
 * ttl with `setTtl()` (for tokens whose lifetime comes with them).
 *
 * @example
 * await cache.getOrSet(`token:${id}`, async (ctx) => {
 *   const token = await issueToken(id, { signal: ctx.signal })
 *   ctx.setTtl(token.expiresInMs - 5_000)
 *   return token
 * })
 */
export class LoaderContext<T = unknown> {
  /** The key being loaded (without namespace). */
  readonly key: string
  /** The expired value kept in grace, if any (use it for incremental updates). */
  readonly stale: T | undefined
  /** Aborts when the cache closes. */
  readonly signal: AbortSignal
  /** @internal */
  ttl: number
  /** @internal */
  skipped = false

  constructor(key: string, stale: T | undefined, signal: AbortSignal, ttl: number) {
    this.key = key
    this.stale = stale
    this.signal = signal
    this.ttl = ttl
  }

  /**
   * Returns the value to the callers without storing it.
   *
   * @example
   * if (!user.active) ctx.skip()
   */
  skip(): void {
    this.skipped = true
  }

  /**
   * Stores this result with its own ttl.
   *
   * @example
   * ctx.setTtl('30s')
   */
  setTtl(ttl: Duration): void {
    this.ttl = parseDuration(ttl, 'ttl')
  }
}

/**
 * What a batch loader of `getOrSetMany` receives.
 *
 * @example
 * await cache.getOrSetMany(ids, async (missing, ctx) => db.users.findMany(missing, { signal: ctx.signal }))
 */
export class BatchLoaderContext {
  /** Aborts when the cache closes. */
  readonly signal: AbortSignal
  /** @internal */
  ttl: number
  /** @internal */
  skipped = false

  constructor(signal: AbortSignal, ttl: number) {
    this.signal = signal
    this.ttl = ttl
  }

  /**
   * Returns the values without storing them.
   *
   * @example
   * ctx.skip()
   */
  skip(): void {
    this.skipped = true
  }

  /**
   * Stores this batch with its own ttl.
   *
   * @example
   * ctx.setTtl('1m')
   */
  setTtl(ttl: Duration): void {
    this.ttl = parseDuration(ttl, 'ttl')
  }
}
