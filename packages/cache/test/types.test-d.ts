import type Redis from 'ioredis'
import type { Kysely } from 'kysely'
import { describe, expectTypeOf, it } from 'vitest'
import {
  type BatchLoaderContext,
  type Cache,
  type CacheEntryInput,
  type CacheStats,
  type CacheStore,
  createCache,
  type Loaded,
  type LoaderContext,
} from '../src/index'
import { kyselyStore } from '../src/kysely'
import { type RedisStoreOptions, redisBus, redisLock, redisStore } from '../src/redis'

interface User {
  id: number
  name: string
}

describe('type inference', () => {
  it('getOrSet infers the loader type on an untyped cache', async () => {
    const cache = createCache()
    const user = await cache.getOrSet('k', async () => ({ id: 1 }))
    expectTypeOf(user).toEqualTypeOf<{ id: number }>()
    const sync = await cache.getOrSet('n', () => 42)
    expectTypeOf(sync).toEqualTypeOf<number>()
    // Using the context does not stop the inference.
    const text = await cache.getOrSet('u', (ctx) => {
      expectTypeOf(ctx).toEqualTypeOf<LoaderContext<unknown>>()
      return ctx.key.toUpperCase()
    })
    expectTypeOf(text).toEqualTypeOf<string>()
    expectTypeOf(await cache.get('k')).toEqualTypeOf<unknown>()
    await cache.close()
  })

  it('a typed cache keeps its type and refuses loaders of another type', async () => {
    const cache = createCache<User>()
    expectTypeOf(cache).toEqualTypeOf<Cache<User>>()
    expectTypeOf(await cache.get('k')).toEqualTypeOf<User | undefined>()
    expectTypeOf(cache.peek('k')).toEqualTypeOf<User | undefined>()
    expectTypeOf(await cache.getOrSet('k', async () => ({ id: 1, name: 'a' }))).toEqualTypeOf<User>()
    const loaded = await cache.getOrSet('k', async (ctx) => {
      expectTypeOf(ctx.stale).toEqualTypeOf<User | undefined>()
      return ctx.stale ?? { id: 1, name: 'a' }
    })
    expectTypeOf(loaded).toEqualTypeOf<User>()
    // @ts-expect-error a loader of another type does not fit a Cache<User>
    void cache.getOrSet('k', async () => ({ id: 'one' }))
    // @ts-expect-error set takes the cache's type
    void cache.set('k', { id: 'one' })
    await cache.close()
  })

  it('getMany and getOrSetMany', async () => {
    const cache = createCache()
    expectTypeOf(await cache.getMany(['a'])).toEqualTypeOf<unknown[]>()
    expectTypeOf(await createCache<User>().getMany(['a'])).toEqualTypeOf<(User | undefined)[]>()
    const loaded = await cache.getOrSetMany(['a', 'b'], async (missing) => missing.map((id) => ({ id })))
    expectTypeOf(loaded).toEqualTypeOf<{ id: string }[]>()
    const fromMap = await cache.getOrSetMany(['a'], (missing) => new Map(missing.map((k) => [k, k.length])))
    expectTypeOf(fromMap).toEqualTypeOf<number[]>()
    // A string is not a list of keys (and throws at run time).
    // @ts-expect-error
    expectTypeOf(cache.getMany).toBeCallableWith('abc')
    await cache.close()
  })

  it('namespaces inherit the parent type or take their own', async () => {
    const cache = createCache<User>()
    expectTypeOf(cache.namespace('users')).toEqualTypeOf<Cache<User>>()
    const counts = cache.namespace<number>('counts', { ttl: '1m' })
    expectTypeOf(counts).toEqualTypeOf<Cache<number>>()
    expectTypeOf(await counts.getOrSet('k', () => 1)).toEqualTypeOf<number>()
    const free = createCache().namespace('free')
    expectTypeOf(await free.getOrSet('k', async () => ['x'])).toEqualTypeOf<string[]>()
    await cache.close()
  })
})

describe('writes, options, stores', () => {
  it('writes take the cache type', async () => {
    const cache = createCache<User>()
    const entry: CacheEntryInput<User> = {
      key: 'u1',
      value: { id: 1, name: 'a' },
      ttl: '1m',
      tags: ['users'],
    }
    expectTypeOf(cache.setMany([entry])).toEqualTypeOf<Promise<void>>()
    expectTypeOf(cache.warm(async () => [entry])).toEqualTypeOf<Promise<number>>()
    expectTypeOf(cache.stats()).toEqualTypeOf<CacheStats>()
    // @ts-expect-error an entry of another type
    void cache.setMany([{ key: 'u1', value: 1 }])
    // @ts-expect-error a duration
    void cache.set('k', { id: 1, name: 'a' }, { ttl: 'a minute' })
    // @ts-expect-error misspelled option
    void cache.getOrSet('k', async () => ({ id: 1, name: 'a' }), { tag: ['users'] })
    // @ts-expect-error misspelled option
    createCache({ tll: '1m' })
    await cache.close()
  })

  it('the many-loader sees the missing keys and a batch context', async () => {
    const cache = createCache()
    await cache.getOrSetMany(['a'], (missing, ctx) => {
      expectTypeOf(missing).toEqualTypeOf<string[]>()
      expectTypeOf(ctx).toEqualTypeOf<BatchLoaderContext>()
      return missing
    })
    expectTypeOf<Loaded<unknown, number>>().toEqualTypeOf<number>()
    expectTypeOf<Loaded<User, User>>().toEqualTypeOf<User>()
    await cache.close()
  })

  it('redis and kysely stores plug into createCache', () => {
    // An ioredis client fits the store, the bus and the lock.
    const client = {} as Redis
    expectTypeOf(client).toExtend<RedisStoreOptions['client']>()
    const l2 = redisStore({ client, prefix: 'app:' })
    expectTypeOf(l2).toEqualTypeOf<CacheStore>()
    const cache = createCache<User>({
      l2,
      bus: redisBus({ client }),
      lock: redisLock({ client, ttl: '10s' }),
    })
    expectTypeOf(cache).toEqualTypeOf<Cache<User>>()
    expectTypeOf(kyselyStore({ db: {} as Kysely<{ users: { id: number } }> })).toEqualTypeOf<CacheStore>()
    // @ts-expect-error `client` is required
    redisStore({ prefix: 'app:' })
    // @ts-expect-error misspelled option
    kyselyStore({ db: {} as Kysely<unknown>, tableName: 'cache' })
  })
})
