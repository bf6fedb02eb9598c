import { describe, expectTypeOf, it } from 'vitest'
import { type Cache, createCache, type LoaderContext } from '../src/index'

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
