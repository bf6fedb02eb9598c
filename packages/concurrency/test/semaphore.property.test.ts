import { getEventListeners } from 'node:events'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { acquireChannel, type Permit, Semaphore } from '../src/index'

const flush = () => new Promise<void>((resolve) => setImmediate(resolve))

type Op =
  | { kind: 'acquire'; weight: number; priority: number }
  | { kind: 'release'; pick: number }
  | { kind: 'resize'; permits: number }
  | { kind: 'abort'; pick: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('acquire' as const),
    weight: fc.integer({ min: 1, max: 3 }),
    priority: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('resize' as const), permits: fc.integer({ min: 3, max: 8 }) }),
  fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }),
)

describe('Semaphore properties', () => {
  it('permits in use never exceed the permits at any grant (weights, priorities, resizes, aborts)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 8 }),
        fc.array(op, { maxLength: 60 }),
        async (permits, ops) => {
          const sem = new Semaphore({ permits })
          let violations = 0
          const off = acquireChannel.subscribe(() => {
            if (sem.inUse > sem.permits) violations++
          })
          const held: Permit[] = []
          const waiting: { controller: AbortController; promise: Promise<unknown> }[] = []
          try {
            for (const o of ops) {
              if (o.kind === 'acquire') {
                const controller = new AbortController()
                const promise = sem
                  .acquire({ weight: o.weight, priority: o.priority, signal: controller.signal })
                  .then(
                    (permit) => held.push(permit),
                    () => {},
                  )
                waiting.push({ controller, promise })
              } else if (o.kind === 'release' && held.length > 0) {
                held.splice(o.pick % held.length, 1)[0]!.release()
              } else if (o.kind === 'resize') sem.permits = o.permits
              else if (o.kind === 'abort' && waiting.length > 0)
                waiting[o.pick % waiting.length]!.controller.abort()
              await flush()
            }
            // Release everything (and grow so every weight fits): every waiter must get through.
            sem.permits = 8
            while (held.length > 0 || sem.waiting > 0) {
              for (const permit of held.splice(0)) permit.release()
              await flush()
            }
            await Promise.all(waiting.map((w) => w.promise))
            return violations === 0 && sem.inUse === 0 && sem.waiting === 0
          } finally {
            off()
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  it('within a priority, waiters are served in arrival order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ priority: fc.integer({ min: -2, max: 2 }), abort: fc.boolean() }), {
          maxLength: 40,
        }),
        async (arrivals) => {
          const sem = new Semaphore({ permits: 1 })
          const gate = await sem.acquire()
          const served: number[] = []
          const waits = arrivals.map(({ priority, abort }, i) => {
            const controller = new AbortController()
            const p = sem
              .run(() => void served.push(i), { priority, signal: controller.signal })
              .catch(() => {})
            if (abort) controller.abort()
            return p
          })
          gate.release()
          await Promise.all(waits)
          const expected = arrivals
            .map((a, i) => ({ ...a, i }))
            .filter((a) => !a.abort)
            .sort((a, b) => b.priority - a.priority || a.i - b.i)
            .map((a) => a.i)
          expect(served).toEqual(expected)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('every promise settles after clear(), and no listener stays behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            weight: fc.integer({ min: 1, max: 2 }),
            priority: fc.integer({ min: 0, max: 3 }),
            withSignal: fc.boolean(),
            timeout: fc.option(fc.integer({ min: 1_000, max: 100_000 }), { nil: undefined }),
            run: fc.boolean(),
          }),
          { maxLength: 50 },
        ),
        async (calls) => {
          const sem = new Semaphore({ permits: 2 })
          const held = await sem.acquire({ weight: 2 })
          const controller = new AbortController()
          const promises = calls.map((c) => {
            const options = {
              weight: c.weight,
              priority: c.priority,
              ...(c.withSignal ? { signal: controller.signal } : {}),
              ...(c.timeout === undefined ? {} : { timeout: c.timeout }),
            }
            return c.run ? sem.run(() => 1, options) : sem.acquire(options)
          })
          expect(sem.clear()).toBe(calls.length)
          const outcomes = await Promise.allSettled(promises)
          expect(outcomes.every((o) => o.status === 'rejected')).toBe(true)
          expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
          expect(sem.waiting).toBe(0)
          held.release()
          expect(sem.inUse).toBe(0)
        },
      ),
      { numRuns: 150 },
    )
  })
})
