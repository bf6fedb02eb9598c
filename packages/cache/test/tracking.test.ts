import { dropRedisPrefix, needService, redisUrl, startRedis, uniquePrefix } from '@hotpath/test-utils'
import { Redis } from 'ioredis'
import { Redis as Redis6 } from 'ioredis6'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, type CacheOptions, createCache, jsonCodec } from '../src/index'
import { type RedisClientLike, redisBus, redisStore } from '../src/redis'
import { clientOptions, until } from './helpers'
import { MemoryStore } from './memory-store'

type Client = Redis | Redis6
type ClientClass = new (url: string, options: typeof clientOptions) => Client

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const hasRedis = await needService('redis')
const codec = jsonCodec()

/** The L2 form of `value` as the cache writes it, to SET it with a raw client. */
function envelope(value: unknown, ttl = 60_000): string {
  const now = Date.now()
  return codec.encode([value, now, now + ttl, now + ttl, 0, 0]) as string
}

async function connect(Client: ClientClass, url: string): Promise<Client> {
  const client = new Client(url, clientOptions)
  client.on('error', () => {})
  await until(() => client.status === 'ready', 5_000)
  return client
}

interface Tracked {
  client: Client
  cache: Cache
}

async function tracked(client: Client, prefix: string, name: string, options: CacheOptions = {}) {
  const cache = createCache({
    namespace: name,
    l2: redisStore({ client: client as unknown as RedisClientLike, prefix }),
    invalidation: 'tracking',
    l2Timeout: '2s',
    ttl: '1m',
    ...options,
  })
  await until(() => cache.stats().tracking?.connected === true, 5_000)
  return cache
}

/** Milliseconds until every cache returns `expected` for `key`. */
function reach(caches: Cache[], key: string, expected: unknown): Promise<number> {
  return until(async () => {
    const values = await Promise.all(caches.map((cache) => cache.get(key)))
    return values.every((value) => value === expected)
  }, 2_000)
}

describe.each([
  ['ioredis 5', Redis as unknown as ClientClass],
  ['ioredis 6', Redis6 as unknown as ClientClass],
])('invalidation: tracking on %s', (_label, Client) => {
  describe.runIf(hasRedis)('against the shared Redis', () => {
    const prefix = uniquePrefix('track')
    const name = `c${Math.random().toString(36).slice(2, 8)}`
    const storeKey = (key: string) => `${prefix}${name}:${codec.id}:${key}`
    const instances: Tracked[] = []
    let raw: Client
    let a: Cache
    let b: Cache

    beforeAll(async () => {
      raw = await connect(Client, redisUrl())
      for (let i = 0; i < 2; i++) {
        const client = await connect(Client, redisUrl())
        instances.push({ client, cache: await tracked(client, prefix, name) })
      }
      a = instances[0]!.cache
      b = instances[1]!.cache
    })
    afterAll(async () => {
      for (const { cache, client } of instances) {
        await cache.close()
        client.disconnect()
      }
      await dropRedisPrefix(raw as Redis, prefix)
      raw.disconnect()
    })

    it('a raw SET of a cached key reaches the L1 of both instances within 100 ms', async () => {
      await a.set('user:1', { v: 1 })
      expect(await b.get('user:1')).toEqual({ v: 1 })
      expect(a.peek('user:1')).toEqual({ v: 1 })
      expect(b.peek('user:1')).toEqual({ v: 1 })
      await raw.set(storeKey('user:1'), envelope('changed'), 'PX', 60_000)
      const elapsed = await reach([a, b], 'user:1', 'changed')
      expect(elapsed).toBeLessThan(100)
    })

    it('a raw DEL drops the key from both L1s within 100 ms', async () => {
      await a.set('gone', 1)
      expect(await b.get('gone')).toBe(1)
      await raw.del(storeKey('gone'))
      const elapsed = await reach([a, b], 'gone', undefined)
      expect(elapsed).toBeLessThan(100)
    })

    it("an instance's own writes do not drop its own L1 value, and other writes after them do", async () => {
      const before = a.stats()
      for (let i = 0; i < 20; i++) await a.set('own', i)
      // Let the reports of those writes arrive.
      await until(() => a.stats().tracking!.own - before.tracking!.own >= 20, 2_000)
      const after = a.stats()
      expect(a.peek('own')).toBe(19)
      expect(after.l2.hits).toBe(before.l2.hits)
      // A write by another client right after each own write is never swallowed.
      for (let i = 0; i < 20; i++) {
        await a.set('race', i)
        await raw.set(storeKey('race'), envelope(`raw-${i}`), 'PX', 60_000)
        await reach([a], 'race', `raw-${i}`)
      }
    })

    it("another instance's set, tag invalidation and clear reach through tracking alone", async () => {
      await a.set('t1', 1, { tags: ['group'] })
      expect(await b.get('t1')).toBe(1)
      await a.set('plain', 1)
      expect(await b.get('plain')).toBe(1)
      await a.set('plain', 2)
      await reach([b], 'plain', 2)
      await a.invalidateTags(['group'])
      await reach([a, b], 't1', undefined)
      await a.set('c1', 1)
      expect(await b.get('c1')).toBe(1)
      await a.clear()
      await reach([b], 'c1', undefined)
    })

    it("'both' keeps the bus and adds tracking", async () => {
      const clients = [await connect(Client, redisUrl()), await connect(Client, redisUrl())]
      const both = clients.map((client) =>
        createCache({
          namespace: `${name}both`,
          l2: redisStore({ client: client as unknown as RedisClientLike, prefix }),
          bus: redisBus({ client: client as never, channel: `${prefix}bus` }),
          invalidation: 'both',
          l2Timeout: '2s',
        }),
      )
      try {
        await until(() => both.every((c) => c.stats().tracking?.connected && c.stats().bus?.connected), 5_000)
        await both[0]!.set('k', 1)
        expect(await both[1]!.get('k')).toBe(1)
        await both[0]!.set('k', 2)
        await reach(both, 'k', 2)
        expect(both[1]!.stats().bus!.received).toBeGreaterThan(0)
        await raw.set(`${prefix}${name}both:${codec.id}:k`, envelope(3), 'PX', 60_000)
        expect(await reach(both, 'k', 3)).toBeLessThan(100)
      } finally {
        for (const cache of both) await cache.close()
        for (const client of clients) client.disconnect()
      }
    })
  })

  describe.runIf(hasRedis)('on its own redis-server', () => {
    it('entries from before a lost tracking connection are not served as fresh', async () => {
      const server = await startRedis()
      const client = await connect(Client, server.url)
      const raw = await connect(Client, server.url)
      const cache = await tracked(client, 'kill:', 'k', { grace: '1h', timeouts: { soft: 0 } })
      try {
        await cache.set('k', 'before')
        expect(cache.peek('k')).toBe('before')
        const resets = cache.stats().tracking!.resets
        await server.kill()
        await until(() => cache.stats().tracking!.connected === false, 5_000)
        expect(cache.stats().tracking!.resets).toBe(resets + 1)
        // Not fresh any more, still a fail-safe value within grace.
        expect(cache.peek('k')).toBeUndefined()
        const failing = async (): Promise<string> => {
          throw new Error('database down')
        }
        expect(await cache.getOrSet('k', failing)).toBe('before')
        expect(cache.stats().staleServed).toBeGreaterThan(0)
        // The server comes back empty: its data changed while this instance was not told.
        await server.restart()
        await until(() => raw.status === 'ready', 5_000)
        await raw.set('kill:k:j1:k', envelope('after'), 'PX', 60_000)
        await until(() => cache.stats().tracking!.connected === true, 5_000)
        expect(await cache.get('k')).toBe('after')
        await raw.set('kill:k:j1:k', envelope('later'), 'PX', 60_000)
        expect(await reach([cache], 'k', 'later')).toBeLessThan(100)
      } finally {
        await cache.close()
        client.disconnect()
        raw.disconnect()
        await server.stop()
      }
    }, 30_000)

    it('a write L2 never took leaves no expectation behind: the next foreign write still drops the key', async () => {
      const server = await startRedis()
      const client = await connect(Client, server.url)
      const raw = await connect(Client, server.url)
      const cache = await tracked(client, 'skip:', 's', {
        l2Timeout: 50,
        breaker: { threshold: 1, cooldown: '1m' },
      })
      try {
        // One timed-out call opens the breaker; the tracking connection stays up (SUBSCRIBE is no write).
        await raw.call('CLIENT', 'PAUSE', '300', 'ALL')
        expect(await cache.get('probe')).toBeUndefined()
        expect(cache.stats().l2.breaker).toBe('open')
        await sleep(350)
        // Skipped by the open breaker: never sent, so Redis will never report it.
        await cache.set('k', 'mine')
        expect(cache.peek('k')).toBe('mine')
        expect(cache.stats().tracking!.connected).toBe(true)
        await raw.set('skip:s:j1:k', envelope('theirs'), 'PX', 60_000)
        await until(() => cache.peek('k') === undefined, 100)
      } finally {
        await cache.close()
        client.disconnect()
        raw.disconnect()
        await server.stop()
      }
    }, 30_000)
  })
})

describe('invalidation option', () => {
  const client = {
    status: 'wait',
    getBuffer: () => Promise.resolve(null),
    on() {},
    off() {},
    duplicate() {},
  } as unknown as RedisClientLike

  it('defaults to the bus and refuses unknown values', () => {
    expect(createCache().stats().tracking).toBeUndefined()
    expect(() => createCache({ invalidation: 'redis' as never })).toThrow(
      new TypeError("Expected `invalidation` to be one of 'bus', 'tracking', 'both', got `'redis'` (string)"),
    )
    expect(() => createCache({ invalidation: 1 as never })).toThrow(TypeError)
  })

  it('tracking needs a store that can track: not none, not a SQL or memory store, not a Cluster', () => {
    expect(() => createCache({ invalidation: 'tracking' })).toThrow(
      /^Expected `l2` to be a store that supports tracking \(`redisStore` on a single Redis server, not a Cluster\) when `invalidation` is 'tracking', got `undefined` \(undefined\)$/,
    )
    expect(() => createCache({ invalidation: 'both', l2: new MemoryStore() })).toThrow(TypeError)
    const cluster = { ...client, nodes: () => [] } as unknown as RedisClientLike
    expect(() => createCache({ invalidation: 'tracking', l2: redisStore({ client: cluster }) })).toThrow(
      /^Expected `l2` to be a store that supports tracking/,
    )
  })

  it("'tracking' refuses a bus and 'both' needs one", () => {
    const l2 = redisStore({ client })
    const bus = redisBus({ client: { ...client, publish: () => Promise.resolve(0) } as never })
    expect(() => createCache({ invalidation: 'tracking', l2, bus })).toThrow(
      /^Expected `bus` to be undefined when `invalidation` is 'tracking' \(use 'both' for both\), got /,
    )
    expect(() => createCache({ invalidation: 'both', l2 })).toThrow(
      new TypeError(
        "Expected `bus` to be a cache bus when `invalidation` is 'both', got `undefined` (undefined)",
      ),
    )
  })
})
