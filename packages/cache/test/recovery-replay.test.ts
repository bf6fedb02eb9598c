import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { needService, startRedis, uniquePrefix } from '@hotpath/test-utils'
import type { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import {
  type CacheOptions,
  type CacheStore,
  cacheChannels,
  createCache,
  jsonCodec,
  type RecoveryEvent,
} from '../src/index'
import { redisBus, redisStore } from '../src/redis'
import { connect, type Instance, instance, shutdown, until } from './helpers'

const codec = jsonCodec()
const KEYS = 10

/** What Redis holds for a key of the default cache: the value, or undefined when there is none. */
async function stored(client: Redis, prefix: string, key: string): Promise<unknown> {
  const data = await client.getBuffer(`${prefix}cache:${codec.id}:${key}`)
  return data === null ? undefined : (codec.decode(data) as unknown[])[0]
}

/** Successful calls of a command since the last CONFIG RESETSTAT. */
async function commandCalls(redis: Redis, command: string): Promise<number> {
  const info = await redis.info('commandstats')
  const line = info.split('\r\n').find((l) => l.startsWith(`cmdstat_${command}:`))
  if (line === undefined) return 0
  const field = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(line)?.[1] ?? 0)
  return field('calls') - field('failed_calls')
}

describe.runIf(await needService('redis'))('the recovery replay against a real redis-server', () => {
  it("never overwrites a value another instance writes between the replay's read and its write", async () => {
    const server = await startRedis()
    const prefix = uniquePrefix('replay-cas')
    const redis = await connect(server.url)
    const b = await instance(server.url, prefix, { ttl: '1m', l2Timeout: '2s' })
    const client = await connect(server.url)
    // a's store runs `between` once its next getMany has answered: b writes right then, after the
    // replay read the keys and before it writes them.
    let between: (() => Promise<void>) | undefined
    const store = redisStore({ client, prefix })
    const hooked: CacheStore = {
      ...store,
      async getMany(keys) {
        const values = await store.getMany(keys)
        const hook = between
        between = undefined
        await hook?.()
        return values
      },
    }
    const a: Instance = {
      client,
      cache: createCache({
        l2: hooked,
        bus: redisBus({ client, channel: `${prefix}bus` }),
        ttl: '1m',
        l2Timeout: 100,
        breaker: { threshold: 1, cooldown: '1s' },
      }),
    }
    try {
      await until(() => a.cache.stats().bus?.connected === true, 5_000)
      for (let i = 0; i < KEYS; i++) await a.cache.set(`k${i}`, 'v1')
      process.kill(server.pid!, 'SIGSTOP')
      try {
        for (let i = 0; i < KEYS; i++) await a.cache.set(`k${i}`, 'v2')
      } finally {
        process.kill(server.pid!, 'SIGCONT')
      }
      expect(a.cache.stats().recovery.queued).toBe(KEYS)
      // b's writes come after a's: newer by the writers' clocks, so they must stay.
      await new Promise((r) => setTimeout(r, 5))
      between = async () => {
        for (let i = 0; i < KEYS / 2; i++) await b.cache.set(`k${i}`, 'v3')
      }
      await redis.config('RESETSTAT')
      await until(() => a.cache.stats().recovery.queued === 0, 10_000)
      expect(between).toBeUndefined()
      for (let i = 0; i < KEYS; i++)
        expect(await stored(redis, prefix, `k${i}`)).toBe(i < KEYS / 2 ? 'v3' : 'v2')
      // One compare-and-set script call per replayed key (EVAL once if the script was not loaded);
      // the keys b wrote are read again and left alone.
      expect((await commandCalls(redis, 'evalsha')) + (await commandCalls(redis, 'eval'))).toBe(KEYS)
      expect(await commandCalls(redis, 'mget')).toBe(2)
      for (let i = 0; i < KEYS; i++) {
        const expected = i < KEYS / 2 ? 'v3' : 'v2'
        await until(async () => (await a.cache.get(`k${i}`)) === expected, 2_000)
        await until(async () => (await b.cache.get(`k${i}`)) === expected, 2_000)
      }
    } finally {
      await shutdown(a, b)
      redis.disconnect()
      await server.stop()
    }
  })

  it('redisStore.compareAndSet applies a change only while the key holds what was read', async () => {
    const server = await startRedis()
    const client = await connect(server.url)
    const store = redisStore({ client, prefix: 'p:' })
    try {
      // nothing read, nothing there: written; nothing read but written since: refused
      expect(await store.compareAndSet!([{ key: 'a', expected: null, value: 'a1', ttl: 60_000 }])).toEqual([
        true,
      ])
      expect(await store.compareAndSet!([{ key: 'a', expected: null, value: 'a2', ttl: 60_000 }])).toEqual([
        false,
      ])
      await store.set('b', Buffer.from([0, 1, 2, 255]), 60_000)
      const [a, b] = await store.getMany(['a', 'b'])
      await store.set('a', 'a3', 60_000)
      const applied = await store.compareAndSet!([
        { key: 'a', expected: a!, value: 'a4', ttl: 60_000 },
        { key: 'b', expected: b!, value: Uint8Array.from([9]), ttl: 5_000 },
      ])
      expect(applied).toEqual([false, true])
      expect(await client.get('p:a')).toBe('a3')
      expect([...(await client.getBuffer('p:b'))!]).toEqual([9])
      expect(await client.pttl('p:b')).toBeGreaterThan(4_000)
      // a deletion: only of what was read
      expect(await store.compareAndSet!([{ key: 'b', expected: b!, value: null, ttl: 0 }])).toEqual([false])
      expect(await store.compareAndSet!([{ key: 'a', expected: 'a3', value: null, ttl: 0 }])).toEqual([true])
      expect(await client.exists('p:a', 'p:b')).toBe(1)
    } finally {
      client.disconnect()
      await server.stop()
    }
  })

  it('reports queued, dropped and replayed changes on hotpath:cache:recovery during a real outage', async () => {
    const server = await startRedis()
    const prefix = uniquePrefix('replay-events')
    const namespace = 'events'
    const options: CacheOptions = {
      namespace,
      ttl: '1m',
      l2Timeout: 100,
      // the first change opens the breaker: no replay starts before the last change is queued
      breaker: { threshold: 1, cooldown: '1s' },
      recoveryQueue: 2,
    }
    const a = await instance(server.url, prefix, options)
    const redis = await connect(server.url)
    const events: RecoveryEvent[] = []
    const listener = (message: unknown) => {
      if ((message as RecoveryEvent).cache === namespace) events.push(message as RecoveryEvent)
    }
    subscribe(cacheChannels.recovery, listener)
    try {
      process.kill(server.pid!, 'SIGSTOP')
      try {
        // the third change does not fit: the first key is then only remembered by name
        for (const key of ['a', 'b', 'c']) await a.cache.set(key, `${key}1`)
      } finally {
        process.kill(server.pid!, 'SIGCONT')
      }
      expect(events).toEqual([
        { cache: namespace, event: 'queued', count: 1, pending: 1 },
        { cache: namespace, event: 'queued', count: 1, pending: 2 },
        { cache: namespace, event: 'queued', count: 1, pending: 3 },
        { cache: namespace, event: 'dropped', count: 1, pending: 3 },
      ])
      await until(() => a.cache.stats().recovery.queued === 0, 10_000)
      // the dropped key is deleted from Redis first, then the two waiting values are written
      expect(events.slice(4)).toEqual([
        { cache: namespace, event: 'replayed', count: 1, pending: 2 },
        { cache: namespace, event: 'replayed', count: 2, pending: 0 },
      ])
      expect(a.cache.stats().recovery).toMatchObject({ queued: 0, replayed: 3, dropped: 1 })
      const key = (k: string) => `${prefix}${namespace}:${codec.id}:${k}`
      expect(await redis.exists(key('a'))).toBe(0)
      expect((codec.decode((await redis.getBuffer(key('b')))!) as unknown[])[0]).toBe('b1')
      expect((codec.decode((await redis.getBuffer(key('c')))!) as unknown[])[0]).toBe('c1')
    } finally {
      unsubscribe(cacheChannels.recovery, listener)
      await shutdown(a)
      redis.disconnect()
      await server.stop()
    }
  })
})
