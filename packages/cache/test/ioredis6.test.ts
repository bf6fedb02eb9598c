import { dropRedisPrefix, needService, redisUrl, uniquePrefix } from '@hotpath/test-utils'
import { Redis as Redis6 } from 'ioredis6'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { createCache } from '../src/index'
import {
  type RedisBusClientLike,
  type RedisClientLike,
  type RedisSubscriberLike,
  redisBus,
  redisStore,
} from '../src/redis'
import { until } from './helpers'

// ioredis 6 speaks RESP3 by default; these run the store and the bus on it, beside the suites on 5.
const options = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  retryStrategy: () => 50,
  connectTimeout: 500,
}

async function connect(): Promise<Redis6> {
  const client = new Redis6(redisUrl(), options)
  client.on('error', () => {})
  await until(() => client.status === 'ready', 5_000)
  return client
}

describe('ioredis 6 client types', () => {
  it('a Redis instance satisfies the structural client types', () => {
    const typeCheck = (client: Redis6) => {
      const store: RedisClientLike = client
      const bus: RedisBusClientLike = client
      const subscriber: RedisSubscriberLike = client.duplicate()
      return [store, bus, subscriber]
    }
    expectTypeOf(typeCheck).toBeFunction()
  })
})

describe.runIf(await needService('redis'))('redisStore + redisBus on an ioredis 6 client', () => {
  const prefix = uniquePrefix('io6')
  let a: Redis6
  let b: Redis6
  beforeAll(async () => {
    a = await connect()
    b = await connect()
  })
  afterAll(async () => {
    await dropRedisPrefix(a, prefix)
    a.disconnect()
    b.disconnect()
  })

  it('the client negotiated RESP3', async () => {
    const hello = (await a.call('HELLO')) as unknown[]
    const index = hello.indexOf('proto')
    expect(hello[index + 1]).toBe(3)
  })

  it('get, set, setMany (script), delete and clear', async () => {
    const store = redisStore({ client: a, prefix })
    expect(store.ready!()).toBe(true)
    expect(await store.get('missing')).toBeNull()
    await store.set('k', Buffer.from([0, 1, 255]), 60_000)
    expect(await store.get('k')).toEqual(Buffer.from([0, 1, 255]))
    expect(await a.pttl(`${prefix}k`)).toBeGreaterThan(59_000)
    await a.script('FLUSH') // setMany sends its script with EVAL: it works on a server without it
    for (const round of [1, 2]) {
      await store.setMany([
        { key: `m1-${round}`, value: 'one', ttl: 60_000 },
        { key: `m2-${round}`, value: Buffer.from('two'), ttl: 30_000 },
      ])
      expect(await store.getMany([`m1-${round}`, `m2-${round}`, 'none'])).toEqual([
        Buffer.from('one'),
        Buffer.from('two'),
        null,
      ])
    }
    expect(await a.pttl(`${prefix}m2-1`)).toBeLessThanOrEqual(30_000)
    await store.delete(['k', 'm1-1'])
    expect(await store.getMany(['k', 'm1-1', 'm2-1'])).toEqual([null, null, Buffer.from('two')])
    await store.clear('m')
    expect(await a.exists(`${prefix}m2-1`, `${prefix}m1-2`)).toBe(0)
  })

  it('tag versions, invalidation and bus messages between two caches', async () => {
    const cacheA = createCache({
      l2: redisStore({ client: a, prefix }),
      bus: redisBus({ client: a, channel: `${prefix}bus` }),
      l2Timeout: '2s',
    })
    const cacheB = createCache({
      l2: redisStore({ client: b, prefix }),
      bus: redisBus({ client: b, channel: `${prefix}bus` }),
      l2Timeout: '2s',
    })
    try {
      await until(
        () => cacheA.stats().bus?.connected === true && cacheB.stats().bus?.connected === true,
        5_000,
      )
      await cacheA.set('k', 1)
      expect(await cacheB.get('k')).toBe(1)
      await cacheA.set('k', 2)
      expect(await until(async () => (await cacheB.get('k')) === 2, 1_000)).toBeLessThan(1_000)
      await cacheA.delete('k')
      expect(await until(async () => (await cacheB.get('k')) === undefined, 1_000)).toBeLessThan(1_000)

      await cacheA.setMany([
        { key: 't1', value: 'x', tags: ['user:1'] },
        { key: 't2', value: 'y', tags: ['user:1'] },
      ])
      expect(await cacheB.getMany(['t1', 't2'])).toEqual(['x', 'y'])
      await cacheA.invalidateTags(['user:1'])
      const tagKeys = await a.keys(`${prefix}~tag:*user:1`)
      expect(tagKeys).toHaveLength(1)
      expect(await a.get(tagKeys[0]!)).toBe('1')
      expect(
        await until(async () => (await cacheB.getMany(['t1', 't2'])).every((v) => v === undefined), 1_000),
      ).toBeLessThan(1_000)
      expect(cacheB.stats().bus!.received).toBeGreaterThan(0)
      expect(cacheB.stats().bus).toMatchObject({ connected: true })
    } finally {
      await cacheA.close()
      await cacheB.close()
    }
  })

  it('a call made before a fresh client is ready waits for it (ready-aware path)', async () => {
    await a.set(`${prefix}early`, 'v')
    const fresh = new Redis6(redisUrl(), { ...options, lazyConnect: true })
    fresh.on('error', () => {})
    try {
      const store = redisStore({ client: fresh, prefix })
      expect(store.ready!()).toBe(false)
      const waiting = store.whenReady!()
      void fresh.connect().catch(() => {})
      await waiting
      expect(fresh.status).toBe('ready')
      expect(await store.get('early')).toEqual(Buffer.from('v'))
      const cache = createCache({ l2: redisStore({ client: fresh, prefix }), l2Timeout: '2s' })
      await cache.set('c', 5)
      expect(await createCache({ l2: redisStore({ client: a, prefix }), l2Timeout: '2s' }).get('c')).toBe(5)
    } finally {
      fresh.disconnect()
    }
  })

  it('a bus started on a client still connecting subscribes once ready, and its publishes arrive', async () => {
    const lazy = new Redis6(redisUrl(), options)
    lazy.on('error', () => {})
    expect(lazy.status).not.toBe('ready')
    const cache = createCache({
      l2: redisStore({ client: lazy, prefix }),
      bus: redisBus({ client: lazy, channel: `${prefix}lazybus` }),
      l2Timeout: '2s',
    })
    const other = createCache({
      l2: redisStore({ client: b, prefix }),
      bus: redisBus({ client: b, channel: `${prefix}lazybus` }),
      l2Timeout: '2s',
    })
    try {
      await until(() => other.stats().bus?.connected === true, 5_000)
      await until(() => cache.stats().bus?.connected === true, 5_000)
      await cache.set('lazy', 1)
      expect(await other.get('lazy')).toBe(1)
      await cache.set('lazy', 2)
      expect(await until(async () => (await other.get('lazy')) === 2, 1_000)).toBeLessThan(1_000)
    } finally {
      await cache.close()
      await other.close()
      lazy.disconnect()
    }
  })
  it('after both connections are killed, the bus resubscribes and invalidations flow again', async () => {
    const name = `${prefix}killed`.replace(/[^A-Za-z0-9_-]/g, '_')
    const victim = new Redis6(redisUrl(), { ...options, connectionName: name })
    victim.on('error', () => {})
    const cache = createCache({
      l2: redisStore({ client: victim, prefix }),
      bus: redisBus({ client: victim, channel: `${prefix}killbus` }),
      l2Timeout: '2s',
    })
    const other = createCache({
      l2: redisStore({ client: b, prefix }),
      bus: redisBus({ client: b, channel: `${prefix}killbus` }),
      l2Timeout: '2s',
    })
    try {
      await until(() => cache.stats().bus?.connected === true && other.stats().bus?.connected === true, 5_000)
      await other.set('r', 1)
      expect(await cache.get('r')).toBe(1)
      // The client and its duplicate share the connection name: kill exactly those two.
      const list = String(await a.call('CLIENT', 'LIST'))
      const ids = list
        .split('\n')
        .filter((line) => line.includes(` name=${name} `))
        .map((line) => /id=(\d+)/.exec(line)![1]!)
      expect(ids).toHaveLength(2)
      for (const id of ids) await a.call('CLIENT', 'KILL', 'ID', id)
      await until(() => cache.stats().bus!.resubscribes === 1 && victim.status === 'ready', 5_000)
      await other.set('r', 2)
      expect(await until(async () => (await cache.get('r')) === 2, 1_000)).toBeLessThan(1_000)
    } finally {
      await cache.close()
      await other.close()
      victim.disconnect()
    }
  })
})
