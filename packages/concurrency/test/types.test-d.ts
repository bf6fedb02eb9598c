import type Redis from 'ioredis'
import { describe, expectTypeOf, it } from 'vitest'
import { type RateLimitMiddleware, rateLimit } from '../src/http'
import {
  AdaptiveLimiter,
  type AdaptiveToken,
  Batcher,
  type BatchFunction,
  BoundedQueue,
  batchExecute,
  type LockHandle,
  Mutex,
  mapConcurrent,
  type Permit,
  RateLimiter,
  type RateLimiterLike,
  type RateLimitResult,
  RWLock,
  Semaphore,
  type SettledItem,
  type SingleFlight,
  singleFlight,
} from '../src/index'
import { type RedisLease, type RedisRateLimitResult, redisRateLimiter, redisSemaphore } from '../src/redis'
import { createWorkerPool, type WorkerPool } from '../src/workers'

interface User {
  id: string
  name: string
}
declare const users: (ids: string[]) => Promise<User[]>
// An ioredis client fits the Redis limiter and semaphore.
declare const client: Redis

describe('Semaphore', () => {
  it('run resolves with what the function returns', () => {
    const semaphore = new Semaphore({ permits: 2 })
    expectTypeOf(semaphore.run(async () => 1)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(semaphore.run(() => 'sync')).toEqualTypeOf<Promise<string>>()
    expectTypeOf(semaphore.run(async (signal) => signal)).toEqualTypeOf<Promise<AbortSignal | undefined>>()
    expectTypeOf(semaphore.run(() => Promise.resolve(Promise.resolve(1n)))).toEqualTypeOf<Promise<bigint>>()
    expectTypeOf(semaphore.acquire()).toEqualTypeOf<Promise<Permit>>()
    expectTypeOf(semaphore.tryAcquire()).toEqualTypeOf<Permit | undefined>()
    // @ts-expect-error misspelled option
    void new Semaphore({ permit: 2 })
    // @ts-expect-error a duration
    void semaphore.run(async () => 1, { timeout: '1 second' })
    // @ts-expect-error `weight` is a number
    void semaphore.run(async () => 1, { weight: '2' })
  })
})

describe('locks', () => {
  it('Mutex.run and RWLock read/write resolve with the function result', () => {
    const mutex = new Mutex()
    expectTypeOf(mutex.run(async () => ({ ok: true }))).toEqualTypeOf<Promise<{ ok: boolean }>>()
    expectTypeOf(mutex.run(() => 1, { timeout: '1s' })).toEqualTypeOf<Promise<number>>()
    expectTypeOf(mutex.acquire()).toEqualTypeOf<Promise<LockHandle>>()
    const lock = new RWLock()
    expectTypeOf(lock.read(async () => 'r')).toEqualTypeOf<Promise<string>>()
    expectTypeOf(lock.write(() => 1)).toEqualTypeOf<Promise<number>>()
    // @ts-expect-error a lock has no `weight`
    void mutex.run(async () => 1, { weight: 2 })
  })
})

describe('batching', () => {
  it('batchExecute settles by default and returns values in fail-fast mode', () => {
    const settled = batchExecute(['a', 'b'], async (item, { index, signal }) => {
      expectTypeOf(index).toEqualTypeOf<number>()
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>()
      return item.length
    })
    expectTypeOf(settled).toEqualTypeOf<Promise<SettledItem<number>[]>>()
    expectTypeOf(batchExecute([1], (n) => `${n}`, { mode: 'settle' })).toEqualTypeOf<
      Promise<SettledItem<string>[]>
    >()
    expectTypeOf(batchExecute([1], async (n) => n > 0, { mode: 'fail-fast', concurrency: 2 })).toEqualTypeOf<
      Promise<boolean[]>
    >()
    // A mode only known at run time: either shape.
    const mode = Math.random() > 0.5 ? 'settle' : 'fail-fast'
    expectTypeOf(batchExecute([1], (n) => n, { mode })).toEqualTypeOf<
      Promise<SettledItem<number>[] | number[]>
    >()
    // @ts-expect-error an unknown mode
    void batchExecute([1], (n) => n, { mode: 'all' })
  })

  it('SettledItem narrows on status', () => {
    const item = {} as SettledItem<number>
    if (item.status === 'fulfilled') expectTypeOf(item.value).toEqualTypeOf<number>()
    else expectTypeOf(item.reason).toEqualTypeOf<unknown>()
  })

  it('mapConcurrent yields the mapped values', () => {
    expectTypeOf(mapConcurrent(['a'], async (s) => s.length)).toEqualTypeOf<
      AsyncGenerator<number, void, undefined>
    >()
  })

  it('Batcher<K, V> infers from its batch function', async () => {
    const byId = new Batcher(users)
    expectTypeOf(byId).toEqualTypeOf<Batcher<string, User>>()
    expectTypeOf(byId.load('a')).toEqualTypeOf<Promise<User>>()
    expectTypeOf(byId.loadMany(['a'])).toEqualTypeOf<Promise<User[]>>()
    const fromMap = new Batcher(async (ids: number[]) => new Map(ids.map((id) => [id, `${id}`])))
    expectTypeOf(fromMap).toEqualTypeOf<Batcher<number, string>>()
    const explicit = new Batcher<{ id: string }, number>(async (keys) => keys.map(() => 1), {
      cacheKey: (key) => key.id,
    })
    expectTypeOf(explicit.load({ id: 'a' })).toEqualTypeOf<Promise<number>>()
    expectTypeOf<BatchFunction<string, User>>().toExtend<(keys: string[]) => PromiseLike<unknown>>()
    // @ts-expect-error keys have the batcher's key type
    void byId.load(1)
    // @ts-expect-error misspelled option
    void new Batcher(users, { maxBatch: 10 })
  })

  it('singleFlight<K, V>', () => {
    const flight = singleFlight<string, User>()
    expectTypeOf(flight).toEqualTypeOf<SingleFlight<string, User>>()
    expectTypeOf(flight.do('a', async () => ({ id: 'a', name: 'A' }))).toEqualTypeOf<Promise<User>>()
    // @ts-expect-error the function returns the flight's value type
    void flight.do('a', async () => 1)
  })

  it('BoundedQueue<T>', () => {
    const queue = new BoundedQueue<User>({ capacity: 10, onDrop: (user) => void user.name })
    expectTypeOf(queue.take()).toEqualTypeOf<Promise<User>>()
    expectTypeOf(queue.tryPush).parameter(0).toEqualTypeOf<User>()
    expectTypeOf(queue).toExtend<AsyncIterable<User>>()
    // @ts-expect-error an unknown overflow policy
    void new BoundedQueue<User>({ capacity: 10, overflow: 'block' })
  })
})

describe('limiters', () => {
  it('RateLimiter results', () => {
    const limiter = new RateLimiter({ limit: 10, window: '1s', algorithm: 'gcra' })
    expectTypeOf(limiter.consume('k')).toEqualTypeOf<RateLimitResult>()
    expectTypeOf(limiter.consume('k', 2).retryAfterMs).toEqualTypeOf<number>()
    expectTypeOf(limiter).toExtend<RateLimiterLike>()
    // @ts-expect-error `limit` is required
    void new RateLimiter({ window: '1s' })
    // @ts-expect-error an unknown algorithm
    void new RateLimiter({ limit: 1, window: '1s', algorithm: 'leaky-bucket' })
  })

  it('AdaptiveLimiter', () => {
    const limiter = new AdaptiveLimiter({ algorithm: 'vegas' })
    expectTypeOf(limiter.run(async () => [1])).toEqualTypeOf<Promise<number[]>>()
    expectTypeOf(limiter.acquire()).toEqualTypeOf<Promise<AdaptiveToken>>()
    // @ts-expect-error the adaptive limiter has no weights
    void limiter.acquire({ weight: 2 })
  })

  it('redis subpath', () => {
    const limiter = redisRateLimiter({ client, limit: 10, window: '1m' })
    expectTypeOf(limiter.consume('k')).toEqualTypeOf<Promise<RedisRateLimitResult>>()
    expectTypeOf<RedisRateLimitResult['source']>().toEqualTypeOf<'redis' | 'fallback'>()
    expectTypeOf(limiter).toExtend<RateLimiterLike>()
    const semaphore = redisSemaphore({ client, key: 'exports', permits: 3 })
    expectTypeOf(semaphore.run(async (signal) => signal)).toEqualTypeOf<Promise<AbortSignal>>()
    expectTypeOf(semaphore.tryAcquire()).toEqualTypeOf<Promise<RedisLease | undefined>>()
  })

  it('http subpath', () => {
    const middleware = rateLimit({ limiter: new RateLimiter({ limit: 1, window: '1s' }), headers: 'draft' })
    expectTypeOf(middleware).toEqualTypeOf<RateLimitMiddleware>()
    // @ts-expect-error an unknown headers style
    void rateLimit({ limiter: new RateLimiter({ limit: 1, window: '1s' }), headers: 'ietf' })
  })
})

describe('worker pool', () => {
  it('createWorkerPool<T, R> types run', () => {
    const pool = createWorkerPool<{ image: Uint8Array; width: number }, Uint8Array>({
      filename: new URL('./resize.js', import.meta.url),
    })
    expectTypeOf(pool).toEqualTypeOf<WorkerPool<{ image: Uint8Array; width: number }, Uint8Array>>()
    expectTypeOf(pool.run({ image: new Uint8Array(), width: 10 })).toEqualTypeOf<Promise<Uint8Array>>()
    expectTypeOf(createWorkerPool({ filename: 'x.js' }).run(1)).toEqualTypeOf<Promise<unknown>>()
    // @ts-expect-error the task has the pool's task type
    void pool.run({ width: 10 })
    // @ts-expect-error misspelled option
    void createWorkerPool({ filename: 'x.js', maxThread: 2 })
  })
})
