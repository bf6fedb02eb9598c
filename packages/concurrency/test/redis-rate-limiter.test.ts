import {
  dropRedisPrefix,
  faultProxy,
  needService,
  redisUrl,
  startRedis,
  startRedisCluster,
  uniquePrefix,
} from '@hotpath/test-utils'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RateLimiter, type RateLimiterLike } from '../src/index'
import { redisRateLimiter } from '../src/redis'
import { expectSharedLimit } from './fixtures/shared-limit'

const hasRedis = await needService('redis')

describe.runIf(hasRedis)('redisRateLimiter on the real Redis', () => {
  let client: Redis
  const prefix = uniquePrefix('rl')
  beforeAll(() => {
    client = new Redis(redisUrl(), { lazyConnect: false })
  })
  afterAll(async () => {
    await dropRedisPrefix(client, prefix)
    client.disconnect()
  })

  it.each(['sliding-window', 'token-bucket', 'gcra'] as const)(
    '%s: admits the limit across two instances sharing Redis, then refuses',
    async (algorithm) => {
      await client.ping()
      const { a } = await expectSharedLimit(client, `${prefix}${algorithm}:`, algorithm)
      expect((await a.consume('ip-2')).allowed).toBe(true)
      const ttl = await client.pttl(`${prefix}${algorithm}:{ip-1}`)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(66_100)
    },
  )

  it('concurrent consumes never admit more than the limit (atomic script)', async () => {
    const limiter = redisRateLimiter({
      client,
      limit: 50,
      window: '1m',
      prefix: `${prefix}atomic:`,
      timeout: '2s',
    })
    const results = await Promise.all(Array.from({ length: 200 }, () => limiter.consume('hot')))
    expect(results.filter((r) => r.allowed)).toHaveLength(50)
  })

  it('reloads the script after SCRIPT FLUSH (NOSCRIPT → EVAL)', async () => {
    // SCRIPT FLUSH on a server of our own: the shared one keeps its script cache.
    const isolated = await startRedis()
    const own = new Redis(isolated.url)
    try {
      await own.ping()
      const ownLimiter = redisRateLimiter({ client: own, limit: 3, window: '1m', prefix, timeout: '1s' })
      expect((await ownLimiter.consume('k')).source).toBe('redis')
      await own.script('FLUSH')
      const after = await ownLimiter.consume('k')
      expect(after).toMatchObject({ source: 'redis', allowed: true, remaining: 1 })
    } finally {
      own.disconnect()
      await isolated.stop()
    }
  })
})

describe.runIf(hasRedis)('redisRateLimiter on a 3-master Redis Cluster', () => {
  it('limits keys spread over every master', async () => {
    const cluster = await startRedisCluster({ masters: 3 })
    const client = new Cluster(cluster.startupNodes)
    try {
      await client.set('warmup', '1')
      const limiter = redisRateLimiter({
        client,
        limit: 3,
        window: '1m',
        algorithm: 'token-bucket',
        prefix: 'rl:',
        timeout: '2s',
      })
      const keys = Array.from({ length: 12 }, (_, i) => `user-${i}`)
      for (const key of keys) {
        const outcomes = []
        for (let i = 0; i < 4; i++) {
          const result = await limiter.consume(key)
          expect(result.source).toBe('redis')
          outcomes.push(result.allowed)
        }
        expect(outcomes).toEqual([true, true, true, false])
      }
      const masters = await Promise.all(client.nodes('master').map((node) => node.dbsize()))
      expect(masters.filter((n) => n > 0)).toHaveLength(3)
      expect(limiter.stats()).toMatchObject({ errors: 0, fallbacks: 0 })
    } finally {
      client.disconnect()
      await cluster.stop()
    }
  }, 60_000)
})

describe.runIf(hasRedis)('redisRateLimiter with its Redis killed mid-run', () => {
  it('falls back within the timeout, never hangs, and returns to Redis after a restart', async () => {
    const server = await startRedis()
    const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 })
    client.on('error', () => {})
    try {
      await client.ping()
      const limiter = redisRateLimiter({
        client,
        limit: 3,
        window: '1m',
        timeout: '100ms',
        retryInterval: '200ms',
        prefix: 'rl:',
      })
      expect((await limiter.consume('k')).source).toBe('redis')
      await server.kill()
      const started = performance.now()
      const during = []
      for (let i = 0; i < 6; i++) {
        const t0 = performance.now()
        during.push(await limiter.consume('k'))
        // 100 ms timeout plus slack for a loaded machine; without the bound a call would wait for
        // ioredis to reconnect.
        expect(performance.now() - t0).toBeLessThan(600)
      }
      expect(during.every((r) => r.source === 'fallback')).toBe(true)
      // The in-memory fallback applies the same limit to this process.
      expect(during.map((r) => r.allowed)).toEqual([true, true, true, false, false, false])
      expect(performance.now() - started).toBeLessThan(3_000)
      expect(limiter.stats().degraded).toBe(true)
      await server.restart()
      const deadline = Date.now() + 10_000
      let back = await limiter.consume('fresh')
      while (back.source !== 'redis' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100))
        back = await limiter.consume('fresh')
      }
      expect(back.source).toBe('redis')
      expect(limiter.stats().degraded).toBe(false)
    } finally {
      client.disconnect()
      await server.stop()
    }
  }, 30_000)

  it("'deny' and 'allow' fallbacks answer at once when the client is not ready", async () => {
    const server = await startRedis()
    const client = new Redis(server.url, { lazyConnect: true })
    try {
      const deny = redisRateLimiter({ client, limit: 1, window: '1s', fallback: 'deny' })
      const allow = redisRateLimiter({ client, limit: 1, window: '1s', fallback: 'allow' })
      expect(await deny.consume('k')).toMatchObject({ allowed: false, source: 'fallback' })
      expect(await allow.consume('k')).toMatchObject({ allowed: true, source: 'fallback' })
    } finally {
      client.disconnect()
      await server.stop()
    }
  })
})

describe('one option check for both limiters', () => {
  it.each([
    [{ window: 0 }, 'Expected `window` to be a duration > 0, got `0` (number)'],
    [{ limit: 0 }, 'Expected `limit` to be an integer >= 1, got `0` (number)'],
    [{ algorithm: 'leaky' }, "Expected `algorithm` to be one of 'sliding-window', 'token-bucket', 'gcra'"],
    [{ segments: 0 }, 'Expected `segments` to be an integer between 1 and 1000'],
  ])('both refuse %j with the same TypeError', (bad, message) => {
    // A client that is never contacted: option checks run before any call.
    const client = { evalsha: () => Promise.resolve(), status: 'ready' } as never
    const options = { limit: 5, window: '1m', ...bad } as never
    expect(() => new RateLimiter(options)).toThrow(message)
    expect(() => redisRateLimiter({ client, fallback: 'deny', ...(options as object) } as never)).toThrow(
      message,
    )
  })
})

describe.runIf(hasRedis)('one interface for both limiters', () => {
  it('gives the same decisions and result fields from memory and from Redis', async () => {
    const client = new Redis(redisUrl())
    const prefix = uniquePrefix('rl-iface')
    try {
      await client.ping()
      const limiters: RateLimiterLike[] = [
        new RateLimiter({ limit: 2, window: '1m' }),
        redisRateLimiter({ client, limit: 2, window: '1m', prefix }),
      ]
      for (const limiter of limiters) {
        const results = [await limiter.consume('k'), await limiter.consume('k'), await limiter.consume('k')]
        expect(results.map((r) => r.allowed)).toEqual([true, true, false])
        expect(results.map((r) => r.remaining)).toEqual([1, 0, 0])
        for (const field of ['allowed', 'remaining', 'retryAfterMs', 'resetMs'] as const) {
          expect(results.every((r) => field in r)).toBe(true)
        }
        expect(results[2]!.retryAfterMs).toBeGreaterThan(0)
      }
    } finally {
      await dropRedisPrefix(client, prefix)
      client.disconnect()
    }
  })
})

describe.runIf(hasRedis)('redisRateLimiter behind a server that stops answering', () => {
  it('falls back when Redis is slower than its timeout (black hole), with consumes in flight', async () => {
    const proxy = await faultProxy(redisUrl())
    const client = new Redis(proxy.url!, { maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    const prefix = uniquePrefix('rl-slow')
    try {
      await client.ping()
      const limiter = redisRateLimiter({ client, limit: 2, window: '1m', timeout: '100ms', prefix })
      expect((await limiter.consume('k')).source).toBe('redis')
      proxy.blackHole()
      const started = performance.now()
      const inFlight = await Promise.all(Array.from({ length: 5 }, () => limiter.consume('k')))
      expect(performance.now() - started).toBeLessThan(600)
      expect(inFlight.every((r) => r.source === 'fallback')).toBe(true)
      expect(inFlight.filter((r) => r.allowed)).toHaveLength(2)
      expect(limiter.stats()).toMatchObject({ degraded: true })
      expect(limiter.stats().fallbacks).toBeGreaterThanOrEqual(5)
    } finally {
      proxy.pass()
      client.disconnect()
      await proxy.close()
    }
  })
})
