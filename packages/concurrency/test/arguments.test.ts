import { describe, expect, it } from 'vitest'
import {
  AdaptiveLimiter,
  Batcher,
  BoundedQueue,
  batchExecute,
  Mutex,
  mapConcurrent,
  RateLimiter,
  RWLock,
  Semaphore,
  singleFlight,
} from '../src/index'
import { redisRateLimiter, redisSemaphore } from '../src/redis'
import { createWorkerPool } from '../src/workers'

/** A client that never answers: the calls below must fail before reaching it. */
const client = {
  status: 'ready',
  evalsha: () => new Promise<never>(() => {}),
  eval: () => new Promise<never>(() => {}),
}

/**
 * Calls `call` and requires a synchronous TypeError with `message` (never a returned promise: a
 * rejected promise would be an argument error the caller only sees once it awaits).
 */
function throwsNow(call: () => unknown, message: string | RegExp): void {
  let result: unknown
  let thrown: unknown
  try {
    result = call()
  } catch (error) {
    thrown = error
  }
  if (result instanceof Promise) result.catch(() => {})
  expect(thrown, `returned ${String(result)} instead of throwing`).toBeInstanceOf(TypeError)
  expect((thrown as Error).message).toMatch(message)
}

const unknownOption = (name: string, where: string) =>
  new RegExp(`^Expected \`${name}\` to be a known option of ${where.replace(/[().]/g, '\\$&')} `)

describe('argument errors are synchronous TypeErrors in the fixed format', () => {
  it('Semaphore', () => {
    const sem = new Semaphore({ permits: 2 })
    throwsNow(() => sem.run('x' as never), "Expected `fn` to be a function, got `'x'` (string)")
    throwsNow(() => sem.run(() => 1, { weight: 3 }), 'Expected `weight` to be an integer between 1 and 2')
    throwsNow(() => sem.run(() => 1, { timeout: 'soon' as never }), /^Expected `timeout` to be/)
    throwsNow(() => sem.acquire({ weight: 1.5 }), 'Expected `weight` to be an integer between 1 and 2')
    throwsNow(
      () => sem.acquire({ priority: '1' as never }),
      "Expected `priority` to be a finite number, got `'1'`",
    )
    throwsNow(() => sem.acquire({ signal: {} as never }), 'Expected `signal` to be an AbortSignal')
    throwsNow(() => sem.acquire(5 as never), 'Expected `options` to be an options object, got `5` (number)')
    throwsNow(() => sem.acquire(null as never), 'Expected `options` to be an options object, got `null`')
    throwsNow(
      () => sem.tryAcquire('1' as never),
      "Expected `weight` to be an integer between 1 and 2, got `'1'`",
    )
    expect(sem.inUse).toBe(0)
  })

  it('batchExecute and mapConcurrent', () => {
    throwsNow(
      () => batchExecute(5 as never, (n) => n),
      'Expected `items` to be an iterable, got `5` (number)',
    )
    throwsNow(() => batchExecute([1], 'f' as never), "Expected `fn` to be a function, got `'f'` (string)")
    throwsNow(
      () => batchExecute([1], (n) => n, { concurrency: 0 }),
      'Expected `concurrency` to be an integer >= 1',
    )
    throwsNow(
      () => mapConcurrent(null as never, (n) => n),
      'Expected `source` to be an iterable or async iterable',
    )
    throwsNow(
      () => mapConcurrent([1], (n) => n, { ordered: 1 as never }),
      'Expected `ordered` to be a boolean',
    )
  })

  it('Batcher, singleFlight', () => {
    throwsNow(() => new Batcher('f' as never), 'Expected `fn` to be a function')
    const batcher = new Batcher(async (keys: number[]) => keys)
    throwsNow(() => batcher.loadMany(3 as never), 'Expected `keys` to be an iterable, got `3` (number)')
    throwsNow(() => singleFlight().do('k', 1 as never), 'Expected `fn` to be a function, got `1` (number)')
  })

  it('RateLimiter: weights are integers, keys strings', () => {
    const limiter = new RateLimiter({ limit: 10, window: '1m' })
    throwsNow(
      () => limiter.consume('k', '1' as never),
      "Expected `weight` to be an integer between 0 and 10, got `'1'` (string)",
    )
    throwsNow(
      () => limiter.consume('k', 0.5),
      'Expected `weight` to be an integer between 0 and 10, got `0.5`',
    )
    throwsNow(() => limiter.consume(1 as never), 'Expected `key` to be a string, got `1` (number)')
    throwsNow(() => limiter.reset(1 as never), 'Expected `key` to be a string, got `1` (number)')
    // Nothing was counted by the refused calls: the whole allowance is left.
    for (let i = 0; i < 10; i++) expect(limiter.consume('k', 1).allowed).toBe(true)
    expect(limiter.consume('k').allowed).toBe(false)
  })

  it('redisRateLimiter throws before any Redis call or its memory fallback', () => {
    const limiter = redisRateLimiter({ client, limit: 10, window: '1m' })
    throwsNow(
      () => limiter.consume('k', '1' as never),
      "Expected `weight` to be an integer between 0 and 10, got `'1'`",
    )
    throwsNow(() => limiter.consume({} as never), 'Expected `key` to be a string')
  })

  it('Mutex, RWLock, AdaptiveLimiter, BoundedQueue, redisSemaphore', () => {
    const mutex = new Mutex()
    throwsNow(() => mutex.run(7 as never), 'Expected `fn` to be a function, got `7` (number)')
    throwsNow(() => mutex.acquire({ timeout: -1 }), /^Expected `timeout` to be/)
    const lock = new RWLock()
    throwsNow(() => lock.read('x' as never), "Expected `fn` to be a function, got `'x'`")
    throwsNow(() => lock.acquireWrite({ signal: 1 as never }), 'Expected `signal` to be an AbortSignal')
    const adaptive = new AdaptiveLimiter()
    throwsNow(() => adaptive.run(null as never), 'Expected `fn` to be a function, got `null`')
    throwsNow(() => adaptive.acquire({ priority: Number.NaN }), 'Expected `priority` to be a finite number')
    const queue = new BoundedQueue<number>({ capacity: 1 })
    throwsNow(() => queue.take({ timeout: 'later' as never }), /^Expected `timeout` to be/)
    throwsNow(() => queue.push(1, { signal: 'x' as never }), 'Expected `signal` to be an AbortSignal')
    expect(queue.size).toBe(0)
    const sem = redisSemaphore({ client, key: 'k', permits: 1 })
    throwsNow(() => sem.acquire({ timeout: 'x' as never }), /^Expected `timeout` to be/)
    throwsNow(() => sem.run('x' as never), "Expected `fn` to be a function, got `'x'`")
  })
})

describe('unknown option names are refused with a hint', () => {
  it('constructors and factories', () => {
    throwsNow(() => new Semaphore({ permit: 2 } as never), unknownOption('permit', 'new Semaphore()'))
    throwsNow(() => new Semaphore({ permit: 2 } as never), 'did you mean `permits`?')
    throwsNow(
      () => new Batcher(async () => [], { maxDelays: 1 } as never),
      unknownOption('maxDelays', 'new Batcher()'),
    )
    throwsNow(
      () => new RateLimiter({ limit: 1, window: 1, algoritm: 'gcra' } as never),
      'did you mean `algorithm`?',
    )
    throwsNow(
      () => redisRateLimiter({ client, limit: 1, window: 1, fallbak: 'deny' } as never),
      unknownOption('fallbak', 'redisRateLimiter()'),
    )
    throwsNow(() => new Mutex({ reentrent: true } as never), 'did you mean `reentrant`?')
    throwsNow(() => new RWLock({ maxReader: 2 } as never), 'did you mean `maxReaders`?')
    throwsNow(() => new BoundedQueue({ capacity: 1, overflw: 'wait' } as never), 'did you mean `overflow`?')
    throwsNow(() => new AdaptiveLimiter({ maxQueu: 1 } as never), 'did you mean `maxQueue`?')
    throwsNow(
      () => redisSemaphore({ client, key: 'k', permits: 1, leese: '1s' } as never),
      unknownOption('leese', 'redisSemaphore()'),
    )
    throwsNow(() => batchExecute([1], (n) => n, { concurency: 2 } as never), 'did you mean `concurrency`?')
    throwsNow(() => mapConcurrent([1], (n) => n, { ordred: false } as never), 'did you mean `ordered`?')
  })

  it('per-call options', () => {
    const sem = new Semaphore()
    throwsNow(() => sem.run(() => 1, { timout: 5 } as never), unknownOption('timout', 'Semaphore.run()'))
    throwsNow(() => sem.acquire({ wieght: 1 } as never), 'did you mean `weight`?')
    throwsNow(() => new Mutex().acquire({ weight: 1 } as never), unknownOption('weight', 'Mutex.acquire()'))
    throwsNow(
      () => new RWLock().acquireWrite({ weight: 1 } as never),
      unknownOption('weight', 'RWLock.acquireWrite()'),
    )
    throwsNow(
      () => new AdaptiveLimiter().run(() => 1, { weight: 2 } as never),
      unknownOption('weight', 'AdaptiveLimiter.run()'),
    )
    throwsNow(
      () => new BoundedQueue({ capacity: 1 }).take({ timeuot: 1 } as never),
      'did you mean `timeout`?',
    )
    expect(sem.inUse).toBe(0)
  })
})

describe('worker pool (/workers)', () => {
  const filename = new URL('./fixtures/worker.mjs', import.meta.url)

  it('createWorkerPool and WorkerPool.run refuse bad options before starting a thread', async () => {
    throwsNow(() => createWorkerPool(undefined as never), /^Expected `filename` to be a path or a file: URL/)
    throwsNow(() => createWorkerPool({ filename, maxTreads: 2 } as never), 'did you mean `maxThreads`?')
    throwsNow(
      () => createWorkerPool({ filename, maxQueue: Number.POSITIVE_INFINITY }),
      'Expected `maxQueue` to be an integer >= 0, got `Infinity` (number)',
    )
    throwsNow(
      () => createWorkerPool({ filename, maxThreads: 0 }),
      'Expected `maxThreads` to be an integer between 1',
    )
    throwsNow(
      () => createWorkerPool({ filename, minThreads: 3, maxThreads: 2 }),
      'Expected `maxThreads` to be an integer between 3',
    )
    throwsNow(
      () => createWorkerPool({ filename, idleTimeout: '5 mins' as never }),
      /^Expected `idleTimeout` to be a duration/,
    )
    throwsNow(
      () => createWorkerPool({ filename, idleTimeout: Number.POSITIVE_INFINITY }),
      /^Expected `idleTimeout`/,
    )
    throwsNow(
      () => createWorkerPool({ filename: new URL('https://example.com/w.js') }),
      /^Expected `filename`/,
    )
    const workers = createWorkerPool({ filename, maxThreads: 1 })
    throwsNow(() => workers.run({}, { priority: Number.NaN }), 'Expected `priority` to be a finite number')
    throwsNow(() => workers.run({}, { timeout: -1 }), /^Expected `timeout` to be a duration/)
    throwsNow(() => workers.run({}, { signal: {} as never }), 'Expected `signal` to be an AbortSignal')
    throwsNow(
      () => workers.run({}, { transferList: 'x' as never }),
      /^Expected `transferList` to be an array/,
    )
    throwsNow(() => workers.run({}, { priorty: 1 } as never), unknownOption('priorty', 'WorkerPool.run()'))
    expect(workers.stats().threads).toBe(0)
    await workers.close()
  })
})
