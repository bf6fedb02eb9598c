import { getEventListeners } from 'node:events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BoundedQueue, lockWaitChannel, Mutex, RWLock } from '../src/index'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('Mutex', () => {
  it('serialises critical sections', async () => {
    const lock = new Mutex()
    let inside = 0
    let peak = 0
    const order: number[] = []
    const runs = [1, 2, 3].map((n) =>
      lock.run(async () => {
        inside++
        peak = Math.max(peak, inside)
        await sleep(10)
        order.push(n)
        inside--
      }),
    )
    await vi.advanceTimersByTimeAsync(30)
    await Promise.all(runs)
    expect(peak).toBe(1)
    expect(order).toEqual([1, 2, 3])
    expect(lock.locked).toBe(false)
  })

  it('releases the lock when the critical section throws, synchronously or not, in plain and reentrant mode', async () => {
    for (const lock of [new Mutex(), new Mutex({ reentrant: true })]) {
      const waiter = lock.run(() => 'next')
      await expect(
        lock.run(() => {
          throw new Error('sync')
        }),
      ).rejects.toThrow('sync')
      await expect(lock.run(() => Promise.reject(new Error('async')))).rejects.toThrow('async')
      await expect(waiter).resolves.toBe('next')
      expect(lock.locked).toBe(false)
      // Held by a failing section, the lock goes to the caller queued behind it.
      let release!: () => void
      const failing = lock.run(async () => {
        await new Promise<void>((resolve) => {
          release = resolve
        })
        throw new Error('late')
      })
      const queued = lock.run(() => 'after the failure')
      await vi.advanceTimersByTimeAsync(0)
      expect(lock.locked).toBe(true)
      release()
      await expect(failing).rejects.toThrow('late')
      await expect(queued).resolves.toBe('after the failure')
      expect(lock.locked).toBe(false)
      expect(lock.stats()).toMatchObject({ locked: false, waiting: 0 })
    }
  })

  it('records wait times and flags slow waits on the lock-wait channel', async () => {
    const lock = new Mutex({ name: 'token_lock', warnAfter: '50ms' })
    const events: unknown[] = []
    const off = lockWaitChannel.subscribe((m) => events.push(m))
    const held = await lock.acquire()
    const quick = lock.acquire()
    await vi.advanceTimersByTimeAsync(20)
    held.release()
    const second = await quick
    const slow = lock.acquire()
    await vi.advanceTimersByTimeAsync(80)
    second.release()
    ;(await slow).release()
    off()
    expect(events).toEqual([
      { name: 'token_lock', kind: 'mutex', waitMs: 0, slow: false },
      { name: 'token_lock', kind: 'mutex', waitMs: 20, slow: false },
      { name: 'token_lock', kind: 'mutex', waitMs: 80, slow: true },
    ])
    const stats = lock.stats()
    expect(stats).toMatchObject({ name: 'token_lock', acquired: 3, slowWaits: 1, locked: false })
    expect(stats.waitTime.max).toBeGreaterThanOrEqual(79)
  })

  it('is not reentrant by default (a nested lock waits and can time out)', async () => {
    const lock = new Mutex({ timeout: 100 })
    const nested = lock.run(() => lock.run(() => 'inner'))
    const outcome = nested.catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(100)
    expect(await outcome).toMatchObject({ code: 'E_SEMAPHORE_TIMEOUT' })
  })

  it('reentrant mode lets the holder lock again, others still wait', async () => {
    const lock = new Mutex({ reentrant: true })
    const other = new Mutex({ reentrant: true })
    const order: string[] = []
    const outer = lock.run(async () => {
      order.push('outer')
      await sleep(10)
      const inner = await lock.run(async () => {
        await using _again = await lock.acquire()
        return other.run(() => 'inner')
      })
      order.push(inner)
    })
    const stranger = lock.run(() => {
      order.push('stranger')
    })
    await vi.advanceTimersByTimeAsync(20)
    await Promise.all([outer, stranger])
    expect(order).toEqual(['outer', 'inner', 'stranger'])
  })

  it('an aborted lock wait leaves no listener', async () => {
    const lock = new Mutex()
    const held = await lock.acquire()
    const controller = new AbortController()
    const wait = lock.acquire({ signal: controller.signal })
    controller.abort()
    await expect(wait).rejects.toThrow()
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    expect(lock.stats()).toMatchObject({ waiting: 0, aborted: 1 })
    held.release()
  })
})

describe('RWLock', () => {
  it('shares among readers, excludes writers, and does not starve a waiting writer', async () => {
    const lock = new RWLock()
    const log: string[] = []
    const r1 = lock.read(async () => {
      log.push('r1+')
      await sleep(10)
      log.push('r1-')
    })
    const r2 = lock.read(async () => {
      log.push('r2+')
      await sleep(10)
      log.push('r2-')
    })
    const w = lock.write(async () => {
      log.push('w+')
      await sleep(5)
      log.push('w-')
    })
    const r3 = lock.read(async () => {
      log.push('r3+')
    })
    await vi.advanceTimersByTimeAsync(1)
    expect(lock.stats()).toMatchObject({ readers: 2, writing: false, waiting: 2 })
    await vi.advanceTimersByTimeAsync(12)
    expect(lock.stats()).toMatchObject({ readers: 0, writing: true })
    await vi.advanceTimersByTimeAsync(10)
    await Promise.all([r1, r2, w, r3])
    expect(log).toEqual(['r1+', 'r2+', 'r1-', 'r2-', 'w+', 'w-', 'r3+'])
  })

  it('times out a writer waiting for readers', async () => {
    const lock = new RWLock({ name: 'cfg' })
    const held = await lock.acquireRead()
    const write = lock.acquireWrite({ timeout: '20ms' }).catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(20)
    expect(await write).toMatchObject({ code: 'E_SEMAPHORE_TIMEOUT' })
    held.release()
    ;(await lock.acquireWrite()).release()
  })
})

describe('BoundedQueue', () => {
  it("'reject' refuses the item beyond capacity", async () => {
    const q = new BoundedQueue<number>({ capacity: 2 })
    await q.push(1)
    await q.push(2)
    await expect(q.push(3)).rejects.toMatchObject({ code: 'E_QUEUE_FULL' })
    expect(q.tryPush(3)).toBe(false)
    expect(await q.take()).toBe(1)
    expect(q.stats()).toMatchObject({ size: 1, rejected: 1, pushed: 2, taken: 1 })
  })

  it("'drop-oldest' evicts and reports the oldest item", async () => {
    const dropped: number[] = []
    const q = new BoundedQueue<number>({
      capacity: 2,
      overflow: 'drop-oldest',
      onDrop: (n) => dropped.push(n),
    })
    for (const n of [1, 2, 3, 4]) await q.push(n)
    expect(dropped).toEqual([1, 2])
    expect([q.tryTake(), q.tryTake(), q.tryTake()]).toEqual([3, 4, undefined])
    expect(q.stats().dropped).toBe(2)
  })

  it("'wait' blocks producers until space, with timeout and abort", async () => {
    const q = new BoundedQueue<number>({ capacity: 1, overflow: 'wait' })
    await q.push(1)
    const waiting = q.push(2)
    const timed = q.push(3, { timeout: 10 }).catch((e: unknown) => e)
    const controller = new AbortController()
    const aborted = q.push(4, { signal: controller.signal }).catch((e: unknown) => e)
    controller.abort(new Error('nope'))
    expect(await aborted).toEqual(new Error('nope'))
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(10)
    expect(await timed).toMatchObject({ code: 'E_SEMAPHORE_TIMEOUT' })
    expect(await q.take()).toBe(1)
    await waiting
    expect(await q.take()).toBe(2)
    expect(q.stats()).toMatchObject({ size: 0, waitingProducers: 0 })
  })

  it('consumers wait for items; close() drains then ends iteration', async () => {
    const q = new BoundedQueue<string>({ capacity: 10, overflow: 'wait' })
    const first = q.take()
    await q.push('a')
    expect(await first).toBe('a')
    await q.push('b')
    await q.push('c')
    const seen: string[] = []
    const consumer = (async () => {
      for await (const item of q) seen.push(item)
    })()
    await vi.advanceTimersByTimeAsync(1)
    await q.push('d')
    await q.close()
    await consumer
    expect(seen).toEqual(['b', 'c', 'd'])
    await expect(q.push('e')).rejects.toMatchObject({ code: 'E_CLOSED' })
    await expect(q.take()).rejects.toMatchObject({ code: 'E_CLOSED' })
  })

  it('close() rejects waiting producers', async () => {
    const q = new BoundedQueue<number>({ capacity: 1, overflow: 'wait' })
    await q.push(1)
    const waiting = q.push(2)
    await q.close()
    await expect(waiting).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(q.tryTake()).toBe(1)
  })

  it('requires a capacity', () => {
    expect(() => new BoundedQueue({} as never)).toThrow(
      'Expected `capacity` to be an integer >= 1, got `undefined` (undefined)',
    )
  })
})
