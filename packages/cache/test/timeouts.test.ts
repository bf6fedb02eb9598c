import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CacheLoaderTimeoutError, createCache } from '../src/index'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

const SOFT_OVER_HARD =
  /^Expected `timeouts\.soft` to be a duration <= `timeouts\.hard` \(100 ms\), got `1000` \(number\)$/

describe('timeouts.soft must not exceed timeouts.hard', () => {
  it('createCache refuses soft > hard', () => {
    expect(() => createCache({ timeouts: { soft: 1_000, hard: 100 } })).toThrow(TypeError)
    expect(() => createCache({ timeouts: { soft: 1_000, hard: 100 } })).toThrow(SOFT_OVER_HARD)
    expect(() => createCache({ timeouts: { soft: '1s', hard: '100ms' } })).toThrow(/`timeouts\.soft`/)
    expect(() => createCache({ timeouts: { soft: 100, hard: 100 } })).not.toThrow()
  })

  it('a namespace or a call cannot pair an inherited soft with a shorter hard', () => {
    const cache = createCache({ timeouts: { soft: 1_000 } })
    expect(() => cache.namespace('n', { timeouts: { hard: 100 } })).toThrow(SOFT_OVER_HARD)
    expect(() => cache.getOrSet('k', () => 1, { timeouts: { hard: 100 } })).toThrow(SOFT_OVER_HARD)
    expect(() => cache.getOrSetMany(['k'], () => [1], { timeouts: { hard: 100 } })).toThrow(SOFT_OVER_HARD)
  })

  it('property: no getOrSet or getOrSetMany waits longer than timeouts.hard, stale or not, any soft', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2_000 }),
        fc.integer({ min: 0, max: 2_000 }),
        fc.boolean(),
        fc.boolean(),
        async (hard, soft, withStale, many) => {
          const options = { ttl: 1_000, grace: '1h', timeouts: { soft, hard } } as const
          // A pair that could wait past `hard` is refused up front.
          if (soft > hard) {
            expect(() => createCache(options)).toThrow(TypeError)
            return
          }
          const cache = createCache(options)
          if (withStale) {
            await cache.set('k', 'old')
            await vi.advanceTimersByTimeAsync(1_001)
          }
          const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve('new'), 10_000))
          const started = Date.now()
          let settledAt = Number.NaN
          const run = (
            many ? cache.getOrSetMany(['k'], async () => [await slow()]) : cache.getOrSet('k', slow)
          )
            .then(
              (value) => ({ value }),
              (error: unknown) => ({ error }),
            )
            .finally(() => {
              settledAt = Date.now()
            })
          await vi.advanceTimersByTimeAsync(hard)
          expect(settledAt - started).toBeLessThanOrEqual(hard)
          const outcome = await run
          if (withStale) expect(outcome).toEqual({ value: many ? ['old'] : 'old' })
          else expect((outcome as { error: unknown }).error).toBeInstanceOf(CacheLoaderTimeoutError)
          await vi.advanceTimersByTimeAsync(10_000)
          await cache.close()
        },
      ),
      { numRuns: 60 },
    )
  })
})
