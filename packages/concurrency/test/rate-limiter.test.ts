import { setClock } from '@hotpath/core'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { type RateLimitAlgorithm, RateLimiter, rateLimitedChannel } from '../src/index'

let now = 1_000_000
const useManualClock = () => {
  now = 1_000_000
  setClock({ now: () => now, monotonic: () => now })
}
afterEach(() => setClock())

const algorithms: RateLimitAlgorithm[] = ['sliding-window', 'token-bucket', 'gcra']

describe('RateLimiter', () => {
  it.each(algorithms)('%s admits `limit` at once, then refuses with a usable retryAfterMs', (algorithm) => {
    useManualClock()
    const limiter = new RateLimiter({ limit: 10, window: '1m', algorithm })
    for (let i = 0; i < 10; i++) {
      const r = limiter.consume('ip')
      expect(r.allowed).toBe(true)
      expect(r.remaining).toBe(9 - i)
    }
    const denied = limiter.consume('ip')
    expect(denied.allowed).toBe(false)
    expect(denied.remaining).toBe(0)
    expect(denied.retryAfterMs).toBeGreaterThan(0)
    // The sliding window counts whole segments: up to one segment (window / 10) more.
    expect(denied.retryAfterMs).toBeLessThanOrEqual(algorithm === 'sliding-window' ? 66_000 : 60_000)
    expect(denied.resetMs).toBeGreaterThan(0)
    now += denied.retryAfterMs - 1
    expect(limiter.consume('ip').allowed).toBe(false)
    now += 1
    expect(limiter.consume('ip').allowed).toBe(true)
    expect(limiter.consume('other').allowed).toBe(true)
    expect(limiter.stats()).toMatchObject({ algorithm, keys: 2, allowed: 12, denied: 2 })
  })

  it('token bucket and GCRA refill at limit/window', () => {
    for (const algorithm of ['token-bucket', 'gcra'] as const) {
      useManualClock()
      const limiter = new RateLimiter({ limit: 60, window: '1m', algorithm, burst: 5 })
      for (let i = 0; i < 5; i++) expect(limiter.consume('k').allowed).toBe(true)
      const denied = limiter.consume('k')
      expect(denied).toMatchObject({ allowed: false, retryAfterMs: 1_000 })
      now += 1_000
      expect(limiter.consume('k').allowed).toBe(true)
      expect(limiter.consume('k').allowed).toBe(false)
      now += 10_000
      expect(limiter.consume('k').remaining).toBe(4)
    }
  })

  it('sliding window slides: units leave one window after they were taken', () => {
    useManualClock()
    const limiter = new RateLimiter({ limit: 4, window: 1_000, segments: 10 })
    expect(limiter.consume('k', 2).allowed).toBe(true)
    now += 500
    expect(limiter.consume('k', 2).allowed).toBe(true)
    expect(limiter.consume('k').allowed).toBe(false)
    now += 600 // the first two units are out of the window
    expect(limiter.consume('k', 2).allowed).toBe(true)
    expect(limiter.consume('k').allowed).toBe(false)
  })

  it('weights: a call heavier than what is left is refused without consuming', () => {
    useManualClock()
    const limiter = new RateLimiter({ limit: 5, window: '1s', algorithm: 'token-bucket' })
    expect(limiter.consume('k', 4).allowed).toBe(true)
    expect(limiter.consume('k', 2)).toMatchObject({ allowed: false, remaining: 1 })
    expect(limiter.consume('k', 1).allowed).toBe(true)
    expect(() => limiter.consume('k', 6)).toThrow('Expected `weight` to be an integer between 0 and 5')
  })

  it('forgets idle keys by timestamp and bounds tracked keys with maxKeys', () => {
    useManualClock()
    const limiter = new RateLimiter({ limit: 2, window: '1s', maxKeys: 100 })
    for (let i = 0; i < 100; i++) limiter.consume(`k${i}`)
    expect(limiter.size).toBe(100)
    now += 3_000
    for (let i = 0; i < 64; i++) limiter.consume('busy')
    expect(limiter.size).toBe(1)
    for (let i = 0; i < 500; i++) limiter.consume(`new${i}`)
    expect(limiter.size).toBe(100)
    expect(limiter.stats().evicted).toBeGreaterThan(0)
  })

  it('reset() gives a key its allowance back and denials are published', () => {
    useManualClock()
    const limiter = new RateLimiter({ limit: 1, window: '1h', name: 'login' })
    const events: unknown[] = []
    const off = rateLimitedChannel.subscribe((m) => events.push(m))
    limiter.consume('u')
    const denied = limiter.consume('u')
    off()
    expect(events).toEqual([{ name: 'login', key: 'u', weight: 1, retryAfterMs: denied.retryAfterMs }])
    limiter.reset('u')
    expect(limiter.consume('u').allowed).toBe(true)
  })

  it('validates options', () => {
    expect(() => new RateLimiter({} as never)).toThrow(
      'Expected `limit` to be an integer >= 1, got `undefined` (undefined)',
    )
    expect(() => new RateLimiter({ limit: 1, window: '1m', algorithm: 'leaky' as never })).toThrow(TypeError)
  })

  describe('property: never admits more than the policy allows', () => {
    const events = fc.array(
      fc.record({ dt: fc.integer({ min: 0, max: 400 }), weight: fc.integer({ min: 1, max: 3 }) }),
      { minLength: 1, maxLength: 200 },
    )

    it('sliding-window: at most `limit` in any window of its length', () => {
      fc.assert(
        fc.property(
          events,
          fc.integer({ min: 1, max: 12 }),
          fc.integer({ min: 1, max: 20 }),
          (calls, limit, segments) => {
            useManualClock()
            const window = 1_000
            const limiter = new RateLimiter({ limit: Math.max(limit, 3), window, segments })
            const admitted: { at: number; weight: number }[] = []
            for (const { dt, weight } of calls) {
              now += dt
              if (limiter.consume('k', weight).allowed) admitted.push({ at: now, weight })
            }
            for (let j = 0; j < admitted.length; j++) {
              let sum = 0
              for (let i = j; i >= 0 && admitted[j]!.at - admitted[i]!.at <= window; i--)
                sum += admitted[i]!.weight
              if (sum > Math.max(limit, 3)) return false
            }
            return true
          },
        ),
        { numRuns: 300 },
      )
    })

    it.each(['token-bucket', 'gcra'] as const)(
      '%s: at most burst + rate × duration in any interval',
      (algorithm) => {
        fc.assert(
          fc.property(
            events,
            fc.integer({ min: 3, max: 12 }),
            fc.integer({ min: 3, max: 12 }),
            (calls, limit, burst) => {
              useManualClock()
              const window = 1_000
              const limiter = new RateLimiter({ limit, window, burst, algorithm })
              const admitted: { at: number; weight: number }[] = []
              for (const { dt, weight } of calls) {
                now += dt
                if (limiter.consume('k', weight).allowed) admitted.push({ at: now, weight })
              }
              for (let i = 0; i < admitted.length; i++) {
                let sum = 0
                for (let j = i; j < admitted.length; j++) {
                  sum += admitted[j]!.weight
                  const allowance = burst + ((admitted[j]!.at - admitted[i]!.at) * limit) / window
                  if (sum > allowance + 1e-6) return false
                }
              }
              return true
            },
          ),
          { numRuns: 300 },
        )
      },
    )
  })
})
