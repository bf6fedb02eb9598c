import { eventChannel } from '@hotpath/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  AcquireTimeoutError,
  createPool,
  DestroyTimeoutError,
  DoubleReleaseError,
  type Lease,
  PoolClosedError,
  PoolInitializeError,
  PoolQueueFullError,
} from '../src/index'
import { type FakeResource, fakeFactory, flush, listeners, useFakeTime } from './helpers'

afterEach(() => {
  vi.useRealTimers()
})

describe('acquire and release', () => {
  it('lends, reuses and counts', async () => {
    const factory = fakeFactory()
    const pool = createPool({ ...factory, max: 2 })
    const a = await pool.acquire()
    expect(a.resource.id).toBe(0)
    expect(pool.stats()).toMatchObject({ size: 1, borrowed: 1, idle: 0, created: 1 })
    a.release()
    const b = await pool.acquire()
    expect(b.resource).toBe(a.resource)
    b.release()
    expect(pool.stats()).toMatchObject({ acquired: 2, reused: 1, borrowed: 0, idle: 1 })
    await pool.close()
    expect(factory.calls.destroy).toBe(1)
  })

  it('throws on a double release and tolerates dispose after release', async () => {
    const pool = createPool({ ...fakeFactory(), max: 1 })
    const lease = await pool.acquire()
    lease.release()
    expect(() => lease.release()).toThrow(DoubleReleaseError)
    expect(() => lease.destroy()).toThrow(DoubleReleaseError)
    await expect(lease[Symbol.asyncDispose]()).resolves.toBeUndefined()
    expect(pool.stats().idle).toBe(1)
    await pool.close()
  })

  it('releases through await using and use()', async () => {
    const pool = createPool({ ...fakeFactory(), max: 1 })
    {
      await using lease = await pool.acquire()
      expect(pool.stats().borrowed).toBe(1)
      expect(lease.resource.id).toBe(0)
    }
    expect(pool.stats().borrowed).toBe(0)
    await expect(pool.use((r) => r.id + 1)).resolves.toBe(1)
    await expect(
      pool.use(() => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    // every error is fatal by default: the resource was destroyed
    expect(pool.stats()).toMatchObject({ borrowed: 0, size: 0, destroyed: 1 })
    await pool.close()
  })

  it('keeps a resource on a non-fatal error and destroys it on a fatal one', async () => {
    const factory = fakeFactory()
    const pool = createPool({ ...factory, max: 1, isFatal: (e) => (e as Error).message === 'fatal' })
    const a = await pool.acquire()
    a.release(new Error('syntax'))
    expect(pool.stats()).toMatchObject({ idle: 1, destroyed: 0 })
    const b = await pool.acquire()
    b.release(new Error('fatal'))
    expect(pool.stats()).toMatchObject({ idle: 0, size: 0, destroyed: 1 })
    await flush()
    expect(factory.destroyed).toEqual([a.resource])
    await pool.close()
  })

  it('destroy() retires the resource', async () => {
    const factory = fakeFactory()
    const pool = createPool({ ...factory, max: 1 })
    const lease = await pool.acquire()
    lease.destroy()
    expect(pool.stats()).toMatchObject({ size: 0, destroyed: 1 })
    await pool.close()
  })

  it('validates options with the standard message', () => {
    expect(() => createPool({ ...fakeFactory(), max: 0 })).toThrow(
      'Expected `max` to be an integer >= 1, got `0` (number)',
    )
    expect(() => createPool({ ...fakeFactory(), max: Number.POSITIVE_INFINITY })).toThrow(TypeError)
    expect(() => createPool({ ...fakeFactory(), min: 5, max: 2 })).toThrow(
      'Expected `min` to be an integer between 0 and 2, got `5` (number)',
    )
    expect(() => createPool({ ...fakeFactory(), acquireTimeout: '5 mins' as never })).toThrow(
      /Expected `acquireTimeout` to be a duration/,
    )
    expect(() => createPool({ ...fakeFactory(), maxWaiting: Number.POSITIVE_INFINITY })).toThrow(TypeError)
    expect(() => createPool({ ...fakeFactory(), isBroken: true as never })).toThrow(
      'Expected `isBroken` to be a function, got `true` (boolean)',
    )
  })
})

describe('argument errors', () => {
  it('refuses unknown option names with a did-you-mean hint', () => {
    expect(() => createPool({ ...fakeFactory(), maxWaitng: 5 } as never)).toThrow(
      'Expected `maxWaitng` to be a known option of createPool() (did you mean `maxWaiting`?), got `5` (number)',
    )
    expect(() => createPool({ ...fakeFactory(), createRetry: { bsae: '1s' } } as never)).toThrow(
      'Expected `bsae` to be a known option of createRetry (did you mean `base`?)',
    )
    expect(() => createPool({ ...fakeFactory(), acquireTimeoutMillis: 100 } as never)).toThrow(
      'Expected `acquireTimeoutMillis` to be a known option of createPool() (did you mean `acquireTimeout`?)',
    )
    expect(() => createPool({ ...fakeFactory(), logger: {} as never })).toThrow(
      'Expected `logger` to be an object with a warn(message, details) method, got `[object]` (object)',
    )
  })

  it('every public method throws a synchronous TypeError for a bad argument, open or closed', async () => {
    const pool = createPool({ ...fakeFactory(), max: 1 })
    const calls: [string, () => unknown, RegExp][] = [
      ['acquire(null)', () => pool.acquire(null as never), /Expected `options` to be an options object/],
      ['acquire({ timout })', () => pool.acquire({ timout: 5 } as never), /did you mean `timeout`/],
      [
        'acquire({ priority: 1.5 })',
        () => pool.acquire({ priority: 1.5 }),
        /Expected `priority` to be an integer/,
      ],
      [
        'acquire({ signal: {} })',
        () => pool.acquire({ signal: {} as never }),
        /Expected `signal` to be an AbortSignal/,
      ],
      [
        'acquire({ timeout: -1 })',
        () => pool.acquire({ timeout: -1 }),
        /Expected `timeout` to be a duration/,
      ],
      ['use(1)', () => pool.use(1 as never), /Expected `fn` to be a function/],
      ['use(fn, { priorty })', () => pool.use(() => 1, { priorty: 1 } as never), /did you mean `priority`/],
      [
        'initialize({ failFast: 1 })',
        () => pool.initialize({ failFast: 1 as never }),
        /Expected `failFast` to be a boolean/,
      ],
      ['initialize({ timeOut })', () => pool.initialize({ timeOut: 1 } as never), /did you mean `timeout`/],
      ['resize({ maxx })', () => pool.resize({ maxx: 3 } as never), /did you mean `max`/],
      ['resize({ max: 0 })', () => pool.resize({ max: 0 }), /Expected `max` to be an integer >= 1/],
      ['advise({ rest })', () => pool.advise({ rest: true } as never), /did you mean `reset`/],
      ['advise(null)', () => pool.advise(null as never), /Expected `options` to be an options object/],
      [
        'drain({ timeout: "soon" })',
        () => pool.drain({ timeout: 'soon' as never }),
        /Expected `timeout` to be a duration/,
      ],
      ['drain({ timeot })', () => pool.drain({ timeot: 1 } as never), /did you mean `timeout`/],
    ]
    for (const closed of [false, true]) {
      if (closed) await pool.close()
      for (const [name, call, message] of calls) {
        let result: unknown
        expect(() => {
          result = call()
        }, `${name} (closed: ${closed})`).toThrow(message)
        expect(result).toBeUndefined()
      }
    }
  })
})

describe('waiting', () => {
  it('one deadline covers the queue wait and the create', async () => {
    useFakeTime()
    const factory = fakeFactory({ createMs: 2_000 })
    const pool = createPool({ ...factory, max: 1, acquireTimeout: 1_000, createTimeout: 5_000 })
    const started = performance.now()
    const pending = pool.acquire()
    const settled = expect(pending).rejects.toBeInstanceOf(AcquireTimeoutError)
    await vi.advanceTimersByTimeAsync(1_000)
    await settled
    expect(performance.now() - started).toBe(1_000)
    // the create was not tied to the waiter: it lands in the idle list
    await vi.advanceTimersByTimeAsync(1_000)
    expect(pool.stats()).toMatchObject({ idle: 1, timeouts: 1, pending: 0 })
    await pool.close()
  })

  it('the deadline covers validation too', async () => {
    useFakeTime()
    const pool = createPool({
      ...fakeFactory(),
      max: 1,
      acquireTimeout: 500,
      validateAfter: 0,
      validate: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 2_000)),
    })
    const lease = await pool.acquire()
    lease.release()
    await vi.advanceTimersByTimeAsync(1)
    const next = expect(pool.acquire()).rejects.toBeInstanceOf(AcquireTimeoutError)
    await vi.advanceTimersByTimeAsync(500)
    await next
    await vi.advanceTimersByTimeAsync(2_000)
    // the validated resource went back to idle
    expect(pool.stats()).toMatchObject({ idle: 1, borrowed: 0, pending: 0 })
    await pool.close()
  })

  it('a waiter takes whichever resource frees first, and creates only while waiters outnumber creates', async () => {
    useFakeTime()
    const factory = fakeFactory({ createMs: 100 })
    const pool = createPool({ ...factory, max: 5, maxCreating: 5 })
    const first = pool.acquire()
    await vi.advanceTimersByTimeAsync(100)
    const held = await first
    const waiter = pool.acquire()
    expect(pool.stats()).toMatchObject({ creating: 1, pending: 1 })
    await vi.advanceTimersByTimeAsync(10)
    held.release()
    const got = await waiter
    expect(got.resource).toBe(held.resource)
    await vi.advanceTimersByTimeAsync(100)
    expect(pool.stats()).toMatchObject({ size: 2, idle: 1, borrowed: 1, created: 2 })
    // three waiters with two creates in flight start exactly one more
    const more = [pool.acquire(), pool.acquire(), pool.acquire()]
    expect(pool.stats()).toMatchObject({ pending: 2, creating: 2 })
    await vi.advanceTimersByTimeAsync(100)
    for (const lease of await Promise.all(more)) lease.release()
    got.release()
    expect(factory.calls.create).toBe(4)
    await pool.close()
  })

  it('a burst is served by released resources instead of one create per waiter (maxCreating)', async () => {
    useFakeTime()
    const factory = fakeFactory({ createMs: 150 })
    const pool = createPool({ ...factory, min: 5, max: 50 })
    await vi.advanceTimersByTimeAsync(450)
    expect(pool.stats().idle).toBe(5)
    const requests = Array.from({ length: 50 }, () =>
      pool.use(() => new Promise((resolve) => setTimeout(resolve, 2))),
    )
    expect(pool.stats().creating).toBe(2)
    await vi.advanceTimersByTimeAsync(200)
    await Promise.all(requests)
    // 5 + the 2 creates in flight when the burst arrived, not 50
    expect(pool.stats().size).toBe(7)
    await pool.close()
  })

  it('serves higher priority first', async () => {
    useFakeTime()
    const pool = createPool({ ...fakeFactory(), max: 1 })
    const held = await pool.acquire()
    const order: string[] = []
    const low = pool.acquire({ priority: 0 }).then((l) => {
      order.push('low')
      l.release()
    })
    const high = pool.acquire({ priority: 5 }).then((l) => {
      order.push('high')
      l.release()
    })
    held.release()
    await Promise.all([low, high])
    expect(order).toEqual(['high', 'low'])
    await pool.close()
  })

  it('lends the most recent idle resource by default and the oldest with fifo', async () => {
    for (const fifo of [false, true]) {
      const pool = createPool({ ...fakeFactory(), max: 2, fifo })
      const [a, b] = await Promise.all([pool.acquire(), pool.acquire()])
      a!.release()
      b!.release()
      const next = await pool.acquire()
      expect(next.resource).toBe(fifo ? a!.resource : b!.resource)
      next.release()
      await pool.close()
    }
  })

  it('bounds the queue', async () => {
    const pool = createPool({ ...fakeFactory(), max: 1, maxWaiting: 1 })
    const held = await pool.acquire()
    const waiting = pool.acquire()
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolQueueFullError)
    expect(pool.stats().rejected).toBe(1)
    held.release()
    ;(await waiting).release()
    await pool.close()
  })

  it('maxWaiting: 0 serves what an idle resource or a create can serve and refuses only queueing', async () => {
    useFakeTime()
    const factory = fakeFactory({ createMs: 10 })
    const pool = createPool({ ...factory, max: 2, maxWaiting: 0 })
    // an empty pool: both acquires start their own create
    const first = pool.acquire()
    const second = pool.acquire()
    // the third would have to wait for a release
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolQueueFullError)
    await vi.advanceTimersByTimeAsync(10)
    const [a, b] = await Promise.all([first, second])
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'E_POOL_QUEUE_FULL', maxWaiting: 0 })
    a.release()
    const again = await pool.acquire()
    expect(again.resource).toBe(a.resource)
    expect(pool.stats()).toMatchObject({ rejected: 2, created: 2, pending: 0 })
    again.release()
    b.release()
    await pool.close()
  })

  it('an abort removes the waiter at once and leaves no listener', async () => {
    const pool = createPool({ ...fakeFactory(), max: 1 })
    const held = await pool.acquire()
    const controller = new AbortController()
    const waiting = pool.acquire({ signal: controller.signal })
    expect(listeners(controller.signal)).toBe(1)
    expect(pool.stats().pending).toBe(1)
    controller.abort(new Error('client went away'))
    expect(pool.stats().pending).toBe(0)
    expect(listeners(controller.signal)).toBe(0)
    await expect(waiting).rejects.toThrow('client went away')
    held.release()
    expect(pool.stats()).toMatchObject({ idle: 1, aborted: 1 })
    await expect(pool.acquire({ signal: controller.signal })).rejects.toThrow('client went away')
    await pool.close()
  })

  it('10,000 aborted acquires leave no listener and no waiter', async () => {
    const pool = createPool({ ...fakeFactory(), max: 1, maxWaiting: 10_000 })
    const held = await pool.acquire()
    const shared = new AbortController()
    const rejections: Promise<unknown>[] = []
    for (let i = 0; i < 10_000; i++) {
      const own = new AbortController()
      const signal = i % 2 === 0 ? own.signal : shared.signal
      rejections.push(pool.acquire({ signal }).catch((e) => e))
      if (i % 2 === 0) own.abort()
    }
    expect(listeners(shared.signal)).toBe(5_000)
    expect(pool.stats().pending).toBe(5_000)
    shared.abort()
    const errors = await Promise.all(rejections)
    expect(errors.every((e) => e instanceof Error)).toBe(true)
    expect(listeners(shared.signal)).toBe(0)
    expect(pool.stats()).toMatchObject({ pending: 0, aborted: 10_000 })
    // a signal that served a lease keeps no listener either
    const signal = new AbortController().signal
    held.release()
    const lease = await pool.acquire({ signal })
    expect(listeners(signal)).toBe(0)
    lease.release()
    await pool.close()
  })

  it('runs on one timer however many waiters there are', async () => {
    useFakeTime()
    const pool = createPool({ ...fakeFactory(), max: 2, acquireTimeout: 5_000 })
    const held = await Promise.all([pool.acquire(), pool.acquire()])
    const waiting = Array.from({ length: 100 }, () => pool.acquire().catch((e) => e))
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(5_000)
    expect((await Promise.all(waiting)).every((e) => e instanceof AcquireTimeoutError)).toBe(true)
    for (const lease of held) lease.release()
    await pool.close()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('create failures', () => {
  it('retries with backoff, hands the last error as cause and recovers', async () => {
    useFakeTime()
    let failing = true
    let attempt = 0
    const factory = fakeFactory({
      fail: () => (failing ? new Error(`ECONNREFUSED #${++attempt}`) : undefined),
    })
    const pool = createPool({
      ...factory,
      max: 10,
      acquireTimeout: 2_000,
      createRetry: { base: '50ms', max: '5s' },
    })
    const waiters = Array.from({ length: 5 }, () => pool.acquire().catch((e: unknown) => e))
    await vi.advanceTimersByTimeAsync(2_000)
    const errors = (await Promise.all(waiters)) as AcquireTimeoutError[]
    for (const error of errors) {
      expect(error).toBeInstanceOf(AcquireTimeoutError)
      expect(error.code).toBe('E_POOL_ACQUIRE_TIMEOUT')
      expect((error.cause as Error).message).toMatch(/ECONNREFUSED/)
    }
    expect(errors[0]!.message).toMatch(/creates failing: ECONNREFUSED/)
    // 50, 100, 200, 400, 800 ms ceilings with jitter: a handful of attempts, not a spin
    expect(factory.calls.create).toBeGreaterThanOrEqual(4)
    expect(factory.calls.create).toBeLessThanOrEqual(12)
    expect(pool.stats().createErrors).toBe(factory.calls.create)
    // nobody waits: no more attempts
    const attempts = factory.calls.create
    await vi.advanceTimersByTimeAsync(30_000)
    expect(factory.calls.create).toBeLessThanOrEqual(attempts + 1)
    failing = false
    const lease = pool.acquire()
    await vi.advanceTimersByTimeAsync(5_000)
    ;(await lease).release()
    expect(pool.stats().size).toBe(1)
    await pool.close()
  })

  it('initialize waits for min, or fails fast with the cause', async () => {
    useFakeTime()
    const pool = createPool({ ...fakeFactory({ createMs: 10 }), min: 3, max: 5 })
    const ready = pool.initialize()
    // two creates at a time (maxCreating), 10 ms each
    await vi.advanceTimersByTimeAsync(20)
    await ready
    expect(pool.stats()).toMatchObject({ size: 3, idle: 3 })
    await pool.close()

    const broken = createPool({ ...fakeFactory({ fail: () => new Error('bad password') }), min: 2 })
    const failed = broken.initialize({ failFast: true }).catch((e: unknown) => e)
    await flush()
    const error = (await failed) as PoolInitializeError
    expect(error).toBeInstanceOf(PoolInitializeError)
    expect((error.cause as Error).message).toBe('bad password')
    await expect(broken.acquire()).rejects.toBeInstanceOf(PoolClosedError)

    const slow = createPool({ ...fakeFactory({ fail: () => new Error('down') }), min: 1 })
    const timedOut = slow.initialize({ timeout: 1_000 }).catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(((await timedOut) as Error).cause).toBeInstanceOf(Error)
    await slow.close()
  })

  it('gives up on a hanging create after createTimeout', async () => {
    useFakeTime()
    let calls = 0
    const pool = createPool<object>({
      create: ({ signal }) =>
        new Promise((_, reject) => {
          calls++
          signal.addEventListener('abort', () => reject(signal.reason))
        }),
      max: 1,
      acquireTimeout: 3_000,
      createTimeout: 500,
    })
    const waiting = pool.acquire().catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(3_000)
    const error = (await waiting) as AcquireTimeoutError
    expect((error.cause as { code: string }).code).toBe('E_POOL_CREATE_TIMEOUT')
    expect(calls).toBeGreaterThanOrEqual(2)
    await pool.close()
  })
})

describe('lifecycle', () => {
  it('keeps min warm and evicts idle resources above min', async () => {
    useFakeTime()
    const factory = fakeFactory()
    const pool = createPool({ ...factory, min: 2, max: 6, idleTimeout: '1m', maxLifetime: Infinity })
    await flush()
    expect(pool.stats()).toMatchObject({ size: 2, idle: 2 })
    const leases = await Promise.all(Array.from({ length: 5 }, () => pool.acquire()))
    for (const lease of leases) lease.release()
    expect(pool.stats().size).toBe(5)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(pool.stats()).toMatchObject({ size: 2, idle: 2, destroyed: 3 })
    await vi.advanceTimersByTimeAsync(600_000)
    expect(pool.stats().size).toBe(2)
    await pool.close()
  })

  it('retires resources after maxLifetime with ±2.5% jitter and replaces min', async () => {
    useFakeTime()
    const factory = fakeFactory()
    const destroyedAt: number[] = []
    const pool = createPool({
      ...factory,
      destroy: () => {
        destroyedAt.push(performance.now())
      },
      min: 20,
      max: 20,
      maxLifetime: 100_000,
      idleTimeout: Infinity,
    })
    await flush()
    await vi.advanceTimersByTimeAsync(97_400)
    expect(destroyedAt).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(5_200)
    expect(destroyedAt).toHaveLength(20)
    expect(Math.max(...destroyedAt) - Math.min(...destroyedAt)).toBeGreaterThan(100)
    expect(pool.stats().size).toBe(20)
    await pool.close()
  })

  it('retires a borrowed resource past its lifetime when it comes back', async () => {
    useFakeTime()
    const pool = createPool({ ...fakeFactory(), max: 1, maxLifetime: 1_000 })
    const lease = await pool.acquire()
    await vi.advanceTimersByTimeAsync(2_000)
    lease.release()
    expect(pool.stats()).toMatchObject({ size: 0, destroyed: 1 })
    await pool.close()
  })

  it('retires after maxUses', async () => {
    const factory = fakeFactory()
    const pool = createPool({ ...factory, max: 1, maxUses: 3 })
    for (let i = 0; i < 3; i++) (await pool.acquire()).release()
    expect(pool.stats()).toMatchObject({ size: 0, destroyed: 1 })
    expect((await pool.acquire()).resource.id).toBe(1)
    await pool.close()
  })

  it('skips validation within validateAfter and validates afterwards', async () => {
    useFakeTime()
    const factory = fakeFactory()
    const pool = createPool({ ...factory, max: 1, validateAfter: 500 })
    const lease = await pool.acquire()
    lease.release()
    ;(await pool.acquire()).release()
    expect(factory.calls.validate).toBe(0)
    await vi.advanceTimersByTimeAsync(501)
    const later = await pool.acquire()
    expect(factory.calls.validate).toBe(1)
    ;(later.resource as FakeResource).broken = true
    later.release()
    await vi.advanceTimersByTimeAsync(501)
    const fresh = await pool.acquire()
    expect(fresh.resource.id).toBe(1)
    expect(pool.stats().validationFailures).toBe(1)
    fresh.release()
    await pool.close()
  })

  it('isBroken drops idle resources known dead even within validateAfter, without validating', async () => {
    const factory = fakeFactory()
    const pool = createPool({
      ...factory,
      max: 2,
      validateAfter: '1h',
      isBroken: (resource: FakeResource) => {
        if (resource.id === 2) throw new Error('cannot tell')
        return resource.broken
      },
    })
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()])
    a!.release()
    b!.release()
    ;(a!.resource as FakeResource).broken = true
    const next = await pool.acquire()
    expect(next.resource.id).toBe(1) // LIFO: `b` was on top and is healthy
    next.release()
    const after = await pool.acquire() // `b` again; `a` stays idle below it
    const other = await pool.acquire() // takes `a`: broken, destroyed, a new one is created
    expect(other.resource.id).toBe(2)
    expect(factory.destroyed.map((r) => r.id)).toEqual([0])
    expect(factory.calls.validate).toBe(0)
    expect(pool.stats().validationFailures).toBe(1)
    after.release()
    other.release()
    // a throwing check counts as broken
    const again = await pool.acquire()
    expect(again.resource.id).toBe(1)
    const third = await pool.acquire()
    expect(third.resource.id).toBe(3)
    expect(factory.destroyed.map((r) => r.id)).toEqual([0, 2])
    expect(pool.stats().validationFailures).toBe(2)
    again.release()
    third.release()
    await pool.close()
  })

  it('keepalive validates idle resources and replaces broken ones', async () => {
    useFakeTime()
    const factory = fakeFactory()
    const pool = createPool({ ...factory, min: 2, max: 2, keepalive: '30s', maxLifetime: Infinity })
    await flush()
    const [a] = await Promise.all([pool.acquire(), pool.acquire()]).then((leases) => {
      for (const lease of leases) lease.release()
      return leases
    })
    ;(a!.resource as FakeResource).broken = true
    await vi.advanceTimersByTimeAsync(30_000)
    expect(factory.calls.validate).toBe(2)
    expect(pool.stats()).toMatchObject({ size: 2, idle: 2, validationFailures: 1, created: 3 })
    await vi.advanceTimersByTimeAsync(30_000)
    expect(factory.calls.validate).toBe(4)
    await pool.close()
  })

  it('reports a leak once with the acquiring stack', async () => {
    useFakeTime()
    const reports: { heldMs: number; stack: string }[] = []
    const warn = vi.fn()
    const pool = createPool({
      ...fakeFactory(),
      max: 1,
      leakDetection: '1s',
      onLeak: (r) => reports.push(r),
      logger: { warn },
    })
    const lease = await pool.acquire()
    await vi.advanceTimersByTimeAsync(999)
    expect(reports).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(reports).toHaveLength(1)
    expect(reports[0]!.heldMs).toBe(1_000)
    expect(reports[0]!.stack).toMatch(/pool\.test\.ts/)
    expect(warn).toHaveBeenCalledOnce()
    expect(pool.stats().leaks).toBe(1)
    lease.release()
    await pool.close()
  })
})

describe('behaviours generic-pool users rely on', () => {
  it('serves every higher-priority waiter before any lower one, and equal priorities in arrival order', async () => {
    const pool = createPool({ ...fakeFactory(), max: 1 })
    const held = await pool.acquire()
    const order: string[] = []
    const waiting: Promise<void>[] = []
    const enqueue = (name: string, priority: number) =>
      waiting.push(
        pool.acquire({ priority }).then((lease) => {
          order.push(name)
          lease.release()
        }),
      )
    for (let i = 0; i < 5; i++) enqueue(`low${i}`, 0)
    for (let i = 0; i < 5; i++) enqueue(`high${i}`, 1)
    held.release()
    await Promise.all(waiting)
    expect(order).toEqual([
      'high0',
      'high1',
      'high2',
      'high3',
      'high4',
      'low0',
      'low1',
      'low2',
      'low3',
      'low4',
    ])
    await pool.close()
  })

  it('destroying a lease serves the next waiter with a new resource', async () => {
    const factory = fakeFactory()
    const pool = createPool({ ...factory, max: 1 })
    const first = await pool.acquire()
    const waiting = pool.acquire()
    expect(pool.stats()).toMatchObject({ pending: 1, borrowed: 1 })
    first.destroy()
    const next = await waiting
    expect(next.resource.id).toBe(1)
    expect(factory.destroyed).toEqual([first.resource])
    expect(pool.stats()).toMatchObject({ pending: 0, borrowed: 1, size: 1 })
    next.release()
    await pool.close()
  })

  it('min resources are not evicted for idleness; they are replaced at maxLifetime', async () => {
    // generic-pool's evictor closes idle resources below min and creates new ones; this pool keeps
    // min open (as HikariCP does) and renews them through maxLifetime and keepalive instead.
    useFakeTime()
    const factory = fakeFactory()
    const pool = createPool({ ...factory, min: 2, max: 2, idleTimeout: 50, maxLifetime: '1m' })
    await flush()
    await vi.advanceTimersByTimeAsync(10_000)
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()])
    expect([a!.resource.id, b!.resource.id].sort()).toEqual([0, 1])
    a!.release()
    b!.release()
    expect(pool.stats()).toMatchObject({ destroyed: 0, created: 2 })
    await vi.advanceTimersByTimeAsync(62_000)
    expect(pool.stats()).toMatchObject({ size: 2, idle: 2, destroyed: 2, created: 4 })
    await pool.close()
  })
})

describe('resize, stats, advise', () => {
  it('resizes live', async () => {
    useFakeTime()
    const pool = createPool({ ...fakeFactory(), max: 4, idleTimeout: Infinity })
    const leases = await Promise.all(Array.from({ length: 4 }, () => pool.acquire()))
    leases[0]!.release()
    leases[1]!.release()
    pool.resize({ max: 2 })
    expect(pool.stats()).toMatchObject({ size: 2, idle: 0, borrowed: 2, max: 2 })
    const waiting = pool.acquire()
    pool.resize({ max: 3 })
    ;(await waiting).release()
    pool.resize({ min: 4, max: 5 })
    await flush()
    expect(pool.stats()).toMatchObject({ size: 4, min: 4, borrowed: 2 })
    expect(() => pool.resize({ min: 6 })).toThrow(TypeError)
    await pool.close()
  })

  it('advises a max from throughput × hold time', async () => {
    useFakeTime()
    const pool = createPool({ ...fakeFactory(), max: 4, acquireTimeout: '1m' })
    // 100 acquires per second, each held 50 ms → 5 busy on average
    for (let i = 0; i < 100; i++) {
      void pool.use(() => new Promise((resolve) => setTimeout(resolve, 50)))
      await vi.advanceTimersByTimeAsync(10)
    }
    await vi.advanceTimersByTimeAsync(1_000)
    const advice = pool.advise({ reset: true })
    expect(advice.arrivalRate).toBeCloseTo(100 / 2, 0)
    expect(advice.meanHoldMs).toBeCloseTo(50, 0)
    expect(advice.suggestedMax).toBe(Math.ceil(advice.meanBusy * advice.headroom))
    expect(pool.advise().arrivalRate).toBe(0)
    await pool.close()
  })

  it('stats are a plain snapshot with summaries', async () => {
    const pool = createPool({ ...fakeFactory(), max: 1 })
    ;(await pool.acquire()).release()
    const stats = pool.stats()
    expect(Object.getPrototypeOf(stats)).toBe(Object.prototype)
    expect(stats.acquireWait.count).toBe(1)
    expect(stats.holdTime.count).toBe(1)
    expect(stats.createTime.count).toBe(1)
    await pool.close()
  })
})

describe('drain and close', () => {
  it('drain waits for leases and waiters, then closes', async () => {
    useFakeTime()
    const factory = fakeFactory()
    const pool = createPool({ ...factory, max: 1 })
    const lease = await pool.acquire()
    const waiting = pool.acquire()
    const drained = pool.drain({ timeout: '10s' })
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError)
    lease.release()
    const second = await waiting
    await vi.advanceTimersByTimeAsync(100)
    second.release()
    await expect(drained).resolves.toEqual({ drained: true, outstanding: 0 })
    expect(factory.calls.destroy).toBe(1)
  })

  it('drain times out, closes, rejects waiters and destroys late releases', async () => {
    useFakeTime()
    const factory = fakeFactory()
    const pool = createPool({ ...factory, max: 1 })
    const lease = await pool.acquire()
    const waiting = pool.acquire().catch((e: unknown) => e)
    const drained = pool.drain({ timeout: 1_000 })
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(drained).resolves.toEqual({ drained: false, outstanding: 1 })
    expect(await waiting).toBeInstanceOf(PoolClosedError)
    lease.release()
    expect(factory.calls.destroy).toBe(1)
    const started = performance.now()
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError)
    expect(performance.now() - started).toBe(0)
  })

  it('concurrent drains all settle, and close() during a drain ends it', async () => {
    useFakeTime()
    const pool = createPool({ ...fakeFactory(), max: 1 })
    const lease = await pool.acquire()
    const first = pool.drain({ timeout: '10s' })
    const second = pool.drain({ timeout: '10s' })
    lease.release()
    await expect(first).resolves.toEqual({ drained: true, outstanding: 0 })
    await expect(second).resolves.toEqual({ drained: true, outstanding: 0 })

    const other = createPool({ ...fakeFactory(), max: 1 })
    const held = await other.acquire()
    const draining = other.drain({ timeout: '10s' })
    await other.close()
    await expect(draining).resolves.toEqual({ drained: false, outstanding: 1 })
    held.release()
  })

  it('drain serves every acquire queued before it, creating resources when needed', async () => {
    useFakeTime()
    const factory = fakeFactory({ createMs: 20 })
    const pool = createPool({ ...factory, min: 3, max: 3, acquireTimeout: '5s' })
    // two creates at a time (maxCreating): the third acquire needs a create started during the drain
    const served: Lease<FakeResource>[] = []
    for (let i = 0; i < 3; i++) void pool.acquire().then((lease) => served.push(lease))
    const drained = pool.drain()
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError)
    await vi.advanceTimersByTimeAsync(40)
    expect(served.map((lease) => lease.resource.id).sort()).toEqual([0, 1, 2])
    for (const lease of served) lease.release()
    await expect(drained).resolves.toEqual({ drained: true, outstanding: 0 })
    expect(factory.calls).toMatchObject({ create: 3, destroy: 3 })
  })

  it('close waits for creates in flight and destroys what they bring', async () => {
    useFakeTime()
    let created = 0
    const destroyed: number[] = []
    // a create that ignores its signal, as many client libraries' connect calls do
    const pool = createPool<{ id: number }>({
      create: () => new Promise((resolve) => setTimeout(() => resolve({ id: created++ }), 10)),
      destroy: (resource) => {
        destroyed.push(resource.id)
      },
      min: 2,
      max: 4,
    })
    let done = false
    const drained = pool.drain().then((result) => {
      done = true
      return result
    })
    await vi.advanceTimersByTimeAsync(5)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(5)
    await expect(drained).resolves.toEqual({ drained: true, outstanding: 0 })
    expect(created).toBe(2)
    expect(destroyed.sort()).toEqual([0, 1])
  })

  it('a hung destroy is given up after destroyTimeout: counted, reported, and close finishes', async () => {
    useFakeTime()
    const warn = vi.fn()
    const errors: unknown[] = []
    const off = eventChannel<{ error: unknown }>('hotpath:pool:destroy-error').subscribe((m) =>
      errors.push(m.error),
    )
    const pool = createPool({
      create: () => ({}),
      destroy: (resource: { hang?: boolean }) =>
        resource.hang ? new Promise<void>(() => {}) : Promise.reject(new Error('already closed')),
      max: 2,
      destroyTimeout: '1s',
      logger: { warn },
    })
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()])
    ;(a!.resource as { hang?: boolean }).hang = true
    a!.destroy()
    b!.destroy()
    await flush()
    expect(pool.stats()).toMatchObject({ destroyed: 2, destroyErrors: 1, destroyTimeouts: 0 })
    let closed = false
    const closing = pool.close().then(() => {
      closed = true
    })
    await vi.advanceTimersByTimeAsync(999)
    expect(closed).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await closing
    expect(pool.stats()).toMatchObject({ destroyErrors: 2, destroyTimeouts: 1 })
    expect((errors[0] as Error).message).toBe('already closed')
    expect(errors[1]).toBeInstanceOf(DestroyTimeoutError)
    expect((errors[1] as DestroyTimeoutError).code).toBe('E_POOL_DESTROY_TIMEOUT')
    expect(warn).toHaveBeenCalledOnce()
    expect(warn.mock.calls[0]![0]).toMatch(/gave up waiting for a destroy after 1000 ms/)
    off()
  })

  it('destroyTimeout bounds drain() too: a returned lease whose destroy hangs is given up after it', async () => {
    useFakeTime()
    const pool = createPool({
      create: () => ({}),
      // Every destroy hangs, as a client whose server vanished may never answer a quit.
      destroy: () => new Promise<void>(() => {}),
      max: 2,
      destroyTimeout: '1s',
      logger: { warn: () => {} },
    })
    const lease = await pool.acquire()
    await pool.acquire().then((idle) => idle.release())
    let result: unknown
    const draining = pool.drain({ timeout: '1m' }).then((r) => {
      result = r
    })
    await vi.advanceTimersByTimeAsync(100)
    expect(result).toBeUndefined() // the lease is still out
    lease.release()
    await vi.advanceTimersByTimeAsync(999)
    expect(result).toBeUndefined() // both destroys hang, not yet given up
    await vi.advanceTimersByTimeAsync(1)
    await draining
    expect(result).toEqual({ drained: true, outstanding: 0 })
    expect(pool.stats()).toMatchObject({ destroyTimeouts: 2 })
  })

  it('asyncDispose closes the pool', async () => {
    const factory = fakeFactory()
    {
      await using pool = createPool({ ...factory, min: 1, max: 1 })
      await pool.initialize()
    }
    expect(factory.calls.destroy).toBe(1)
  })
})
