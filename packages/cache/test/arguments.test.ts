import { deepStrictEqual } from 'node:assert'
import { describe, expect, it } from 'vitest'
import { type Cache, createCache, jsonCodec, msgpackCodec } from '../src/index'
import { kyselyStore } from '../src/kysely'
import { redisBus, redisStore } from '../src/redis'
import { MemoryStore } from './memory-store'

const FORMAT = /^Expected `[^`]+` to be .+, got `.*` \([a-z]+\)$/

/** Runs `call` and asserts it threw a TypeError in the fixed format synchronously (no promise). */
function throwsSync(call: () => unknown, message?: string | RegExp): void {
  let result: unknown
  let error: unknown
  try {
    result = call()
  } catch (caught) {
    error = caught
  }
  if (result instanceof Promise) result.catch(() => {})
  expect(result, 'returned instead of throwing').toBeUndefined()
  expect(error).toBeInstanceOf(TypeError)
  expect((error as Error).message).toMatch(FORMAT)
  if (message !== undefined) expect((error as Error).message).toMatch(message)
}

describe('argument errors are synchronous TypeErrors in the fixed format', () => {
  const cache = createCache({ l2: new MemoryStore() }) as Cache<unknown>
  const bad = {
    'getMany(string)': [
      () => cache.getMany('abc' as never),
      "Expected `keys` to be an array of strings, got `'abc'` (string)",
    ],
    'getMany([1])': [
      () => cache.getMany([1] as never),
      'Expected `keys[0]` to be a string, got `1` (number)',
    ],
    'getOrSetMany(string)': [() => cache.getOrSetMany('abc' as never, () => []), /`keys`/],
    'getOrSetMany(keys, not a function)': [() => cache.getOrSetMany(['a'], 1 as never), /`loader`/],
    'getOrSetMany(signal)': [() => cache.getOrSetMany(['a'], () => [1], { signal: 1 as never }), /`signal`/],
    'deleteMany(string)': [() => cache.deleteMany('abc' as never), /`keys`/],
    'delete(1)': [() => cache.delete(1 as never), /`key`/],
    'get(1)': [() => cache.get(1 as never), /`key`/],
    'peek(1)': [() => cache.peek(1 as never), /`key`/],
    'getOrSet(1)': [() => cache.getOrSet(1 as never, () => 1), /`key`/],
    'getOrSet(key, not a function)': [() => cache.getOrSet('k', 'x' as never), /`loader`/],
    'getOrSet(ttl)': [() => cache.getOrSet('k', () => 1, { ttl: 'soon' as never }), /`ttl`/],
    'getOrSet(signal)': [() => cache.getOrSet('k', () => 1, { signal: {} as never }), /`signal`/],
    'getOrSet(tags)': [() => cache.getOrSet('k', () => 1, { tags: 't' as never }), /`tags`/],
    'set(1)': [() => cache.set(1 as never, 1), /`key`/],
    'set(ttl)': [() => cache.set('k', 1, { ttl: -1 }), /`ttl`/],
    'set(tags)': [() => cache.set('k', 1, { tags: [1] as never }), /`tags\[\]`/],
    'setMany(string)': [() => cache.setMany('abc' as never), /`entries`/],
    'setMany([null])': [() => cache.setMany([null] as never), /`entries\[0\]`/],
    'setMany([{ key: 1 }])': [() => cache.setMany([{ key: 1, value: 1 }] as never), /`key`/],
    'warm(string)': [() => cache.warm('abc' as never), /`entries`/],
    'warm([{ key: 1 }])': [() => cache.warm([{ key: 1, value: 1 }] as never), /`key`/],
    'invalidateTags(string)': [() => cache.invalidateTags('abc' as never), /`tags`/],
    'invalidateTags(undefined)': [() => cache.invalidateTags(undefined as never), /`tags`/],
    'namespace(1)': [() => cache.namespace(1 as never), /`name`/],
    'namespace(policy)': [() => cache.namespace('n', { jitter: 5 }), /`jitter`/],
  } as const

  it.each(Object.entries(bad))('%s', (_, [call, message]) => {
    throwsSync(call, message)
  })

  it('a bad entry in setMany or warm stores none of the entries', async () => {
    const store = new MemoryStore()
    const local = createCache({ l2: store })
    throwsSync(() =>
      local.setMany([
        { key: 'a', value: 1 },
        { key: 2 as never, value: 2 },
      ]),
    )
    expect(
      await local.warm(async () => [{ key: 'b', value: 1 }, null as never]).catch((e) => e),
    ).toBeInstanceOf(TypeError)
    expect(store.data.size).toBe(0)
    expect(local.peek('a')).toBeUndefined()
  })

  it('warm takes a function returning entries, with or without a promise', async () => {
    const local = createCache()
    expect(await local.warm(async () => [{ key: 'a', value: 1 }])).toBe(1)
    expect(await local.warm((() => [{ key: 'b', value: 2 }]) as never)).toBe(1)
    expect(local.peek('b')).toBe(2)
  })

  it('a closed cache still rejects (it is not an argument error)', async () => {
    const closed = createCache()
    await closed.close()
    await expect(closed.getMany(['a'])).rejects.toThrow(/closed/)
    await expect(closed.getOrSet('a', () => 1)).rejects.toThrow(/closed/)
    await expect(closed.getOrSetMany(['a'], () => [1])).rejects.toThrow(/closed/)
    await expect(closed.set('a', 1)).rejects.toThrow(/closed/)
    await expect(closed.delete('a')).rejects.toThrow(/closed/)
  })
})

describe('array results are dense', () => {
  it('getMany has undefined elements at misses, not holes (L1 only and through L2)', async () => {
    for (const cache of [createCache(), createCache({ l2: new MemoryStore() })]) {
      await cache.setMany([
        { key: 'a', value: 1 },
        { key: 'c', value: 3 },
      ])
      const got = await cache.getMany(['a', 'b', 'c'])
      deepStrictEqual(got, [1, undefined, 3])
      expect(Object.keys(got)).toEqual(['0', '1', '2'])
      const none = await cache.getMany(['x', 'y'])
      deepStrictEqual(none, [undefined, undefined])
    }
  })

  it('getOrSetMany has undefined elements for undefined loads, not holes', async () => {
    const cache = createCache()
    await cache.set('a', 1)
    const got = await cache.getOrSetMany(['a', 'b', 'c'], (missing) => new Map([[missing[1]!, 3]]))
    deepStrictEqual(got, [1, undefined, 3])
    expect(Object.keys(got)).toEqual(['0', '1', '2'])
  })
})

describe('unknown option names are refused with a did-you-mean hint', () => {
  const client = { getBuffer() {}, duplicate() {}, publish() {} } as never
  const cases = {
    createCache: [
      () => createCache({ tll: '5m' } as never),
      "Expected `tll` to be a known option of createCache() (did you mean `ttl`?), got `'5m'` (string)",
    ],
    timeouts: [
      () => createCache({ timeouts: { sotf: 5 } as never }),
      /`sotf`.*`timeouts` \(did you mean `soft`\?\)/,
    ],
    l1: [
      () => createCache({ l1: { maxEntres: 5 } as never }),
      /`maxEntres`.*`l1` \(did you mean `maxEntries`\?\)/,
    ],
    breaker: [() => createCache({ breaker: { treshold: 5 } as never }), /did you mean `threshold`/],
    namespace: [() => createCache().namespace('n', { grase: '1m' } as never), /namespace\(\).*`grace`/],
    getOrSet: [() => createCache().getOrSet('k', () => 1, { tag: ['x'] } as never), /getOrSet\(\).*`tags`/],
    getOrSetMany: [() => createCache().getOrSetMany(['k'], () => [1], { tll: 1 } as never), /`ttl`/],
    set: [() => createCache().set('k', 1, { eagerRefresh: 0.5 } as never), /`eagerRefresh`.*set\(\)/],
    setMany: [() => createCache().setMany([{ key: 'k', vale: 1 }] as never), /setMany\(\) entries.*`value`/],
    warm: [() => createCache().warm([{ key: 'k', value: 1, tl: 1 }] as never), /warm\(\) entries.*`ttl`/],
    redisStore: [() => redisStore({ client, prefx: 'p' } as never), /redisStore\(\).*`prefix`/],
    redisBus: [() => redisBus({ client, chanel: 'c' } as never), /redisBus\(\).*`channel`/],
    kyselyStore: [() => kyselyStore({ db: {} as never, tabel: 't' } as never), /kyselyStore\(\).*`table`/],
    jsonCodec: [() => jsonCodec({ ID: 'x' } as never), /jsonCodec\(\).*`id`/],
    msgpackCodec: [() => msgpackCodec({ packer: {} } as never), /msgpackCodec\(\).*`packr`/],
  } as const

  it.each(Object.entries(cases))('%s', (_, [call, message]) => {
    throwsSync(call, message)
  })

  it('known names pass, including on the L1-hit path of getOrSet', async () => {
    const cache = createCache({ ttl: '5m', timeouts: { soft: 0, hard: '1s' }, l1: { maxEntries: 10 } })
    await cache.set('k', 1, { ttl: '1m', tags: ['t'] })
    expect(await cache.getOrSet('k', () => 2, { ttl: '1m' })).toBe(1)
    throwsSync(() => cache.getOrSet('k', () => 2, { tll: '1m' } as never), /did you mean `ttl`/)
  })
})

describe('a non-string key on a namespace never reads the entry its string form names', () => {
  it('get, peek and getOrSet throw before the L1 lookup', async () => {
    const ns = createCache().namespace('ns') as Cache<unknown>
    await ns.set('undefined', 'stored')
    await ns.set('1', 'stored')
    expect(ns.peek('undefined')).toBe('stored')
    for (const key of [undefined, 1]) {
      throwsSync(() => ns.get(key as never), /`key`/)
      throwsSync(() => ns.peek(key as never), /`key`/)
      throwsSync(() => ns.getOrSet(key as never, () => 'loaded'), /`key`/)
    }
  })
})
