import { needService, type RedisServer, startRedis } from '@hotpath/test-utils'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createCache } from '../src/index'
import { redisStore } from '../src/redis'
import { connect } from './helpers'
import { MemoryStore } from './memory-store'

/** Calls per command since the last reset, from `INFO commandstats`. */
async function commandCalls(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats')
  const calls: Record<string, number> = {}
  for (const match of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2])
  return calls
}

describe.runIf(await needService('redis'))('coalesced L2 reads on a private redis-server', () => {
  let server: RedisServer
  let client: Redis
  let admin: Redis

  beforeAll(async () => {
    server = await startRedis()
    client = await connect(server.url)
    admin = await connect(server.url)
  }, 30_000)
  afterAll(async () => {
    client?.disconnect()
    admin?.disconnect()
    await server?.stop()
  })
  beforeEach(async () => {
    await admin.flushall()
  })

  const reader = () =>
    createCache({ namespace: 'co', l1: false, l2Timeout: '2s', l2: redisStore({ client, prefix: 'p:' }) })

  it('64 concurrent gets of distinct keys send no GET and a handful of MGETs', async () => {
    const keys = Array.from({ length: 64 }, (_, i) => `item:${i}`)
    const writer = reader()
    await writer.setMany(keys.map((key, i) => ({ key, value: { i } })))
    const cache = reader()
    await admin.config('RESETSTAT')
    const values = await Promise.all(keys.map((key) => cache.get(key)))
    expect(values).toEqual(keys.map((_, i) => ({ i })))
    const calls = await commandCalls(admin)
    expect(calls.get ?? 0).toBe(0)
    expect(calls.mget).toBeGreaterThanOrEqual(1)
    expect(calls.mget).toBeLessThanOrEqual(4)
    expect(cache.stats().l2).toMatchObject({ hits: 64, misses: 0, errors: 0 })
  })

  it('concurrent getOrSet misses share the MGET; only the missing keys are loaded', async () => {
    const keys = Array.from({ length: 32 }, (_, i) => `gos:${i}`)
    const writer = reader()
    await writer.setMany(keys.filter((_, i) => i % 2 === 0).map((key) => ({ key, value: `stored ${key}` })))
    const cache = reader()
    await admin.config('RESETSTAT')
    const loaded: string[] = []
    const values = await Promise.all(
      keys.map((key) =>
        cache.getOrSet(key, (ctx) => {
          loaded.push(ctx.key)
          return `loaded ${ctx.key}`
        }),
      ),
    )
    expect(values).toEqual(keys.map((key, i) => (i % 2 === 0 ? `stored ${key}` : `loaded ${key}`)))
    expect(loaded.sort()).toEqual(keys.filter((_, i) => i % 2 === 1).sort())
    const calls = await commandCalls(admin)
    expect(calls.get ?? 0).toBe(0)
    expect(calls.mget).toBe(1)
  })

  it('a lone get is a plain GET', async () => {
    const cache = reader()
    await cache.set('alone', 1)
    await admin.config('RESETSTAT')
    expect(await cache.get('alone')).toBe(1)
    const calls = await commandCalls(admin)
    expect(calls.get).toBe(1)
    expect(calls.mget ?? 0).toBe(0)
  })

  it('values, misses and an undecodable value are told apart per key', async () => {
    const cache = reader()
    await cache.setMany([
      { key: 'a', value: 'A' },
      { key: 'c', value: { c: [1, 2] } },
    ])
    await client.set('p:co:j1:bad', 'not an envelope')
    await admin.config('RESETSTAT')
    const values = await Promise.all(['a', 'missing', 'bad', 'c', 'a'].map((key) => cache.get(key)))
    expect(values).toEqual(['A', undefined, undefined, { c: [1, 2] }, 'A'])
    const stats = cache.stats()
    expect(stats.codecErrors).toBe(1)
    expect(stats.l2).toMatchObject({ hits: 3, misses: 2, errors: 0 })
    const calls = await commandCalls(admin)
    expect(calls).toMatchObject({ mget: 1 })
    expect(calls.get ?? 0).toBe(0)
  })

  it('a caller that aborts does not fail the others of its batch', async () => {
    const cache = reader()
    await cache.setMany(['x', 'y', 'z'].map((key) => ({ key, value: key.toUpperCase() })))
    await admin.config('RESETSTAT')
    const controller = new AbortController()
    const loader = () => 'loaded'
    const calls = ['x', 'y', 'z'].map((key) =>
      cache.getOrSet(key, loader, key === 'y' ? { signal: controller.signal } : undefined),
    )
    controller.abort(new Error('gave up'))
    const settled = await Promise.allSettled(calls)
    expect(settled[0]).toEqual({ status: 'fulfilled', value: 'X' })
    expect(settled[1]).toMatchObject({ status: 'rejected', reason: { message: 'gave up' } })
    expect(settled[2]).toEqual({ status: 'fulfilled', value: 'Z' })
    expect((await commandCalls(admin)).mget).toBe(1)
  })
})

describe('coalesced L2 reads: timeouts and failures stay per caller', () => {
  it('each caller keeps its own l2Timeout: a later caller is not cut short by an earlier one', async () => {
    const store = new MemoryStore()
    const cache = createCache({ l1: false, l2: store, l2Timeout: 60 })
    await cache.setMany([
      { key: 'k1', value: 1 },
      { key: 'k2', value: 2 },
    ])
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const getMany = store.getMany.bind(store)
    const sent: string[][] = []
    store.getMany = (keys) => {
      sent.push([...keys])
      return gate.then(() => getMany(keys))
    }
    const first = cache.get('k1')
    const second = cache.get('k2')
    // Both were sent as one read; it answers after their budget.
    await expect(first).resolves.toBeUndefined()
    await expect(second).resolves.toBeUndefined()
    expect(cache.stats().l2.timeouts).toBe(2)
    release()
    expect(sent).toHaveLength(1)
    expect(sent[0]).toHaveLength(2)
    // A batch made later has its own full budget.
    store.getMany = getMany
    expect(await Promise.all([cache.get('k1'), cache.get('k2')])).toEqual([1, 2])
    await cache.close()
  })

  it('a failed batch read fails each read on its own, counted once per caller by the breaker', async () => {
    const store = new MemoryStore()
    const cache = createCache({ l1: false, l2: store, l2Timeout: '1s', breaker: { threshold: 3 } })
    store.mode = 'fail'
    expect(await Promise.all(['a', 'b'].map((key) => cache.get(key)))).toEqual([undefined, undefined])
    expect(store.calls).toBe(1)
    expect(cache.stats().l2).toMatchObject({ errors: 2, breaker: 'closed' })
    expect(await Promise.all(['c', 'd'].map((key) => cache.getOrSet(key, () => `loaded ${key}`)))).toEqual([
      'loaded c',
      'loaded d',
    ])
    expect(cache.stats().l2.breaker).toBe('open')
    await cache.close()
  })
})
