import { AsyncLocalStorage } from 'node:async_hooks'
import { getEventListeners, setMaxListeners } from 'node:events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { acquireChannel, rejectChannel, Semaphore, timeoutChannel } from '../src/index'

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('Semaphore', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('never runs more tasks than permits and runs them all', async () => {
    const sem = new Semaphore({ permits: 3 })
    let running = 0
    let peak = 0
    const task = async (i: number) => {
      running++
      peak = Math.max(peak, running)
      await new Promise((r) => setTimeout(r, 10))
      running--
      return i
    }
    const all = Promise.all(Array.from({ length: 20 }, (_, i) => sem.run(() => task(i))))
    await vi.advanceTimersByTimeAsync(100)
    expect(await all).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(peak).toBe(3)
    expect(sem.stats()).toMatchObject({ inUse: 0, waiting: 0, acquired: 20 })
  })

  it('releases the permit when the task throws, synchronously or not', async () => {
    const sem = new Semaphore({ permits: 1 })
    await expect(
      sem.run(() => {
        throw new Error('sync')
      }),
    ).rejects.toThrow('sync')
    await expect(sem.run(() => Promise.reject(new Error('async')))).rejects.toThrow('async')
    expect(sem.inUse).toBe(0)
    expect(await sem.run(() => 7)).toBe(7)
  })

  it('starts a task after run() has returned, even with a permit free', async () => {
    const sem = new Semaphore({ permits: 2 })
    const order: string[] = []
    const first = sem.run(() => order.push('task'))
    order.push('after run()')
    expect(sem.inUse).toBe(1) // the permit is taken at once, only the start is deferred
    await first
    expect(order).toEqual(['after run()', 'task'])
    // A synchronous throw never escapes run(): it rejects the returned promise.
    let returned: Promise<unknown> | undefined
    expect(() => {
      returned = sem.run(() => {
        throw new Error('sync')
      })
    }).not.toThrow()
    await expect(returned).rejects.toThrow('sync')
    expect(sem.inUse).toBe(0)
  })

  it('hands out disposable permits, released once', async () => {
    const sem = new Semaphore({ permits: 2 })
    {
      await using permit = await sem.acquire({ weight: 2 })
      expect(permit.weight).toBe(2)
      expect(sem.available).toBe(0)
    }
    expect(sem.available).toBe(2)
    const permit = await sem.acquire()
    expect(permit.release()).toBe(true)
    expect(permit.release()).toBe(false)
    expect(sem.inUse).toBe(0)
    {
      using sync = sem.tryAcquire()!
      expect(sync.held).toBe(true)
      expect(sem.inUse).toBe(1)
    }
    expect(sem.inUse).toBe(0)
  })

  it('is FIFO without priorities and does not let a light newcomer barge past a heavy head', async () => {
    const sem = new Semaphore({ permits: 3 })
    const held = await sem.acquire({ weight: 2 })
    const order: string[] = []
    const heavy = sem.acquire({ weight: 3 }).then((p) => {
      order.push('heavy')
      return p
    })
    const light = sem.acquire().then((p) => {
      order.push('light')
      return p
    })
    expect(sem.tryAcquire()).toBeUndefined()
    await tick()
    expect(order).toEqual([])
    held.release()
    ;(await heavy).release()
    ;(await light).release()
    expect(order).toEqual(['heavy', 'light'])
  })

  it('serves higher priority first and FIFO within a priority', async () => {
    const sem = new Semaphore({ permits: 1 })
    const held = await sem.acquire()
    const order: string[] = []
    const waits = [
      ['a0', 0],
      ['b5', 5],
      ['c0', 0],
      ['d5', 5],
      ['e-1', -1],
      ['f9', 9],
    ].map(([label, priority]) =>
      sem.run(
        () => {
          order.push(label as string)
        },
        { priority: priority as number },
      ),
    )
    held.release()
    await Promise.all(waits)
    expect(order).toEqual(['f9', 'b5', 'd5', 'a0', 'c0', 'e-1'])
  })

  it('grows and shrinks live without revoking held permits', async () => {
    const sem = new Semaphore({ permits: 2 })
    const a = await sem.acquire()
    const b = await sem.acquire()
    const c = sem.acquire()
    const d = sem.acquire()
    sem.permits = 4
    await c
    await d
    expect(sem.inUse).toBe(4)
    sem.permits = 1
    expect(sem.inUse).toBe(4)
    expect(sem.available).toBe(0)
    const e = sem.acquire()
    a.release()
    b.release()
    ;(await c).release()
    await tick()
    expect(sem.waiting).toBe(1)
    ;(await d).release()
    const permit = await e
    expect(sem.inUse).toBe(1)
    permit.release()
  })

  it('rejects with E_QUEUE_FULL beyond maxQueue and publishes a reject', async () => {
    const sem = new Semaphore({ permits: 1, maxQueue: 2, name: 'db' })
    const events: unknown[] = []
    const off = rejectChannel.subscribe((m) => events.push(m))
    const held = await sem.acquire()
    const w1 = sem.acquire()
    const w2 = sem.acquire()
    await expect(sem.acquire()).rejects.toMatchObject({ code: 'E_QUEUE_FULL', maxQueue: 2 })
    await expect(sem.run(() => 1)).rejects.toMatchObject({ code: 'E_QUEUE_FULL' })
    off()
    expect(events).toEqual([
      { name: 'db', reason: 'queue-full' },
      { name: 'db', reason: 'queue-full' },
    ])
    expect(sem.stats().rejected).toBe(2)
    held.release()
    ;(await w1).release()
    ;(await w2).release()
  })

  it('times out a waiter on the shared timer and lets the next one through', async () => {
    const sem = new Semaphore({ permits: 1, timeout: '1s' })
    const timeouts: unknown[] = []
    const off = timeoutChannel.subscribe((m) => timeouts.push(m))
    const held = await sem.acquire()
    const slow = sem.acquire({ timeout: 50 })
    const slowOutcome = slow.catch((e: unknown) => e)
    const defaultTimeout = sem.acquire().catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(49)
    expect(sem.waiting).toBe(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(await slowOutcome).toMatchObject({ code: 'E_SEMAPHORE_TIMEOUT', timeout: 50 })
    expect(sem.waiting).toBe(1)
    await vi.advanceTimersByTimeAsync(950)
    expect(await defaultTimeout).toMatchObject({ code: 'E_SEMAPHORE_TIMEOUT', timeout: 1000 })
    expect(sem.waiting).toBe(0)
    expect(sem.stats().timedOut).toBe(2)
    expect(vi.getTimerCount()).toBe(0)
    off()
    expect(timeouts).toEqual([
      { name: 'semaphore', timeout: 50 },
      { name: 'semaphore', timeout: 1000 },
    ])
    held.release()
  })

  it('rejects at once with timeout 0 when nothing is free', async () => {
    const sem = new Semaphore({ permits: 1 })
    const held = await sem.acquire()
    await expect(sem.acquire({ timeout: 0 })).rejects.toMatchObject({ code: 'E_SEMAPHORE_TIMEOUT' })
    held.release()
    expect(await sem.acquire({ timeout: 0 })).toBeDefined()
  })

  it('a timed-out heavy head unblocks the lighter waiters behind it', async () => {
    const sem = new Semaphore({ permits: 2 })
    const held = await sem.acquire()
    const heavy = sem.acquire({ weight: 2, timeout: 10 }).catch((e: unknown) => e)
    const light = sem.acquire()
    await vi.advanceTimersByTimeAsync(10)
    expect(await heavy).toMatchObject({ code: 'E_SEMAPHORE_TIMEOUT' })
    expect((await light).weight).toBe(1)
    expect(sem.inUse).toBe(2)
    held.release()
  })

  it('removes an aborted waiter at once and leaves no listener', async () => {
    const sem = new Semaphore({ permits: 1 })
    const held = await sem.acquire()
    const controller = new AbortController()
    const waiting = sem.acquire({ signal: controller.signal, timeout: '1m' })
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    controller.abort(new Error('gone'))
    await expect(waiting).rejects.toThrow('gone')
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    expect(sem.waiting).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    await expect(sem.acquire({ signal: controller.signal })).rejects.toThrow('gone')
    expect(sem.stats().aborted).toBe(1)
    held.release()
  })

  it('removes the listener when a waiter is granted', async () => {
    const sem = new Semaphore({ permits: 1 })
    const held = await sem.acquire()
    const controller = new AbortController()
    const waiting = sem.run(() => 'ok', { signal: controller.signal, priority: 1 })
    held.release()
    expect(await waiting).toBe('ok')
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it.each([0, 3])(
    '10,000 aborted waits on one signal leave no listener and an empty queue (priority %i)',
    async (priority) => {
      const sem = new Semaphore({ permits: 1 })
      const held = await sem.acquire()
      const controller = new AbortController()
      setMaxListeners(20_000, controller.signal)
      const waits: Promise<unknown>[] = []
      for (let i = 0; i < 10_000; i++) {
        waits.push(
          sem.acquire({ signal: controller.signal, priority, timeout: 60_000 }).catch(() => 'aborted'),
        )
      }
      expect(sem.waiting).toBe(10_000)
      // One listener per queue and signal, however many waits share the signal.
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
      controller.abort()
      expect(new Set(await Promise.all(waits))).toEqual(new Set(['aborted']))
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
      expect(sem.waiting).toBe(0)
      expect(sem.stats().aborted).toBe(10_000)
      expect(vi.getTimerCount()).toBe(0)
      held.release()
      expect(sem.inUse).toBe(0)
    },
    60_000,
  )

  it('waits sharing one signal: granted ones keep their permit, the rest reject on abort', async () => {
    const sem = new Semaphore({ permits: 1 })
    const held = await sem.acquire()
    const controller = new AbortController()
    const first = sem.acquire({ signal: controller.signal })
    const others = [1, 2, 3].map(() =>
      sem.acquire({ signal: controller.signal, weight: 1 }).catch((e: unknown) => e),
    )
    held.release()
    const granted = await first
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    controller.abort(new Error('client went away'))
    for (const outcome of await Promise.all(others)) expect(outcome).toEqual(new Error('client went away'))
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    expect(granted.held).toBe(true)
    expect(sem.stats()).toMatchObject({ inUse: 1, waiting: 0, aborted: 3 })
    granted.release()
  })

  it('waiters aborted one by one leave the queue at once (deque compaction, heap removal)', async () => {
    for (const priority of [0, 3]) {
      const sem = new Semaphore({ permits: 1 })
      const held = await sem.acquire()
      const controllers: AbortController[] = []
      const waits: Promise<unknown>[] = []
      for (let i = 0; i < 2_000; i++) {
        const controller = new AbortController()
        controllers.push(controller)
        waits.push(sem.run(() => i, { signal: controller.signal, priority, timeout: 60_000 }).catch(() => -1))
      }
      // Abort every waiter but the last: the survivor must be the next one served.
      for (const controller of controllers.slice(0, -1)) controller.abort()
      expect(sem.waiting).toBe(1)
      for (const controller of controllers.slice(0, -1)) {
        expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
      }
      held.release()
      const results = await Promise.all(waits)
      expect(getEventListeners(controllers.at(-1)!.signal, 'abort')).toHaveLength(0)
      expect(results.at(-1)).toBe(1_999)
      expect(results.filter((r) => r === -1)).toHaveLength(1_999)
      expect(vi.getTimerCount()).toBe(0)
    }
  })

  it('clear() rejects every waiter and keeps held permits', async () => {
    const sem = new Semaphore({ permits: 1 })
    const held = await sem.acquire()
    const controller = new AbortController()
    const waits = [
      sem.acquire({ signal: controller.signal, timeout: 1_000 }),
      sem.run(() => 1, { priority: 2 }),
      sem.acquire(),
    ]
    expect(sem.clear()).toBe(3)
    const outcomes = await Promise.allSettled(waits)
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'E_SEMAPHORE_CLEARED' } })
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    expect(vi.getTimerCount()).toBe(0)
    expect(sem.inUse).toBe(1)
    held.release()
    expect(sem.stats()).toMatchObject({ inUse: 0, waiting: 0, rejected: 3 })
  })

  it('onIdle() resolves when the last task finishes', async () => {
    const sem = new Semaphore({ permits: 2 })
    let done = 0
    for (let i = 0; i < 5; i++) {
      void sem.run(async () => {
        await new Promise((r) => setTimeout(r, 10 * (i + 1)))
        done++
      })
    }
    let idle = false
    void sem.onIdle().then(() => {
      idle = true
    })
    await vi.advanceTimersByTimeAsync(60)
    expect(idle).toBe(false)
    await vi.advanceTimersByTimeAsync(200)
    expect(idle).toBe(true)
    expect(done).toBe(5)
    await sem.onIdle()
  })

  it('close() refuses new callers and waits for running tasks', async () => {
    const sem = new Semaphore({ permits: 1 })
    let finished = false
    void sem.run(async () => {
      await new Promise((r) => setTimeout(r, 20))
      finished = true
    })
    const queued = sem.run(() => 1)
    const closing = sem.close()
    await expect(queued).rejects.toMatchObject({ code: 'E_SEMAPHORE_CLEARED' })
    await expect(sem.run(() => 1)).rejects.toMatchObject({ code: 'E_CLOSED' })
    await vi.advanceTimersByTimeAsync(20)
    await closing
    expect(finished).toBe(true)
  })

  it('records wait times and publishes acquisitions when subscribed', async () => {
    const sem = new Semaphore({ permits: 1, name: 'api' })
    const events: { name: string; weight: number; waitMs: number }[] = []
    const off = acquireChannel.subscribe((m) => events.push(m))
    const held = await sem.acquire()
    const later = sem.acquire()
    await vi.advanceTimersByTimeAsync(40)
    held.release()
    ;(await later).release()
    off()
    expect(events.map((e) => e.name)).toEqual(['api', 'api'])
    expect(events[1]!.waitMs).toBeGreaterThanOrEqual(40)
    const { waitTime } = sem.stats()
    expect(waitTime.count).toBe(2)
    expect(waitTime.max).toBeGreaterThanOrEqual(40)
  })

  it('runs each task in its caller AsyncLocalStorage context, queued or not', async () => {
    const als = new AsyncLocalStorage<string>()
    const sem = new Semaphore({ permits: 1 })
    const seen: (string | undefined)[] = []
    const calls = ['a', 'b', 'c'].map((id, i) =>
      als.run(id, () =>
        sem.run(
          async () => {
            seen.push(als.getStore())
            await new Promise((r) => setTimeout(r, 5))
          },
          i === 2 ? { priority: 1 } : undefined,
        ),
      ),
    )
    await vi.advanceTimersByTimeAsync(20)
    await Promise.all(calls)
    expect(seen.sort()).toEqual(['a', 'b', 'c'])
  })

  it('validates options in the standard format', async () => {
    expect(() => new Semaphore({ permits: 0 })).toThrow(
      'Expected `permits` to be an integer >= 1, got `0` (number)',
    )
    expect(() => new Semaphore({ maxQueue: -1 })).toThrow(
      'Expected `maxQueue` to be an integer >= 0 (or Infinity), got `-1` (number)',
    )
    const sem = new Semaphore({ permits: 2 })
    expect(() => sem.acquire({ weight: 3 })).toThrow(
      'Expected `weight` to be an integer between 1 and 2, got `3` (number)',
    )
    expect(() => sem.run(() => 1, { timeout: 'soon' as never })).toThrow(TypeError)
    expect(() => {
      sem.permits = 1.5
    }).toThrow(TypeError)
  })
})
