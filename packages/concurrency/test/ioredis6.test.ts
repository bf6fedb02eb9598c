import { dropRedisPrefix, needService, redisUrl, uniquePrefix } from '@hotpath/test-utils'
import { Redis as Redis6 } from 'ioredis6'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { type RedisScriptClient, redisSemaphore } from '../src/redis'
import { expectSharedLimit } from './fixtures/shared-limit'

// ioredis 6 speaks RESP3 by default; the scripts (TIME, HGETALL, ZRANGE WITHSCORES inside Lua) run
// through it here, beside the suites on ioredis 5.

describe('ioredis 6 client types', () => {
  it('a Redis instance satisfies RedisScriptClient', () => {
    const typeCheck = (client: Redis6): RedisScriptClient => client
    expectTypeOf(typeCheck).toBeFunction()
  })
})

describe.runIf(await needService('redis'))(
  'redisRateLimiter and redisSemaphore on an ioredis 6 client',
  () => {
    const prefix = uniquePrefix('io6')
    let client: Redis6
    beforeAll(async () => {
      client = new Redis6(redisUrl())
      await client.ping()
      const hello = (await client.call('HELLO')) as unknown[]
      expect(hello[hello.indexOf('proto') + 1]).toBe(3)
    })
    afterAll(async () => {
      await dropRedisPrefix(client, prefix)
      client.disconnect()
    })

    it.each(['sliding-window', 'token-bucket', 'gcra'] as const)(
      '%s: admits the limit across two instances, then refuses with a retry time',
      async (algorithm) => {
        await client.script('FLUSH') // the first call loads its script through the NOSCRIPT fallback
        const { b, results } = await expectSharedLimit(client, `${prefix}${algorithm}:`, algorithm)
        expect(results.map((r) => r.remaining).slice(0, 5)).toEqual([4, 3, 2, 1, 0])
        expect(b.stats()).toMatchObject({ fallbacks: 0, errors: 0, degraded: false })
        const ttl = await client.pttl(`${prefix}${algorithm}:{ip-1}`)
        expect(ttl).toBeGreaterThan(0)
        expect(ttl).toBeLessThanOrEqual(66_100)
      },
    )

    it('redisSemaphore: never more than `permits` holders across instances; leases extend and release', async () => {
      await client.script('FLUSH')
      const options = { client, key: 'jobs', permits: 2, prefix, retryInterval: '5ms', lease: '5s' } as const
      const instances = [redisSemaphore(options), redisSemaphore(options)]
      let inside = 0
      let peak = 0
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          instances[i % 2]!.run(async () => {
            inside++
            peak = Math.max(peak, inside)
            await new Promise((r) => setTimeout(r, 10))
            inside--
          }),
        ),
      )
      expect(peak).toBe(2)
      expect(await instances[0]!.count()).toBe(0)

      const lease = await instances[0]!.acquire()
      expect(await instances[1]!.count()).toBe(1)
      expect(await lease.extend()).toBe(true)
      const score = Number(await client.zscore(`${prefix}{jobs}`, lease.token))
      const [seconds] = (await client.time()) as [number | string, number | string]
      expect(score - Number(seconds) * 1000).toBeGreaterThan(4_000)
      const second = await instances[1]!.tryAcquire()
      expect(second).toBeDefined()
      expect(await instances[1]!.tryAcquire()).toBeUndefined()
      await lease.release()
      expect(await instances[0]!.count()).toBe(1)
      await second!.release()
    })
  },
)
