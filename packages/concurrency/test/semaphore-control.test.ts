import { getEventListeners } from 'node:events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Mutex, Semaphore, TaskTimeoutError } from '../src/index'

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
/** Records when a promise settles. */
function track(promise: Promise<unknown>) {
  const state = { settled: false, error: undefined as unknown }
  promise.then(
    () => {
      state.settled = true
    },
    (error: unknown) => {
      state.settled = true
      state.error = error
    },
  )
  return state
}

describe('Semaphore queue control', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('onEmpty() resolves when the last waiter starts, onIdle() when the last task ends', async () => {
    const sem = new Semaphore({ permits: 2 })
    const tasks = Array.from({ length: 5 }, (_, i) => sem.run(() => sleep(10 * (i + 1))))
    const empty = track(sem.onEmpty())
    const idle = track(sem.onIdle())
    await vi.advanceTimersByTimeAsync(20) // tasks 0 and 1 done, 2 and 3 running: one waits
    expect(sem.waiting).toBe(1)
    expect(empty.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(20) // task 2 done at 40 ms, task 4 started: nobody waits
    expect(empty.settled).toBe(true)
    expect(sem.inUse).toBe(2)
    expect(idle.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(100)
    await Promise.all(tasks)
    expect(idle.settled).toBe(true)
    // Already empty and idle: both resolve at once.
    await sem.onEmpty()
    await sem.onIdle()
  })

  it('onSizeLessThan(n) resolves once fewer than n callers wait', async () => {
    const sem = new Semaphore({ permits: 1 })
    const tasks = Array.from({ length: 6 }, () => sem.run(() => sleep(10)))
    expect(sem.waiting).toBe(5)
    const belowThree = track(sem.onSizeLessThan(3))
    const belowTen = track(sem.onSizeLessThan(10))
    await Promise.resolve()
    expect(belowTen.settled).toBe(true)
    await vi.advanceTimersByTimeAsync(20) // two more started: 3 wait
    expect(sem.waiting).toBe(3)
    expect(belowThree.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(10)
    expect(sem.waiting).toBe(2)
    expect(belowThree.settled).toBe(true)
    await vi.advanceTimersByTimeAsync(100)
    await Promise.all(tasks)
    expect(() => sem.onSizeLessThan(0)).toThrow('Expected `size` to be an integer >= 1, got `0` (number)')
  })

  it('the watches stop on abort with the reason and leave no listener', async () => {
    const sem = new Semaphore({ permits: 1 })
    const task = sem.run(() => sleep(50))
    const controller = new AbortController()
    const idle = sem.onIdle({ signal: controller.signal })
    const empty = sem.onSizeLessThan(1, { signal: controller.signal })
    await Promise.resolve()
    await expect(sem.onEmpty()).resolves.toBeUndefined() // nobody waits: at once
    controller.abort(new Error('gave up'))
    await expect(idle).rejects.toThrow('gave up')
    await expect(empty).resolves.toBeUndefined() // it had already resolved
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    await expect(sem.onIdle({ signal: controller.signal })).rejects.toThrow('gave up')
    expect(() => sem.onIdle({ signl: controller.signal } as never)).toThrow('did you mean `signal`?')
    await vi.advanceTimersByTimeAsync(50)
    await task
  })

  it('pause() stops grants (running tasks go on), resume() starts the queued ones in order', async () => {
    const sem = new Semaphore({ permits: 2 })
    const order: number[] = []
    const first = sem.run(async () => {
      await sleep(10)
      order.push(0)
    })
    sem.pause()
    expect(sem.paused).toBe(true)
    expect(sem.stats().paused).toBe(true)
    const queued = [1, 2, 3].map((i) => sem.run(() => order.push(i)))
    expect(sem.tryAcquire()).toBeUndefined()
    const acquiring = sem.acquire({ priority: 5 })
    const acquired = track(acquiring)
    expect(sem.waiting).toBe(4)
    await vi.advanceTimersByTimeAsync(50)
    await first
    expect(order).toEqual([0])
    expect(acquired.settled).toBe(false)
    sem.resume()
    expect(sem.paused).toBe(false)
    expect(sem.inUse).toBe(2) // granted at once: the priority-5 acquire, then task 1
    await Promise.all(queued)
    expect(order).toEqual([0, 1, 2, 3])
    expect(acquired.settled).toBe(true)
    ;(await acquiring).release()
    expect(sem.inUse).toBe(0)
  })

  it('a timed wait still times out while paused, and clear() still rejects', async () => {
    const sem = new Semaphore({ permits: 1 })
    sem.pause()
    const timed = sem.acquire({ timeout: 20 })
    const untimed = sem.run(() => 1)
    const t = expect(timed).rejects.toMatchObject({ code: 'E_SEMAPHORE_TIMEOUT' })
    await vi.advanceTimersByTimeAsync(20)
    await t
    sem.clear()
    await expect(untimed).rejects.toMatchObject({ code: 'E_SEMAPHORE_CLEARED' })
  })

  it('taskTimeout aborts the signal given to fn and rejects with E_TASK_TIMEOUT; permits are kept until fn settles', async () => {
    const sem = new Semaphore({ permits: 1 })
    let seen: AbortSignal | undefined
    let finish: () => void = () => {}
    const slow = sem.run(
      (signal) => {
        seen = signal
        return new Promise<void>((resolve) => {
          finish = resolve
        })
      },
      { taskTimeout: '50ms' },
    )
    const next = track(sem.run(() => 'next'))
    const rejected = expect(slow).rejects.toBeInstanceOf(TaskTimeoutError)
    await vi.advanceTimersByTimeAsync(49)
    expect(seen?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await rejected
    await expect(slow).rejects.toMatchObject({ code: 'E_TASK_TIMEOUT', timeout: 50 })
    expect(seen?.aborted).toBe(true)
    expect(seen?.reason).toBeInstanceOf(TaskTimeoutError)
    // The task ignored its signal: it still holds the permit.
    expect(sem.inUse).toBe(1)
    expect(next.settled).toBe(false)
    finish()
    await vi.advanceTimersByTimeAsync(0)
    expect(next.settled).toBe(true)
    expect(sem.inUse).toBe(0)
  })

  it('taskTimeout: a task that finishes in time resolves; the default comes from the semaphore; the wait is not counted', async () => {
    const sem = new Semaphore({ permits: 1, taskTimeout: 30 })
    const holder = sem.run(() => sleep(25))
    const queued = sem.run(async (signal) => {
      await sleep(25)
      return signal?.aborted
    })
    await vi.advanceTimersByTimeAsync(60)
    await holder
    expect(await queued).toBe(false) // waited 25 ms, ran 25 ms: within 30 ms of running
    const late = sem.run(() => sleep(40))
    const rejected = expect(late).rejects.toMatchObject({ code: 'E_TASK_TIMEOUT' })
    await vi.advanceTimersByTimeAsync(40)
    await rejected
    const thrown = sem.run(
      () => {
        throw new Error('sync')
      },
      { taskTimeout: 10 },
    )
    await expect(thrown).rejects.toThrow('sync')
    expect(sem.inUse).toBe(0)
    expect(() => sem.run(() => 1, { taskTimeout: 0 })).toThrow(/^Expected `taskTimeout` to be a duration > 0/)
  })

  it('clear({ reason }) rejects every waiter, batched or not, with that reason', async () => {
    const sem = new Semaphore({ permits: 1 })
    const held = await sem.acquire()
    const batched = [sem.run(() => 1), sem.run(() => 2), sem.run(() => 3)]
    const timed = sem.acquire({ timeout: '1m' })
    const reason = new Error('upstream down')
    expect(sem.clear({ reason })).toBe(4)
    for (const call of [...batched, timed]) await expect(call).rejects.toBe(reason)
    const next = sem.run(() => 4)
    sem.clear()
    await expect(next).rejects.toMatchObject({ code: 'E_SEMAPHORE_CLEARED' })
    expect(() => sem.clear({ reasn: 1 } as never)).toThrow('did you mean `reason`?')
    held.release()
  })
})

describe('Mutex isLocked / waitForUnlock', () => {
  it('isLocked() follows the holder', async () => {
    const lock = new Mutex()
    expect(lock.isLocked()).toBe(false)
    const first = lock.acquire()
    const second = lock.acquire()
    expect(lock.isLocked()).toBe(true)
    ;(await first).release()
    expect(lock.isLocked()).toBe(true) // handed to the second caller
    ;(await second).release()
    expect(lock.isLocked()).toBe(false)
  })

  it('waitForUnlock() resolves at once when free, else once free with nobody queued, without taking the lock', async () => {
    const lock = new Mutex()
    await lock.waitForUnlock()
    const first = await lock.acquire()
    const queued = lock.acquire()
    const unlocked = track(lock.waitForUnlock())
    first.release()
    await Promise.resolve()
    await Promise.resolve()
    expect(unlocked.settled).toBe(false) // the queued caller got it
    ;(await queued).release()
    await Promise.resolve()
    expect(unlocked.settled).toBe(true)
    expect(lock.isLocked()).toBe(false)
  })

  it('waitForUnlock() inside run() of a re-entrant mutex rejects at once instead of waiting for itself', async () => {
    const lock = new Mutex({ reentrant: true })
    const inside = await lock.run(() =>
      lock.waitForUnlock().then(
        () => 'resolved',
        (error: Error & { code?: string }) => error.code,
      ),
    )
    expect(inside).toBe('E_LOCK_SELF_WAIT')
    expect(lock.isLocked()).toBe(false)
    await lock.waitForUnlock() // outside run(): free, resolves at once
  })

  it('waitForUnlock({ signal }) rejects on abort; clear({ reason }) rejects the waiters', async () => {
    const lock = new Mutex()
    const held = await lock.acquire()
    const controller = new AbortController()
    const waiting = lock.waitForUnlock({ signal: controller.signal })
    controller.abort(new Error('enough'))
    await expect(waiting).rejects.toThrow('enough')
    const queued = lock.run(() => 1)
    lock.clear({ reason: 'closing' })
    await expect(queued).rejects.toBe('closing')
    expect(() => lock.waitForUnlock({ timeout: 1 } as never)).toThrow(
      /known option of Mutex\.waitForUnlock\(\)/,
    )
    held.release()
  })
})
