import { randomBytes } from 'node:crypto'
import {
  checkKnownOptions,
  checkOptionsObject,
  checkString,
  type Duration,
  getTimerService,
  invalidOption,
  parseDuration,
  Timeout,
} from '@hotpath/core'
import type { CacheLease, CacheLock } from './lock'

/**
 * The part of an ioredis `Redis` or `Cluster` client the lock uses.
 *
 * @example
 * const client: RedisLockClientLike = new Redis({ enableOfflineQueue: false })
 * const lock = redisLock({ client })
 */
export interface RedisLockClientLike {
  /** ioredis connection status; the lock sends nothing unless it is `'ready'`. */
  readonly status: string
  set(key: string, value: string, mode: 'PX', ttl: number, nx: 'NX'): Promise<'OK' | null>
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
}

/**
 * Options of {@link redisLock}.
 *
 * @example
 * const options: RedisLockOptions = { client, ttl: '5s', prefix: 'router:lock:' }
 */
export interface RedisLockOptions {
  /** An ioredis `Redis` or `Cluster` client (it stays yours: the lock never closes it). */
  client: RedisLockClientLike
  /**
   * Lifetime of a lease. The holder renews it every third of it while its loader runs, so only a
   * holder that died (or lost Redis) lets it lapse: another instance then loads after at most this.
   * @default '10s'
   */
  ttl?: Duration
  /**
   * Prefix of the lease keys.
   * @default 'hotpath:lock:'
   */
  prefix?: string
  /**
   * Longest pause between two looks at L2 while another instance loads (the first is 5 ms; each
   * one doubles). The bus message of the loader's write usually ends the wait sooner.
   * @default '100ms'
   */
  maxPoll?: Duration
}

/** Option names of {@link RedisLockOptions}. */
export const REDIS_LOCK_OPTIONS = ['client', 'ttl', 'prefix', 'maxPoll'] as const

// Only the holder (same random token) may extend or delete a lease: one that lapsed and was taken
// by another instance is left alone.
const RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`

/**
 * Cross-instance single-flight on Redis for `createCache({ lock })`: the first instance to miss a
 * key takes a lease (`SET NX PX` with a random token), renews it while its loader runs and
 * releases it with a compare-and-delete script once the value is in L2. The other instances wait
 * for that value (woken by the bus, or polling L2), each within its own loader timeout. A holder
 * that dies loses the lease when it lapses and another instance loads. While Redis cannot answer,
 * each instance falls back to its local single-flight: no caller fails because of the lock.
 *
 * @example
 * import Redis from 'ioredis'
 * import { redisBus, redisLock, redisStore } from '@hotpath/cache/redis'
 * const client = new Redis({ enableOfflineQueue: false, maxRetriesPerRequest: 1 })
 * const cache = createCache({
 *   l2: redisStore({ client }),
 *   bus: redisBus({ client }),
 *   lock: redisLock({ client, ttl: '5s' }),
 * })
 */
export function redisLock(options: RedisLockOptions): CacheLock {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('redisLock()', raw, REDIS_LOCK_OPTIONS)
  if (!raw.client || typeof raw.client.set !== 'function' || typeof raw.client.eval !== 'function') {
    throw invalidOption('client', 'an ioredis Redis or Cluster client', raw.client)
  }
  const client: RedisLockClientLike = raw.client
  const ttl = Math.ceil(parseDuration(raw.ttl ?? 10_000, 'ttl', { positive: true }))
  if (ttl < 30) throw invalidOption('ttl', 'a duration >= 30ms', raw.ttl)
  const prefix = checkString('prefix', raw.prefix ?? 'hotpath:lock:', { allowEmpty: true })
  const maxPoll = parseDuration(raw.maxPoll ?? 100, 'maxPoll', { positive: true })

  const ready = () => client.status === 'ready'

  async function acquire(key: string): Promise<CacheLease | null> {
    if (!ready()) throw new Error('redis is not connected')
    const lockKey = prefix + key
    const token = randomBytes(12).toString('base64url')
    if ((await client.set(lockKey, token, 'PX', ttl, 'NX')) !== 'OK') return null
    let released = false
    // Renewal keeps the lease while the loader runs; a failed renewal is retried at the next
    // tick, and a lease that lapsed anyway is simply lost (another instance loads). The holder's
    // callers wait on the load, not on the renewal: its entry is unref'd housekeeping.
    const timers = getTimerService()
    const period = Math.max(10, Math.floor(ttl / 3))
    const renewal = new Timeout(
      () => {
        timers.add(renewal, period)
        if (!ready()) return
        client.eval(RENEW_SCRIPT, 1, lockKey, token, ttl).catch(() => {})
      },
      { ref: false, name: 'hotpath:cache:lock-renewal' },
    )
    timers.add(renewal, period)
    return {
      async release() {
        if (released) return
        released = true
        timers.remove(renewal)
        if (!ready()) return
        await client.eval(RELEASE_SCRIPT, 1, lockKey, token).catch(() => {})
      },
    }
  }

  return Object.freeze({ kind: 'redis', maxPoll, acquire } satisfies CacheLock)
}
