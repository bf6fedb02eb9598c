import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CacheL2TimeoutError, createCache, jsonCodec } from '../src/index'
import { MemoryStore } from './memory-store'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('L2 tier', () => {
  it('writes through to L2 under a codec-versioned key and reads it back into L1', async () => {
    const store = new MemoryStore()
    const a = createCache({ namespace: 'app', l2: store })
    await a.namespace('models').set('m', { at: new Date(1) })
    expect([...store.data.keys()]).toEqual(['app:j1:models:m'])
    const b = createCache({ namespace: 'app', l2: store })
    expect(await b.namespace('models').get('m')).toEqual({ at: new Date(1) })
    expect(b.stats().l2.hits).toBe(1)
    await b.namespace('models').get('m')
    expect(b.stats().l1.hits).toBe(1)
    const other = createCache({ namespace: 'app', l2: store, codec: jsonCodec({ id: 'j2' }) })
    expect(await other.namespace('models').get('m')).toBeUndefined()
  })

  it('with l1: false every read goes to L2', async () => {
    const store = new MemoryStore()
    const cache = createCache({ l1: false, l2: store })
    await cache.set('k', 1)
    const before = store.calls
    expect(await cache.get('k')).toBe(1)
    expect(await cache.get('k')).toBe(1)
    expect(store.calls - before).toBe(2)
  })

  it('getMany fetches L1 misses from L2 in one call', async () => {
    const store = new MemoryStore()
    await createCache({ l2: store }).setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ])
    const cache = createCache({ l2: store })
    await cache.set('c', 3)
    const before = store.calls
    expect(await cache.getMany(['a', 'b', 'c', 'd'])).toEqual([1, 2, 3, undefined])
    expect(store.calls - before).toBe(1)
  })

  it('refuses a polluting payload written into L2 by hand (read as a miss)', async () => {
    const store = new MemoryStore()
    const cache = createCache({ l2: store })
    store.data.set('cache:j1:evil', '[{"__proto__":{"admin":true}},1,9e15,9e15,0,0]')
    expect(await cache.get('evil')).toBeUndefined()
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
    expect(cache.stats().codecErrors).toBe(1)
    expect(await cache.getOrSet('evil', () => 'clean')).toBe('clean')
  })

  it('bounds every L2 call by l2Timeout and falls back to the loader', async () => {
    const store = new MemoryStore()
    store.mode = 'hang'
    const cache = createCache({ l2: store, l2Timeout: '50ms' })
    let settled = false
    const got = cache
      .getOrSet('k', () => 'loaded')
      .finally(() => {
        settled = true
      })
    // One L2 budget per call: 50 ms for the read, and the write goes on in the background.
    await vi.advanceTimersByTimeAsync(50)
    expect(settled).toBe(true)
    expect(await got).toBe('loaded')
    expect(cache.stats().l2.timeouts).toBe(1)
    await vi.advanceTimersByTimeAsync(50)
    expect(cache.stats().l2.timeouts).toBe(2)
    expect(cache.stats().recovery.queued).toBe(1)
    const invalidation = cache.invalidateTags(['t'])
    await vi.advanceTimersByTimeAsync(50)
    await invalidation
    expect(cache.stats().recovery.queued).toBe(2)
  })

  it("a loader's own time does not use up the L2 budget: the write after it is still awaited", async () => {
    const store = new MemoryStore()
    const set = store.set.bind(store)
    store.set = (key, value) => new Promise((resolve) => setTimeout(resolve, 30)).then(() => set(key, value))
    const cache = createCache({ l2: store, l2Timeout: '100ms' })
    let settled = false
    const got = cache
      .getOrSet('k', () => new Promise<string>((resolve) => setTimeout(() => resolve('v'), 150)))
      .finally(() => {
        settled = true
      })
    await vi.advanceTimersByTimeAsync(160)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(30)
    expect(await got).toBe('v')
    expect(store.data.has('cache:j1:k')).toBe(true)
  })

  it('with recoveryQueue: 0, invalidateTags rejects with the L2 error', async () => {
    const store = new MemoryStore()
    store.mode = 'hang'
    const cache = createCache({ l2: store, l2Timeout: '50ms', recoveryQueue: 0 })
    const invalidation = cache.invalidateTags(['t'])
    const check = expect(invalidation).rejects.toBeInstanceOf(CacheL2TimeoutError)
    await vi.advanceTimersByTimeAsync(50)
    await check
  })

  it('auto-recovery: changes L2 missed are read from the queue meanwhile, then replayed in one go', async () => {
    const store = new MemoryStore()
    const cache = createCache({ l1: false, l2: store, breaker: { threshold: 1, cooldown: '1s' } })
    await cache.set('k', 'old')
    await cache.set('gone', 'old')
    await cache.set('t', 1, { tags: ['g'] })
    store.mode = 'fail'
    await cache.set('k', 'mid')
    await cache.set('k', 'new')
    await cache.delete('gone')
    await cache.invalidateTags(['g'])
    expect(cache.stats().recovery).toEqual({ queued: 3, replayed: 0, dropped: 0 })
    // the writer never reads its pre-outage value back
    expect(await cache.get('k')).toBe('new')
    expect(await cache.get('gone')).toBeUndefined()
    expect(await cache.get('t')).toBeUndefined()
    store.mode = 'ok'
    await vi.advanceTimersByTimeAsync(1_000)
    expect(cache.stats().recovery).toEqual({ queued: 0, replayed: 3, dropped: 0 })
    expect((jsonCodec().decode(store.data.get('cache:j1:k')!) as unknown[])[0]).toBe('new')
    expect(store.data.has('cache:j1:gone')).toBe(false)
    expect(store.tagVersions.get('cache:g')).toBe(1)
    expect(await cache.get('t')).toBeUndefined()
  })

  it('a successful clear() drops the waiting changes of the keys it cleared', async () => {
    const store = new MemoryStore()
    const cache = createCache({ l2: store, breaker: { threshold: 5, cooldown: '1s' } })
    store.mode = 'fail'
    await cache.namespace('a').set('k', 1)
    await cache.namespace('b').set('k', 2)
    expect(cache.stats().recovery.queued).toBe(2)
    store.mode = 'ok'
    await cache.namespace('a').clear()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(cache.stats().recovery).toEqual({ queued: 0, replayed: 1, dropped: 0 })
    expect([...store.data.keys()]).toEqual(['cache:j1:b:k'])
  })

  it('the recovery queue stays bounded when tag invalidations fill it; recovery then clears the cache', async () => {
    const store = new MemoryStore()
    const cache = createCache({ l2: store, recoveryQueue: 2, breaker: { threshold: 100, cooldown: '1s' } })
    await cache.set('old', 'v1')
    store.mode = 'fail'
    await cache.invalidateTags(['t1'])
    await cache.invalidateTags(['t2'])
    for (let i = 0; i < 10; i++) await cache.set(`k${i}`, i)
    // two tag invalidations plus one "clear everything" marker
    expect(cache.stats().recovery).toEqual({ queued: 3, replayed: 0, dropped: 10 })
    expect(await cache.get('k3')).toBe(3) // from L1
    store.mode = 'ok'
    await vi.advanceTimersByTimeAsync(5_000)
    expect(cache.stats().recovery.queued).toBe(0)
    expect(store.data.size).toBe(0)
    expect(store.tagVersions.get('cache:t1')).toBe(1)
    expect(store.tagVersions.get('cache:t2')).toBe(1)
  })

  it('opens the breaker after repeated failures, skips L2 during the cool-down, then probes and closes', async () => {
    const store = new MemoryStore()
    const cache = createCache({ l2: store, breaker: { threshold: 3, cooldown: '5s' } })
    await cache.set('warm', 'w')
    store.mode = 'fail'
    for (let i = 0; i < 3; i++) await cache.get(`miss${i}`)
    expect(cache.stats().l2.breaker).toBe('open')
    const calls = store.calls
    expect(await cache.get('miss9')).toBeUndefined()
    expect(await cache.get('warm')).toBe('w')
    expect(store.calls).toBe(calls)
    expect(cache.stats().l2.skipped).toBeGreaterThan(0)
    vi.advanceTimersByTime(5_000)
    store.mode = 'ok'
    expect(await cache.get('miss9')).toBeUndefined()
    expect(store.calls).toBe(calls + 1)
    expect(cache.stats().l2).toMatchObject({ breaker: 'closed', breakerOpens: 1 })
  })

  it('a failed probe re-opens the breaker', async () => {
    const store = new MemoryStore()
    const cache = createCache({ l2: store, breaker: { threshold: 1, cooldown: '1s' } })
    store.mode = 'fail'
    await cache.get('a')
    vi.advanceTimersByTime(1_000)
    await cache.get('a')
    expect(cache.stats().l2).toMatchObject({ breaker: 'open', breakerOpens: 2 })
  })

  it('serves a grace value from L2 when the loader fails', async () => {
    const store = new MemoryStore()
    await createCache({ l2: store, ttl: '1m', grace: '1h' }).set('k', 'old')
    vi.advanceTimersByTime(120_000)
    const cache = createCache({ l2: store, ttl: '1m', grace: '1h' })
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.getOrSet('k', () => Promise.reject(new Error('down')))).toBe('old')
  })

  it('tags use version counters in L2: an invalidation by one instance outdates the L2 copy for all', async () => {
    const store = new MemoryStore()
    const a = createCache({ l2: store })
    const b = createCache({ l2: store })
    await a.set('k', 1, { tags: ['user:1'] })
    expect(await b.get('k')).toBe(1)
    await a.invalidateTags(['user:1'])
    expect(store.tagVersions.get('cache:user:1')).toBe(1)
    expect(await a.get('k')).toBeUndefined()
    const c = createCache({ l2: store })
    expect(await c.get('k')).toBeUndefined()
    // b learns about it only through a bus; its L1 copy stays until then.
    expect(await b.get('k')).toBe(1)
  })

  it('l2Write: background returns before L2 answers', async () => {
    const store = new MemoryStore()
    store.mode = 'hang'
    const cache = createCache({ l2: store, l2Write: 'background', l2Timeout: '1s' })
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
  })
})
