import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createCache } from '../src/index'
import { MemoryStore } from './memory-store'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

type Command =
  | { kind: 'set'; key: string; ttl: number }
  | { kind: 'get'; key: string }
  | { kind: 'getOrSet'; key: string }
  | { kind: 'advance'; ms: number }
  | { kind: 'delete'; key: string }

const key = fc.constantFrom('a', 'b', 'c')
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, ttl: fc.integer({ min: 1, max: 5_000 }) }),
  fc.record({ kind: fc.constant('get' as const), key }),
  fc.record({ kind: fc.constant('getOrSet' as const), key }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 4_000 }) }),
  fc.record({ kind: fc.constant('delete' as const), key }),
)

describe('property: freshness bounds', () => {
  it.each([
    ['L1 only', false],
    ['L1 + L2', true],
  ])(
    '%s: a read never returns a value past ttl + grace, nor one older than a later set',
    async (_, withL2) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(command, { minLength: 1, maxLength: 40 }),
          fc.integer({ min: 0, max: 3_000 }),
          fc.double({ min: 0, max: 0.5, noNaN: true }),
          async (commands, grace, jitter) => {
            const cache = createCache<string>({ grace, jitter, l2: withL2 ? new MemoryStore() : undefined })
            const last = new Map<string, { value: string; setAt: number; ttl: number } | undefined>()
            let n = 0
            const failing = async (): Promise<string> => {
              throw new Error('loader down')
            }
            for (const cmd of commands) {
              const now = Date.now()
              if (cmd.kind === 'advance') vi.setSystemTime(now + cmd.ms)
              else if (cmd.kind === 'set') {
                const value = `v${n++}`
                await cache.set(cmd.key, value, { ttl: cmd.ttl })
                last.set(cmd.key, { value, setAt: now, ttl: cmd.ttl })
              } else if (cmd.kind === 'delete') {
                await cache.delete(cmd.key)
                last.set(cmd.key, undefined)
              } else if (cmd.kind === 'get') {
                const got = await cache.get(cmd.key)
                if (got !== undefined) {
                  const model = last.get(cmd.key)
                  expect(got).toBe(model?.value)
                  expect(Date.now()).toBeLessThan(model!.setAt + model!.ttl)
                }
              } else {
                const got = await cache.getOrSet(cmd.key, failing).catch(() => undefined)
                if (got !== undefined) {
                  const model = last.get(cmd.key)
                  expect(got).toBe(model?.value)
                  expect(Date.now()).toBeLessThan(model!.setAt + model!.ttl + grace)
                }
              }
            }
            await cache.close()
          },
        ),
        { numRuns: 150 },
      )
    },
  )
})
