import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPool, type Lease, type Pool } from '../src/index'
import { type FakeResource, fakeFactory, useFakeTime } from './helpers'

afterEach(() => {
  vi.useRealTimers()
})

type Command =
  | { kind: 'acquire' }
  | { kind: 'release'; index: number; error: boolean }
  | { kind: 'resize'; min: number; max: number }
  | { kind: 'advance'; ms: number }

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ kind: 'acquire' as const }),
  fc.record({ kind: fc.constant('release' as const), index: fc.nat(20), error: fc.boolean() }),
  fc
    .tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 8 }))
    .map(([max, min]) => ({ kind: 'resize' as const, max, min: Math.min(min, max) })),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 200 }) }),
)

/** Runs a release, resize or advance command (acquires are handled by each property). */
async function apply<T>(pool: Pool<T>, leases: Lease<T>[], cmd: Command): Promise<void> {
  if (cmd.kind === 'release' && leases.length > 0) {
    const [lease] = leases.splice(cmd.index % leases.length, 1)
    lease!.release(cmd.error ? new Error('broken') : undefined)
  } else if (cmd.kind === 'resize') {
    pool.resize({ min: cmd.min, max: cmd.max })
  } else if (cmd.kind === 'advance') {
    await vi.advanceTimersByTimeAsync(cmd.ms)
  }
}

describe('invariants', () => {
  it('borrowed + idle never exceeds max, including across resize', async () => {
    useFakeTime()
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 60 }), async (commands) => {
        const pool = createPool({
          ...fakeFactory({ createMs: 20 }),
          max: 4,
          acquireTimeout: 150,
          idleTimeout: 300,
          maxLifetime: 1_000,
          maxWaiting: 100,
        })
        const leases: Lease<FakeResource>[] = []
        const settled: Promise<unknown>[] = []
        let granted = 0
        const check = () => {
          const s = pool.stats()
          // Leases out before a shrink may exceed the new max (they are retired as they come back);
          // otherwise every lease and idle resource fits under max.
          if (s.borrowed <= s.max) expect(s.idle + s.borrowed).toBeLessThanOrEqual(s.max)
          else expect(s.idle).toBe(0)
          // a create in flight during a shrink is destroyed when it lands
          expect(s.size).toBeLessThanOrEqual(Math.max(s.max, s.borrowed))
          expect(s.borrowed).toBe(leases.length)
        }
        for (const cmd of commands) {
          const before = pool.stats()
          let grantedNow = 0
          if (cmd.kind === 'acquire') {
            settled.push(
              pool.acquire().then(
                (lease) => {
                  leases.push(lease)
                  granted++
                  grantedNow++
                },
                () => {},
              ),
            )
          } else await apply(pool, leases, cmd)
          await vi.advanceTimersByTimeAsync(0)
          check()
          // a lease is only granted while there is room under max
          if (grantedNow > 0) expect(before.borrowed).toBeLessThan(pool.stats().max)
        }
        for (let round = 0; round < 3; round++) {
          for (const lease of leases.splice(0)) lease.release()
          await vi.advanceTimersByTimeAsync(500)
        }
        await Promise.all(settled)
        for (const lease of leases.splice(0)) lease.release()
        const end = pool.stats()
        expect(end.borrowed).toBe(0)
        expect(end.pending).toBe(0)
        expect(end.acquired).toBe(granted)
        await pool.close()
      }),
      { numRuns: 150 },
    )
  })

  it('drain serves or times out every acquire queued before it and closes every resource it created', async () => {
    useFakeTime()
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        async (commands, drainAt, min, honoursSignal) => {
          let made = 0
          let destroyed = 0
          const pool = createPool<{ id: number }>({
            create: ({ signal }) =>
              new Promise((resolve, reject) => {
                const timer = setTimeout(() => resolve({ id: made++ }), 20)
                if (honoursSignal) {
                  signal.addEventListener('abort', () => {
                    clearTimeout(timer)
                    reject(signal.reason)
                  })
                }
              }),
            destroy: () => {
              destroyed++
            },
            min,
            max: 4,
            acquireTimeout: 5_000,
            idleTimeout: 300,
            maxLifetime: 1_000,
          })
          const leases: Lease<{ id: number }>[] = []
          const outcomes: Promise<string>[] = []
          let drained: Promise<{ drained: boolean }> | undefined
          for (const [index, cmd] of commands.entries()) {
            if (index === drainAt) drained = pool.drain({ timeout: 60_000 })
            if (cmd.kind === 'acquire') {
              const before = drained === undefined
              outcomes.push(
                pool.acquire().then(
                  (lease) => {
                    leases.push(lease)
                    return 'served'
                  },
                  (error: { code?: string }) =>
                    before
                      ? `${drained === undefined ? 'open' : 'draining'}:${error.code}`
                      : `after:${error.code}`,
                ),
              )
            } else await apply(pool, leases, cmd)
            await vi.advanceTimersByTimeAsync(0)
          }
          drained ??= pool.drain({ timeout: 60_000 })
          let done = false
          void drained.then(() => {
            done = true
          })
          // the holders give everything back every 100 ms while the drain runs
          for (let round = 0; round < 200 && !done; round++) {
            for (const lease of leases.splice(0)) lease.release()
            await vi.advanceTimersByTimeAsync(100)
          }
          const result = await drained
          expect(result.drained).toBe(true)
          for (const outcome of await Promise.all(outcomes)) {
            // queued before the drain: served (or timed out while the pool was still open);
            // after it: refused
            expect(['served', 'open:E_POOL_ACQUIRE_TIMEOUT', 'after:E_POOL_CLOSED']).toContain(outcome)
          }
          expect(destroyed).toBe(made)
          expect(pool.stats()).toMatchObject({ borrowed: 0, pending: 0, creating: 0, size: 0 })
        },
      ),
      { numRuns: 150 },
    )
  })
})
