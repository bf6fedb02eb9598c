import { dropRedisPrefix, needService, redisUrl, uniquePrefix } from '@hotpath/test-utils'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createCache, msgpackCodec } from '../src/index'
import { keySlot, redisStore } from '../src/redis'
import { type Instance, instance, shutdown, until } from './helpers'
import { sample } from './sample'

describe('keySlot', () => {
  it('matches Redis Cluster slots, with hash tags', () => {
    expect(keySlot('foo')).toBe(12182)
    expect(keySlot('123456789')).toBe(12739)
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'))
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'))
  })
})

describe.runIf(await needService('redis'))('redisStore + redisBus on a real Redis', () => {
  const prefix = uniquePrefix('cache')
  let a: Instance
  let b: Instance

  beforeAll(async () => {
    a = await instance(redisUrl(), prefix)
    b = await instance(redisUrl(), prefix)
  })
  afterAll(async () => {
    await dropRedisPrefix(a.client, prefix)
    await shutdown(a, b)
  })

  it("a set, delete, invalidateTags or clear on one instance reaches the other's L1 within 100 ms", async () => {
    await a.cache.set('k', 1)
    expect(await b.cache.get('k')).toBe(1) // from L2, now in b's L1
    await a.cache.set('k', 2)
    expect(await until(async () => (await b.cache.get('k')) === 2, 100)).toBeLessThan(100)
    await a.cache.delete('k')
    expect(await until(async () => (await b.cache.get('k')) === undefined, 100)).toBeLessThan(100)

    await a.cache.set('tagged', 'x', { tags: ['user:1'] })
    expect(await b.cache.get('tagged')).toBe('x')
    await a.cache.invalidateTags(['user:1'])
    expect(await until(async () => (await b.cache.get('tagged')) === undefined, 100)).toBeLessThan(100)
    await b.cache.set('tagged', 'y', { tags: ['user:1'] })
    expect(await a.cache.get('tagged')).toBe('y')

    const ns = a.cache.namespace('models')
    await ns.set('m', 1)
    expect(await b.cache.namespace('models').get('m')).toBe(1)
    await ns.clear()
    expect(
      await until(async () => (await b.cache.namespace('models').get('m')) === undefined, 100),
    ).toBeLessThan(100)
    expect(b.cache.stats().bus).toMatchObject({ connected: true })
    expect(b.cache.stats().bus!.received).toBeGreaterThan(0)
  })

  it('every codec type round-trips identically through L1 and through L2 (JSON and msgpack)', async () => {
    const value = sample()
    await a.cache.set('types', value)
    expect(await a.cache.get('types')).toBe(value) // L1 keeps the instance
    const fresh = createCache({ l2Timeout: '2s', l2: redisStore({ client: b.client, prefix }) })
    const back = await fresh.get('types')
    expect(back).toStrictEqual(value) // also checks `missing: undefined` is kept and classes match
    expect(Object.keys(back as object)).toEqual(Object.keys(value))
    expect(fresh.stats().l2.hits).toBe(1)

    const codec = await msgpackCodec()
    const binary = {
      date: new Date(3),
      buffer: Buffer.from([0, 255]),
      big: 2n ** 65n,
      set: new Set([1]),
      gone: undefined,
    }
    await createCache({ l2Timeout: '2s', codec, l2: redisStore({ client: a.client, prefix }) }).set(
      'bin',
      binary,
    )
    const reader = createCache({ l2Timeout: '2s', codec, l2: redisStore({ client: b.client, prefix }) })
    const binaryBack = await reader.get('bin')
    expect(binaryBack).toStrictEqual(binary)
    expect('gone' in (binaryBack as object)).toBe(true)
    // A JSON cache does not see msgpack entries: the codec id is part of the key.
    expect(
      await createCache({ l2Timeout: '2s', l2: redisStore({ client: b.client, prefix }) }).get('bin'),
    ).toBeUndefined()
  })

  it('refuses a polluting JSON payload written into Redis by hand', async () => {
    await a.client.set(`${prefix}cache:j1:evil`, '[{"__proto__":{"admin":true}},1,9e15,9e15,0,0]')
    const cache = createCache({ l2Timeout: '2s', l2: redisStore({ client: a.client, prefix }) })
    expect(await cache.get('evil')).toBeUndefined()
    expect(cache.stats().codecErrors).toBe(1)
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
  })

  it('getMany from L2 is one MGET; getOrSetMany loads only the missing keys', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `many:${i}`)
    await a.cache.setMany(keys.slice(0, 60).map((key) => ({ key, value: key })))
    const cache = createCache({ l2Timeout: '2s', l2: redisStore({ client: b.client, prefix }) })
    const mget = vi.spyOn(b.client, 'mgetBuffer')
    const get = vi.spyOn(b.client, 'getBuffer')
    const values = await cache.getMany(keys)
    expect(values.filter((v) => v !== undefined)).toHaveLength(60)
    expect(mget).toHaveBeenCalledTimes(1)
    expect(get).not.toHaveBeenCalled()
    const loader = vi.fn(async (missing: string[]) => missing.map((key) => `loaded ${key}`))
    const all = await createCache({
      l2Timeout: '2s',
      l2: redisStore({ client: b.client, prefix }),
    }).getOrSetMany(keys, loader)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(loader.mock.calls[0]![0]).toEqual(keys.slice(60))
    expect(all[0]).toBe('many:0')
    expect(all[99]).toBe('loaded many:99')
    mget.mockRestore()
    get.mockRestore()
  })

  it('an L1 hit on a tagged key sends no command to Redis', async () => {
    await a.cache.set('tagged', { v: 1 }, { tags: ['user:1', 'team:7'] })
    expect(await a.cache.get('tagged')).toEqual({ v: 1 })
    const sent = vi.spyOn(a.client, 'sendCommand')
    try {
      for (let i = 0; i < 1_000; i++) expect(await a.cache.get('tagged')).toEqual({ v: 1 })
      expect(sent).not.toHaveBeenCalled()
    } finally {
      sent.mockRestore()
    }
    // the tag still works: invalidating it (from the other instance) drops the entry
    await b.cache.invalidateTags(['team:7'])
    await until(async () => (await a.cache.get('tagged')) === undefined, 1_000)
  })

  it('clear() removes the namespace from Redis', async () => {
    const ns = a.cache.namespace('wipe')
    await ns.setMany([
      { key: '1', value: 1 },
      { key: '2', value: 2 },
    ])
    await ns.clear()
    expect(await a.client.keys(`${prefix}cache:j1:wipe:*`)).toEqual([])
  })
})
