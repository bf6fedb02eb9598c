import diagnostics from 'node:diagnostics_channel'
import { getEventListeners } from 'node:events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CacheClosedError, CacheLoaderTimeoutError, createCache } from '../src/index'
import { MemoryStore } from './memory-store'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('createCache options', () => {
  it('refuses an unbounded L1 and bad options in the standard format', () => {
    expect(() => createCache({ l1: { maxEntries: Number.POSITIVE_INFINITY } })).toThrow(
      /Expected `l1.maxEntries` to be a finite integer >= 1 when `l1.maxBytes` is not set/,
    )
    expect(() => createCache({ ttl: '5 mins' as never })).toThrow(/Expected `ttl` to be a duration/)
    expect(() => createCache({ jitter: 2 })).toThrow(
      'Expected `jitter` to be a finite number between 0 and 1, got `2` (number)',
    )
    expect(() => createCache({ l1: { maxBytes: '12 parsecs' } })).toThrow(
      /Expected `l1.maxBytes` to be a byte size/,
    )
    expect(() => createCache({ l1: false })).toThrow(/Expected `l1`/)
    expect(() => createCache({ l1: { maxEntries: Number.POSITIVE_INFINITY, maxBytes: '1mb' } })).not.toThrow()
  })
})

describe('get / set / expiry', () => {
  it('serves a value until its ttl, then misses, checked by timestamp on read', async () => {
    const cache = createCache({ ttl: '1m' })
    await cache.set('a', 1)
    expect(await cache.get('a')).toBe(1)
    vi.advanceTimersByTime(59_999)
    expect(await cache.get('a')).toBe(1)
    vi.advanceTimersByTime(1)
    expect(await cache.get('a')).toBeUndefined()
    expect(vi.getTimerCount()).toBe(0) // no per-entry timer
  })

  it('on the real clock, expires on time although hits share one clock read per loop turn', async () => {
    vi.useRealTimers()
    const cache = createCache()
    await cache.set('a', 1, { ttl: 40 })
    const hits: unknown[] = []
    for (let i = 0; i < 1_000; i++) hits.push(await cache.get('a'), cache.peek('a'))
    expect(hits.every((hit) => hit === 1)).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(cache.peek('a')).toBeUndefined()
    expect(await cache.get('a')).toBeUndefined()
  })

  it('handles ttls of months', async () => {
    const cache = createCache()
    await cache.set('long', 'v', { ttl: '120d' })
    vi.setSystemTime(Date.now() + 119 * 86_400_000)
    expect(await cache.get('long')).toBe('v')
    vi.setSystemTime(Date.now() + 2 * 86_400_000)
    expect(await cache.get('long')).toBeUndefined()
  })

  it('bounds L1 by entries and by encoded bytes', async () => {
    const byCount = createCache({ l1: { maxEntries: 3 } })
    for (const key of ['a', 'b', 'c', 'd']) await byCount.set(key, key)
    expect(await byCount.get('a')).toBeUndefined()
    expect(byCount.stats().l1).toMatchObject({ size: 3, evictions: 1 })

    const byBytes = createCache({ l1: { maxEntries: 1_000, maxBytes: 400 } })
    for (let i = 0; i < 10; i++) await byBytes.set(`k${i}`, 'x'.repeat(50))
    const { l1 } = byBytes.stats()
    expect(l1.bytes).toBeLessThanOrEqual(400)
    expect(l1.size).toBeLessThan(10)
    expect(await byBytes.get('k9')).toBe('x'.repeat(50))
  })

  it('deletes, clears and keeps namespaces apart', async () => {
    const cache = createCache()
    const models = cache.namespace('models', { ttl: '5m' })
    const health = cache.namespace('health', { ttl: '1m' })
    await models.set('m', 1)
    await health.set('m', 2)
    await cache.set('m', 3)
    expect([await models.get('m'), await health.get('m'), await cache.get('m')]).toEqual([1, 2, 3])
    vi.advanceTimersByTime(60_000)
    expect([await models.get('m'), await health.get('m')]).toEqual([1, undefined])
    await models.clear()
    expect([await models.get('m'), await cache.get('m')]).toEqual([undefined, 3])
    await cache.delete('m')
    expect(await cache.get('m')).toBeUndefined()
    await models.set('x', 1)
    await cache.clear()
    expect(await models.get('x')).toBeUndefined()
  })

  it('getMany returns values in key order, setMany and deleteMany work in bulk', async () => {
    const cache = createCache()
    await cache.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ])
    expect(await cache.getMany(['b', 'x', 'a'])).toEqual([2, undefined, 1])
    await cache.deleteMany(['a', 'b'])
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined])
  })

  it('applies jitter as a reduction of the ttl', async () => {
    const cache = createCache({ ttl: 10_000, jitter: 0.5 })
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`)
    await cache.setMany(keys.map((key) => ({ key, value: 1 })))
    vi.advanceTimersByTime(4_999)
    expect((await cache.getMany(keys)).every((v) => v === 1)).toBe(true)
    vi.advanceTimersByTime(5_001)
    expect((await cache.getMany(keys)).every((v) => v === undefined)).toBe(true)
    vi.advanceTimersByTime(-0)
  })
})

describe('getOrSet', () => {
  it('1,000 concurrent callers on a cold key run the loader exactly once', async () => {
    const cache = createCache()
    let calls = 0
    const loader = async () => {
      calls++
      await new Promise((r) => setTimeout(r, 20))
      return 'v'
    }
    const all = Promise.all(Array.from({ length: 1_000 }, () => cache.getOrSet('cold', loader)))
    await vi.advanceTimersByTimeAsync(20)
    expect(await all).toEqual(Array.from({ length: 1_000 }, () => 'v'))
    expect(calls).toBe(1)
    expect(cache.stats()).toMatchObject({ loads: 1 })
  })

  it('1,000 concurrent getOrSetMany calls run one loader call with only the missing keys', async () => {
    const cache = createCache()
    await cache.set('warm', 'W')
    const seen: string[][] = []
    const loader = async (missing: string[]) => {
      seen.push(missing)
      await new Promise((r) => setTimeout(r, 20))
      return missing.map((key) => key.toUpperCase())
    }
    const all = Promise.all(
      Array.from({ length: 1_000 }, () => cache.getOrSetMany(['a', 'warm', 'b', 'a'], loader)),
    )
    const single = cache.getOrSet('b', async () => 'never')
    await vi.advanceTimersByTimeAsync(20)
    const results = await all
    expect(results[0]).toEqual(['A', 'W', 'B', 'A'])
    expect(results[999]).toEqual(['A', 'W', 'B', 'A'])
    expect(await single).toBe('B')
    expect(seen).toEqual([['a', 'b']])
    expect(await cache.get('b')).toBe('B')
  })

  it('getOrSetMany accepts a Map and rejects a misaligned array', async () => {
    const cache = createCache()
    expect(await cache.getOrSetMany(['x', 'y'], async () => new Map([['y', 2]]))).toEqual([undefined, 2])
    await expect(cache.getOrSetMany(['p', 'q'], async () => [1])).rejects.toThrow(/array of 2 values/)
  })

  it('propagates a loader error to every caller and caches nothing', async () => {
    const cache = createCache()
    const boom = new Error('boom')
    const results = await Promise.allSettled([
      cache.getOrSet('k', async () => Promise.reject(boom)),
      cache.getOrSet('k', async () => 'other'),
    ])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok')
    expect(cache.stats()).toMatchObject({ loads: 2, loadErrors: 1 })
  })

  it('ctx.skip() returns without storing; ctx.setTtl() sets the entry ttl', async () => {
    const cache = createCache({ ttl: '1h' })
    expect(
      await cache.getOrSet('s', (ctx) => {
        ctx.skip()
        return 1
      }),
    ).toBe(1)
    expect(await cache.get('s')).toBeUndefined()
    await cache.getOrSet('t', (ctx) => {
      ctx.setTtl('30s')
      return 'token'
    })
    vi.advanceTimersByTime(29_000)
    expect(await cache.get('t')).toBe('token')
    vi.advanceTimersByTime(1_000)
    expect(await cache.get('t')).toBeUndefined()
  })

  it('caches null/undefined results with negativeTtl', async () => {
    const cache = createCache({ ttl: '1h', negativeTtl: '10s' })
    let calls = 0
    const loader = () => {
      calls++
      return null
    }
    expect(await cache.getOrSet('nobody', loader)).toBeNull()
    expect(await cache.getOrSet('nobody', loader)).toBeNull()
    expect(calls).toBe(1)
    vi.advanceTimersByTime(10_000)
    await cache.getOrSet('nobody', loader)
    expect(calls).toBe(2)
    const none = createCache({ negativeTtl: 0 })
    await none.getOrSet('n', () => undefined)
    await none.getOrSet('n', () => undefined)
    expect(none.stats().loads).toBe(2)
  })

  it('serves stale within grace while revalidating (soft timeout 0)', async () => {
    const cache = createCache({ ttl: '1m', grace: '10m' })
    await cache.set('k', 'old')
    vi.advanceTimersByTime(61_000)
    let release!: (v: string) => void
    const loader = vi.fn(() => new Promise<string>((r) => (release = r)))
    expect(await cache.getOrSet('k', loader)).toBe('old')
    expect(await cache.getOrSet('k', loader)).toBe('old')
    expect(loader).toHaveBeenCalledTimes(1)
    release('new')
    await vi.advanceTimersByTimeAsync(0)
    expect(await cache.get('k')).toBe('new')
    expect(cache.stats().staleServed).toBe(2)
  })

  it('fail-safe: serves stale when the loader fails and throttles retries', async () => {
    const cache = createCache({ ttl: '1m', grace: '1h', failSafeRetry: '10s', timeouts: { soft: '1s' } })
    await cache.set('k', 'old')
    vi.advanceTimersByTime(61_000)
    const failing = vi.fn(async () => Promise.reject(new Error('down')))
    expect(await cache.getOrSet('k', failing)).toBe('old')
    expect(await cache.getOrSet('k', failing)).toBe('old')
    expect(failing).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(10_000)
    expect(await cache.getOrSet('k', failing)).toBe('old')
    expect(failing).toHaveBeenCalledTimes(2)
    vi.advanceTimersByTime(3_600_000)
    await expect(cache.getOrSet('k', failing)).rejects.toThrow('down')
  })

  it('soft timeout serves stale and the loader finishes in the background', async () => {
    const cache = createCache({ ttl: '1m', grace: '1h', timeouts: { soft: '50ms', hard: '2s' } })
    await cache.set('k', 'old')
    vi.advanceTimersByTime(61_000)
    const slow = () => new Promise<string>((r) => setTimeout(() => r('new'), 500))
    const got = cache.getOrSet('k', slow)
    await vi.advanceTimersByTimeAsync(50)
    expect(await got).toBe('old')
    await vi.advanceTimersByTimeAsync(450)
    expect(await cache.get('k')).toBe('new')
  })

  it('a fast loader beats the soft timeout', async () => {
    const cache = createCache({ ttl: '1m', grace: '1h', timeouts: { soft: '50ms' } })
    await cache.set('k', 'old')
    vi.advanceTimersByTime(61_000)
    const got = cache.getOrSet('k', () => new Promise<string>((r) => setTimeout(() => r('new'), 10)))
    await vi.advanceTimersByTimeAsync(10)
    expect(await got).toBe('new')
  })

  it('hard timeout rejects with CacheLoaderTimeoutError and stores the late value', async () => {
    const cache = createCache({ timeouts: { hard: '2s' } })
    const got = cache.getOrSet('k', () => new Promise<string>((r) => setTimeout(() => r('late'), 5_000)))
    const check = expect(got).rejects.toBeInstanceOf(CacheLoaderTimeoutError)
    await vi.advanceTimersByTimeAsync(2_000)
    await check
    await vi.advanceTimersByTimeAsync(3_000)
    expect(await cache.get('k')).toBe('late')
    expect(cache.stats().loaderTimeouts).toBe(1)
  })

  it('eager refresh reloads in the background after the configured fraction of the ttl', async () => {
    const cache = createCache({ ttl: 10_000, eagerRefresh: 0.8 })
    let n = 0
    const loader = async () => ++n
    expect(await cache.getOrSet('k', loader)).toBe(1)
    vi.advanceTimersByTime(7_999)
    expect(await cache.getOrSet('k', loader)).toBe(1)
    expect(n).toBe(1)
    vi.advanceTimersByTime(1)
    expect(await cache.getOrSet('k', loader)).toBe(1)
    await vi.advanceTimersByTimeAsync(0)
    expect(n).toBe(2)
    expect(await cache.getOrSet('k', loader)).toBe(2)
  })

  it('a set during a load wins over the load result', async () => {
    const cache = createCache()
    let release!: (v: string) => void
    const loading = cache.getOrSet('k', () => new Promise<string>((r) => (release = r)))
    await vi.advanceTimersByTimeAsync(0)
    await cache.set('k', 'set')
    release('loaded')
    expect(await loading).toBe('loaded')
    expect(await cache.get('k')).toBe('set')
  })

  it('a caller signal stops its wait and leaves no listener behind', async () => {
    const cache = createCache()
    const controller = new AbortController()
    const got = cache.getOrSet('k', () => new Promise<string>((r) => setTimeout(() => r('v'), 100)), {
      signal: controller.signal,
    })
    await vi.advanceTimersByTimeAsync(1)
    expect(getEventListeners(controller.signal, 'abort').length).toBe(1)
    controller.abort()
    await expect(got).rejects.toThrow()
    expect(getEventListeners(controller.signal, 'abort').length).toBe(0)
    await vi.advanceTimersByTimeAsync(100)
    expect(await cache.get('k')).toBe('v')
  })

  it('close() settles pending callers and aborts ctx.signal', async () => {
    const cache = createCache()
    let signal!: AbortSignal
    const got = cache.getOrSet('k', (ctx) => {
      signal = ctx.signal
      return new Promise<string>(() => {})
    })
    await vi.advanceTimersByTimeAsync(0)
    await cache.close()
    await expect(got).rejects.toBeInstanceOf(CacheClosedError)
    expect(signal.aborted).toBe(true)
    await expect(cache.get('k')).rejects.toBeInstanceOf(CacheClosedError)
    await expect(cache.set('k', 1)).rejects.toBeInstanceOf(CacheClosedError)
  })
})

describe('peek', () => {
  it('reads L1 synchronously with the same freshness, tags and namespaces as get', async () => {
    const cache = createCache({ ttl: '1m' })
    const other = cache.namespace('other')
    await cache.set('a', 1, { tags: ['t'] })
    await other.set('a', 2)
    expect(cache.peek('a')).toBe(1)
    expect(other.peek('a')).toBe(2)
    expect(cache.peek('missing')).toBeUndefined()
    await cache.invalidateTags(['t'])
    expect(cache.peek('a')).toBeUndefined()
    vi.advanceTimersByTime(60_000)
    expect(other.peek('a')).toBeUndefined()
    expect(cache.stats().l1).toMatchObject({ hits: 2, misses: 3 })
  })

  it('never reaches a loader or L2, refuses a bad key and a closed cache', async () => {
    const cache = createCache({ l1: false, l2: new MemoryStore() })
    await cache.set('a', 1)
    expect(await cache.get('a')).toBe(1)
    expect(cache.peek('a')).toBeUndefined()
    expect(() => cache.peek(7 as never)).toThrow('Expected `key` to be a string, got `7` (number)')
    await cache.close()
    expect(() => cache.peek('a')).toThrow(CacheClosedError)
  })
})

describe('tags without L2', () => {
  it('invalidateTags drops tagged values in this namespace only', async () => {
    const cache = createCache()
    const other = cache.namespace('other')
    await cache.set('a', 1, { tags: ['t'] })
    await cache.set('b', 2, { tags: ['u'] })
    await other.set('a', 3, { tags: ['t'] })
    await cache.getOrSet('c', () => 4, { tags: ['t', 'u'] })
    await cache.invalidateTags(['t'])
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([undefined, 2, undefined])
    expect(await other.get('a')).toBe(3)
    await cache.set('a', 5, { tags: ['t'] })
    expect(await cache.get('a')).toBe(5)
  })
})

describe('warm', () => {
  it('preloads from an array or a function and resolves to the count', async () => {
    const cache = createCache()
    const models = cache.namespace('models', { ttl: '5m' })
    expect(await models.warm([{ key: 'a', value: 1 }])).toBe(1)
    const many = Array.from({ length: 1_200 }, (_, i) => ({ key: `m${i}`, value: i }))
    expect(await models.warm(async () => many)).toBe(1_200)
    expect(await models.getMany(['a', 'm0', 'm1199'])).toEqual([1, 0, 1199])
    const loader = vi.fn(() => -1)
    expect(await models.getOrSet('m5', loader)).toBe(5)
    expect(loader).not.toHaveBeenCalled()
  })
})

describe('channels', () => {
  it('publishes misses, stale serves and loads to hotpath:cache:* when subscribed', async () => {
    const seen: string[] = []
    const onMiss = (m: unknown) => seen.push(`miss ${(m as { key: string }).key}`)
    const onStale = (m: unknown) => seen.push(`stale ${(m as { reason: string }).reason}`)
    const onLoad = { start: () => seen.push('load start') }
    diagnostics.subscribe('hotpath:cache:miss', onMiss)
    diagnostics.subscribe('hotpath:cache:stale', onStale)
    diagnostics.tracingChannel('hotpath:cache:load').subscribe(onLoad as never)
    try {
      const cache = createCache({ ttl: 1_000, grace: '1m' })
      await cache.getOrSet('k', () => 1)
      vi.advanceTimersByTime(1_000)
      await cache.getOrSet('k', () => 2)
      expect(seen).toEqual(['miss k', 'load start', 'miss k', 'load start', 'stale revalidating'])
    } finally {
      diagnostics.unsubscribe('hotpath:cache:miss', onMiss)
      diagnostics.unsubscribe('hotpath:cache:stale', onStale)
      diagnostics.tracingChannel('hotpath:cache:load').unsubscribe(onLoad as never)
    }
  })
})

describe('stats', () => {
  it('counts hits, misses, loads and the hit rate', async () => {
    const cache = createCache()
    await cache.getOrSet('a', () => 1)
    await cache.get('a')
    await cache.get('a')
    await cache.get('zz')
    const stats = cache.stats()
    expect(stats.l1.hits).toBe(2)
    expect(stats.misses).toBe(2)
    expect(stats.loads).toBe(1)
    expect(stats.hitRate).toBe(0.5)
    expect(stats.l2.enabled).toBe(false)
  })
})
