import { AsyncLocalStorage } from 'node:async_hooks'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { acquireChannel, Semaphore } from '../src/index'
import { BATCH_SIZE } from '../src/internal/run-batch'

// Queued run() tasks without signal or timeout share batches of up to BATCH_SIZE tasks; these
// tests queue more than one batch and mix them with waiters that have promises of their own.

const flush = () => new Promise<void>((resolve) => setImmediate(resolve))
const COUNT = BATCH_SIZE * 2 + 5

/** The outcomes of `promises`, filled in as they settle (undefined while pending). */
function settled<T>(promises: Promise<T>[]): (PromiseSettledResult<T> | undefined)[] {
  const outcomes: (PromiseSettledResult<T> | undefined)[] = promises.map(() => undefined)
  for (const [i, promise] of promises.entries()) {
    promise.then(
      (value) => (outcomes[i] = { status: 'fulfilled', value }),
      (reason: unknown) => (outcomes[i] = { status: 'rejected', reason }),
    )
  }
  return outcomes
}

describe('Semaphore batched run()', () => {
  it('runs queued tasks in order, never more than the permits, with their results', async () => {
    const sem = new Semaphore({ permits: 3 })
    const order: number[] = []
    let running = 0
    let peak = 0
    const results = Array.from({ length: COUNT }, (_, i) =>
      sem.run(async () => {
        running++
        peak = Math.max(peak, running)
        order.push(i)
        await flush()
        running--
        return i * 2
      }),
    )
    expect(sem.waiting).toBe(COUNT - 3)
    expect(await Promise.all(results)).toEqual(Array.from({ length: COUNT }, (_, i) => i * 2))
    expect(order).toEqual(Array.from({ length: COUNT }, (_, i) => i))
    expect(peak).toBe(3)
    expect(sem.stats()).toMatchObject({ inUse: 0, waiting: 0, acquired: COUNT })
  })

  it('runs each queued task in its own caller AsyncLocalStorage context', async () => {
    const als = new AsyncLocalStorage<number>()
    const sem = new Semaphore({ permits: 2 })
    const seen = await Promise.all(
      Array.from({ length: COUNT }, (_, i) =>
        als.run(i, () =>
          sem.run(
            async () => {
              await flush()
              return als.getStore()
            },
            i % 3 === 0 ? { priority: 1 } : undefined,
          ),
        ),
      ),
    )
    expect(seen).toEqual(Array.from({ length: COUNT }, (_, i) => i))
  })

  it('keeps weights: a heavy task blocks the light ones behind it until it fits', async () => {
    const sem = new Semaphore({ permits: 4 })
    const held = await sem.acquire({ weight: 3 })
    const order: string[] = []
    const task = (label: string) => () => {
      order.push(label)
      return flush()
    }
    const waits = [
      sem.run(task('light-1')),
      sem.run(task('heavy-4'), { weight: 4 }),
      sem.run(task('light-2')),
      sem.run(task('medium-2'), { weight: 2 }),
    ]
    await flush()
    await flush()
    // light-1 ran and ended; heavy-4 does not fit beside the held 3, and nobody barges past it.
    expect(order).toEqual(['light-1'])
    expect(sem.waiting).toBe(3)
    held.release()
    await Promise.all(waits)
    expect(order).toEqual(['light-1', 'heavy-4', 'light-2', 'medium-2'])
    expect(sem.inUse).toBe(0)
  })

  it('keeps arrival order between batched tasks and waiters with a signal or acquire()', async () => {
    const sem = new Semaphore({ permits: 1 })
    const held = await sem.acquire()
    const order: string[] = []
    const signal = new AbortController().signal
    const waits = [
      sem.run(() => void order.push('a')),
      sem.run(() => void order.push('b'), { signal }),
      sem.run(() => void order.push('c')),
      sem.acquire().then((permit) => {
        order.push('d')
        permit.release()
      }),
      sem.run(() => void order.push('e')),
      sem.run(() => void order.push('f'), { priority: 1 }),
    ]
    held.release()
    await Promise.all(waits)
    expect(order).toEqual(['f', 'a', 'b', 'c', 'd', 'e'])
  })

  it('records the wait of each batched task from its own enqueue time', async () => {
    vi.useFakeTimers({ toFake: ['performance', 'Date'] })
    const events: { name: string; waitMs: number }[] = []
    const off = acquireChannel.subscribe((event) => events.push(event))
    try {
      const sem = new Semaphore({ permits: 1, name: 'batched-waits' })
      const held = await sem.acquire()
      // At 0 ms the first task waits alone; those queued at 10, 25 and 45 ms share one batch.
      const results = [sem.run(() => 'a')]
      for (const [delay, label] of [
        [10, 'b'],
        [15, 'c'],
        [20, 'd'],
      ] as const) {
        vi.advanceTimersByTime(delay)
        results.push(sem.run(() => label))
      }
      vi.advanceTimersByTime(55)
      held.release() // at 100 ms; the tasks end without the clock moving
      expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd'])
      const waits = events.filter((event) => event.name === 'batched-waits').map((event) => event.waitMs)
      expect(waits).toEqual([0, 100, 90, 75, 55])
      expect(sem.stats().waitTime).toMatchObject({ count: 5, min: 0, max: 100, mean: 64 })
    } finally {
      off()
      vi.useRealTimers()
    }
  })

  it('clear() rejects the tasks not granted yet of a batch already open, and of later batches', async () => {
    const sem = new Semaphore({ permits: 2 })
    const gates: (() => void)[] = []
    const ran: number[] = []
    // Tasks 0 and 1 run at once; 2 waits alone (no waiter before it); 3.. fill the batches.
    const outcomes = settled(
      Array.from({ length: COUNT }, (_, i) =>
        sem.run(() => {
          ran.push(i)
          return new Promise<number>((resolve) => gates.push(() => resolve(i)))
        }),
      ),
    )
    await flush()
    gates.shift()!() // task 0 ends: task 2 (alone) starts
    await flush()
    gates.shift()!() // task 1 ends: task 3 opens the first batch; 4.. wait their turn in it
    await flush()
    gates.shift()!() // task 2 ends: task 4, the second of the batch, is woken
    await flush()
    expect(ran).toEqual([0, 1, 2, 3, 4])
    expect(sem.waiting).toBe(COUNT - 5)
    expect(sem.clear()).toBe(COUNT - 5)
    expect(sem.waiting).toBe(0)
    await flush()
    // Every task not granted has settled already, while 3 and 4 still run.
    expect(outcomes.slice(0, 5)).toEqual([
      ...[0, 1, 2].map((value) => ({ status: 'fulfilled', value })),
      undefined,
      undefined,
    ])
    for (const outcome of outcomes.slice(5)) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'E_SEMAPHORE_CLEARED' } })
    }
    for (const open of gates.splice(0)) open()
    await flush()
    expect(outcomes.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((value) => ({ status: 'fulfilled', value })))
    expect(ran).toEqual([0, 1, 2, 3, 4])
    expect(sem.stats()).toMatchObject({ inUse: 0, waiting: 0, acquired: 5, rejected: COUNT - 5 })
  })

  it('clear() in the tick a batch opened rejects its tasks not granted before they start', async () => {
    const sem = new Semaphore({ permits: 2 })
    const first = await sem.acquire()
    const second = await sem.acquire()
    const ran: number[] = []
    // Task 0 waits alone; 1.. fill the batches.
    const outcomes = settled(
      Array.from({ length: COUNT }, (_, i) =>
        sem.run(() => {
          ran.push(i)
          return i
        }),
      ),
    )
    first.release() // grants task 0
    second.release() // grants task 1: the batch opens, its continuations have not run yet
    expect(sem.clear()).toBe(COUNT - 2)
    await flush()
    expect(ran).toEqual([0, 1])
    expect(outcomes.slice(0, 2)).toEqual([0, 1].map((value) => ({ status: 'fulfilled', value })))
    for (const outcome of outcomes.slice(2)) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'E_SEMAPHORE_CLEARED' } })
    }
    expect(sem.stats()).toMatchObject({ inUse: 0, waiting: 0, acquired: 4, rejected: COUNT - 2 })
  })

  it('close() rejects queued tasks and onIdle() waits for the running ones', async () => {
    const sem = new Semaphore({ permits: 1 })
    let finish = () => {}
    const running = sem.run(() => new Promise<void>((resolve) => (finish = resolve)))
    const queued = Array.from({ length: COUNT }, () => sem.run(() => 1))
    const closed = sem.close()
    const outcomes = await Promise.allSettled(queued)
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true)
    finish()
    await running
    await closed
    await expect(sem.run(() => 1)).rejects.toMatchObject({ code: 'E_CLOSED' })
  })

  it('a task that throws releases its permit and the next batched task runs', async () => {
    const sem = new Semaphore({ permits: 1 })
    const results = Array.from({ length: COUNT }, (_, i) =>
      sem.run(() => {
        if (i % 2 === 1) throw new Error(`task ${i}`)
        return i
      }),
    )
    const outcomes = await Promise.allSettled(results)
    for (const [i, outcome] of outcomes.entries()) {
      if (i % 2 === 1) expect(outcome).toMatchObject({ status: 'rejected', reason: { message: `task ${i}` } })
      else expect(outcome).toEqual({ status: 'fulfilled', value: i })
    }
    expect(sem.inUse).toBe(0)
  })

  it('priority then arrival order with batched, abortable and aborted waiters mixed (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            priority: fc.integer({ min: -1, max: 1 }),
            kind: fc.constantFrom('batched', 'signal', 'aborted', 'weighted'),
          }),
          { maxLength: 80 },
        ),
        async (arrivals) => {
          const sem = new Semaphore({ permits: 2 })
          const gate = await sem.acquire({ weight: 2 })
          const served: number[] = []
          const waits = arrivals.map(({ priority, kind }, i) => {
            const controller = new AbortController()
            const options =
              kind === 'batched'
                ? { priority }
                : kind === 'weighted'
                  ? { priority, weight: 2 }
                  : { priority, signal: controller.signal }
            const p = sem.run(() => void served.push(i), options).catch(() => {})
            if (kind === 'aborted') controller.abort()
            return p
          })
          gate.release()
          await Promise.all(waits)
          const want = arrivals
            .map((a, i) => ({ ...a, i }))
            .filter((a) => a.kind !== 'aborted')
            .sort((a, b) => b.priority - a.priority || a.i - b.i)
            .map((a) => a.i)
          expect(served).toEqual(want)
          expect(sem.stats()).toMatchObject({ inUse: 0, waiting: 0 })
        },
      ),
      { numRuns: 150 },
    )
  })
})
