import { startRedis, uniquePrefix } from '@hotpath/test-utils'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { createCache } from '../src/index'
import { redisStore } from '../src/redis'
import { until } from './helpers'

// Users often pass a client with ioredis defaults: offline queue on, 20 retries per request. While
// Redis is down such a client would hold commands for seconds; the store must not wait on it.
describe('a default ioredis client (offline queue enabled)', () => {
  it('never makes a cache call wait for Redis to come back', async () => {
    const server = await startRedis()
    const client = new Redis(server.url) // defaults: enableOfflineQueue true, maxRetriesPerRequest 20
    client.on('error', () => {})
    const cache = createCache({
      l1: false,
      l2: redisStore({ client, prefix: uniquePrefix('offline') }),
      l2Timeout: 100,
    })
    try {
      await until(() => client.status === 'ready', 5_000)
      await cache.set('k', 'v')
      expect(await cache.get('k')).toBe('v')

      await server.kill()
      await until(() => client.status !== 'ready', 5_000)
      const started = performance.now()
      const outcomes = await Promise.allSettled([
        cache.get('k'),
        cache.getOrSet('other', async () => 'loaded'),
        cache.set('k2', 'v2'),
      ])
      const elapsed = performance.now() - started
      expect(elapsed).toBeLessThan(500)
      expect(outcomes[0]).toEqual({ status: 'fulfilled', value: undefined })
      expect(outcomes[1]).toEqual({ status: 'fulfilled', value: 'loaded' })
      expect(cache.stats().l2.errors + cache.stats().l2.skipped + cache.stats().l2.timeouts).toBeGreaterThan(
        0,
      )

      await server.restart()
      await until(() => client.status === 'ready', 10_000)
      await until(async () => {
        await cache.set('k', 'again').catch(() => {})
        return (await cache.get('k')) === 'again'
      }, 5_000)
    } finally {
      await cache.close()
      client.disconnect()
      await server.stop()
    }
  })
})
