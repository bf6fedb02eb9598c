import {
  checkOneOf,
  checkString,
  type Duration,
  describeMetrics,
  eventChannel,
  getClock,
  invalidOption,
  type MetricsDescriptor,
  metricsSource,
  parseDuration,
} from '@hotpath/core'
import { concurrencyChannels } from './channels'
import { readOptions } from './internal/options'
import {
  checkConsume,
  LIMIT_SHAPE_OPTIONS,
  type RateLimitAlgorithm,
  RateLimiter,
  type RateLimiterLike,
  type RateLimitResult,
  rateLimitedChannel,
  resolveLimitShape,
} from './rate-limiter'
import { type RedisScriptClient, runScript, type Script } from './redis-client'
import { gcraScript, slidingWindowScript, tokenBucketScript } from './redis-scripts'

/**
 * What a Redis rate limiter does while Redis is unreachable or slower than `timeout`.
 *
 * @example
 * const fallback: RedisFallback = 'deny' // fail closed while Redis is away
 * const limiter = redisRateLimiter({ client: redis, limit: 10, window: '1s', fallback })
 */
export type RedisFallback = 'memory' | 'allow' | 'deny'

/**
 * Message on `hotpath:concurrency:redis-fallback`.
 *
 * @example
 * redisFallbackChannel.subscribe(({ name, state, error }: RedisFallbackEvent) => log.warn({ name, state, err: error }, 'redis fallback'))
 */
export interface RedisFallbackEvent {
  name: string
  /** `'open'` when the limiter leaves Redis, `'close'` when it is back. */
  state: 'open' | 'close'
  error?: unknown
}

/**
 * `hotpath:concurrency:redis-fallback`: a Redis limiter switched to or from its fallback.
 *
 * @example
 * redisFallbackChannel.subscribe(({ name, state }) => log.warn({ name, state }, 'rate limiter fallback'))
 */
export const redisFallbackChannel = eventChannel<RedisFallbackEvent>(concurrencyChannels.redisFallback)

/**
 * Options of {@link redisRateLimiter}.
 *
 * @example
 * const limiter = redisRateLimiter({ client: redis, limit: 1_000, window: '1h', prefix: 'api:rl:', timeout: '20ms', fallback: 'allow' })
 */
export interface RedisRateLimiterOptions {
  /** An ioredis `Redis` or `Cluster` (or anything with `evalsha`/`eval`/`status`). */
  client: RedisScriptClient
  /** Units admitted per `window` (required). */
  limit: number
  /** The window (required). */
  window: Duration
  /**
   * Same algorithms as the in-memory {@link RateLimiter}.
   * @default 'sliding-window'
   */
  algorithm?: RateLimitAlgorithm
  /**
   * Token-bucket capacity / GCRA burst.
   * @default limit
   */
  burst?: number
  /**
   * Sliding-window sub-windows.
   * @default 10
   */
  segments?: number
  /**
   * Key prefix; each limited key is stored as `<prefix>{<key>}` (a hash tag, so a cluster keeps
   * a key's data on one slot).
   * @default 'hp:rl:'
   */
  prefix?: string
  /**
   * Longest wait for Redis per consume; beyond it the fallback answers.
   * @default '50ms'
   */
  timeout?: Duration
  /**
   * `'memory'`: an in-memory limiter with the same settings (counts this process only) answers
   * while Redis is away; `'allow'` admits everything; `'deny'` refuses everything.
   * @default 'memory'
   */
  fallback?: RedisFallback
  /**
   * After a failure, how long to stay on the fallback before trying Redis again.
   * @default '1s'
   */
  retryInterval?: Duration
  /**
   * Most keys of the in-memory fallback.
   * @default 100_000
   */
  maxKeys?: number
  /**
   * Name shown in stats and channels.
   * @default 'redis-rate-limiter'
   */
  name?: string
}

/**
 * A rate limit result that says who answered.
 *
 * @example
 * const { allowed, source }: RedisRateLimitResult = await limiter.consume(apiKey)
 * if (source === 'fallback') degradedAnswers.inc()
 */
export interface RedisRateLimitResult extends RateLimitResult {
  /** `'redis'`, or `'fallback'` when Redis was unavailable or too slow. */
  source: 'redis' | 'fallback'
}

/**
 * Snapshot returned by {@link RedisRateLimiter.stats}.
 *
 * @example
 * const { fallbacks, errors, degraded }: RedisRateLimiterStats = limiter.stats()
 */
export interface RedisRateLimiterStats {
  name: string
  algorithm: RateLimitAlgorithm
  allowed: number
  denied: number
  /** Consumes answered by the fallback. */
  fallbacks: number
  /** Redis errors and timeouts. */
  errors: number
  /** True while the limiter stays on its fallback. */
  degraded: boolean
}

/**
 * A distributed rate limiter; see {@link redisRateLimiter}.
 *
 * @example
 * const limiter: RedisRateLimiter = redisRateLimiter({ client: redis, limit: 100, window: '1m' })
 * if (!(await limiter.consume(userId, 5)).allowed) reply.code(429)
 */
export interface RedisRateLimiter extends RateLimiterLike {
  /** The configured limit per window. */
  readonly limit: number
  /** The configured window in milliseconds. */
  readonly window: number
  /** Takes `weight` units for `key`: one atomic script call, bounded by `timeout`. */
  consume(key: string, weight?: number): Promise<RedisRateLimitResult>
  /** A plain snapshot of the counters. */
  stats(): RedisRateLimiterStats
  /** Lets `collect()` from @hotpath/metrics read this limiter's stats. */
  readonly [metricsSource]: () => MetricsDescriptor
}

/**
 * A rate limiter shared by every instance through Redis: each `consume` is ONE atomic Lua call
 * (EVALSHA, falling back to EVAL after a script flush), working on standalone Redis and Redis
 * Cluster. When Redis is down, not ready, or slower than `timeout`, the fallback answers at once
 * (a caller never waits longer than `timeout`, never in ioredis's offline queue), and the limiter
 * returns to Redis once it answers again.
 *
 * @example
 * import { redisRateLimiter } from '@hotpath/concurrency/redis'
 * const perUser = redisRateLimiter({ client: redis, limit: 100, window: '1m', algorithm: 'gcra' })
 * const { allowed, retryAfterMs } = await perUser.consume(userId)
 */
export function redisRateLimiter(options: RedisRateLimiterOptions): RedisRateLimiter {
  const raw = readOptions('redisRateLimiter()', options, [
    ...LIMIT_SHAPE_OPTIONS,
    'client',
    'prefix',
    'timeout',
    'fallback',
    'retryInterval',
  ])
  const client = raw.client
  if (client === null || typeof client !== 'object' || typeof client.evalsha !== 'function') {
    throw invalidOption('client', 'an ioredis Redis or Cluster client', client)
  }
  const { limit, window, algorithm, burst, segments } = resolveLimitShape(raw)
  const prefix = checkString('prefix', raw.prefix ?? 'hp:rl:', { allowEmpty: true })
  const timeout = parseDuration(raw.timeout ?? '50ms', 'timeout')
  const fallbackMode = checkOneOf('fallback', raw.fallback ?? 'memory', ['memory', 'allow', 'deny'] as const)
  const retryInterval = parseDuration(raw.retryInterval ?? '1s', 'retryInterval')
  const name = checkString('name', raw.name ?? 'redis-rate-limiter')
  const memory =
    fallbackMode === 'memory'
      ? new RateLimiter({
          limit,
          window,
          algorithm,
          burst,
          segments,
          maxKeys: raw.maxKeys ?? 100_000,
          name: `${name}:fallback`,
        })
      : undefined
  const code: Script =
    algorithm === 'sliding-window'
      ? slidingWindowScript
      : algorithm === 'token-bucket'
        ? tokenBucketScript
        : gcraScript
  const third = algorithm === 'sliding-window' ? segments : burst
  const capacity = algorithm === 'sliding-window' ? limit : burst
  let openUntil = 0
  let degraded = false
  let allowed = 0
  let denied = 0
  let fallbacks = 0
  let errors = 0

  const fallback = (key: string, weight: number): RedisRateLimitResult => {
    fallbacks++
    if (memory !== undefined) return { ...memory.consume(key, weight), source: 'fallback' }
    if (fallbackMode === 'allow')
      return { allowed: true, remaining: capacity, retryAfterMs: 0, resetMs: 0, source: 'fallback' }
    return {
      allowed: false,
      remaining: 0,
      retryAfterMs: retryInterval,
      resetMs: retryInterval,
      source: 'fallback',
    }
  }

  const count = (key: string, weight: number, result: RedisRateLimitResult): RedisRateLimitResult => {
    if (result.allowed) allowed++
    else {
      denied++
      if (rateLimitedChannel.active) {
        rateLimitedChannel.publish({ name, key, weight, retryAfterMs: result.retryAfterMs })
      }
    }
    return result
  }

  const consume = async (key: string, weight: number): Promise<RedisRateLimitResult> => {
    const now = getClock().monotonic()
    if (degraded && now < openUntil) return count(key, weight, fallback(key, weight))
    let reply: unknown
    try {
      reply = await runScript(
        client,
        code,
        [`${prefix}{${key}}`],
        [limit, window, third, weight],
        timeout,
        now,
      )
    } catch (error) {
      errors++
      openUntil = getClock().monotonic() + retryInterval
      if (!degraded) {
        degraded = true
        redisFallbackChannel.publish({ name, state: 'open', error })
      }
      return count(key, weight, fallback(key, weight))
    }
    if (degraded) {
      degraded = false
      redisFallbackChannel.publish({ name, state: 'close' })
    }
    const [ok, remaining, retryAfterMs, resetMs] = reply as [number, number, number, number]
    return count(key, weight, { allowed: ok === 1, remaining, retryAfterMs, resetMs, source: 'redis' })
  }

  return {
    limit,
    window,
    consume(key: string, weight = 1): Promise<RedisRateLimitResult> {
      checkConsume(key, weight, capacity)
      return consume(key, weight)
    },
    stats: () => ({ name, algorithm, allowed, denied, fallbacks, errors, degraded }),
    [metricsSource]: describeMetrics('rate-limiter', () => ({
      name,
      algorithm,
      allowed,
      denied,
      fallbacks,
      errors,
      degraded,
    })),
  }
}
