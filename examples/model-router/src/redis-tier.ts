import type { CacheBus, CacheStore } from '@hotpath/cache'
import { redisBus, redisStore } from '@hotpath/cache/redis'
import Redis from 'ioredis'

/** Redis as the cache's L2 and invalidation bus. */
export interface RedisTier {
  readonly store: CacheStore
  readonly bus: CacheBus
  close(): Promise<void>
}

/**
 * Connects to Redis for the cache (one connection for commands; the bus opens its own for
 * SUBSCRIBE).
 *
 * @example
 * const tier = openRedisTier(process.env.REDIS_URL!, 'model-router:')
 */
export function openRedisTier(url: string, prefix: string): RedisTier {
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  return {
    store: redisStore({ client, prefix }),
    bus: redisBus({ client }),
    async close() {
      client.disconnect()
    },
  }
}
