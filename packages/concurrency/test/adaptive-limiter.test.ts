import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  type AdaptiveAlgorithm,
  AdaptiveLimiter,
  type AdaptiveLimiterOptions,
  limitChannel,
} from '../src/index'

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] })
})
afterEach(() => {
  vi.useRealTimers()
})

/**
 * A server that answers in `base` ms up to `knee` concurrent calls; beyond the knee it is
 * saturated and each call takes `base × concurrency / knee` (throughput stays flat, latency grows).
 */
async function simulate(
  options: AdaptiveLimiterOptions,
  { knee = 20, base = 10, clients = 80, ms = 8_000 } = {},
) {
  const limiter = new AdaptiveLimiter({ maxQueue: 10_000, ...options })
  let active = 0
  let stop = false
  const server = async () => {
    active++
    const latency = base * Math.max(1, active / knee)
    await new Promise((r) => setTimeout(r, latency))
    active--
  }
  const loops = Array.from({ length: clients }, async () => {
    while (!stop) await limiter.run(server)
  })
  const limits: number[] = []
  for (let t = 0; t < ms; t += 100) {
    await vi.advanceTimersByTimeAsync(100)
    if (t >= ms / 2) limits.push(limiter.stats().limit)
  }
  stop = true
  await vi.advanceTimersByTimeAsync(10_000)
  await Promise.all(loops)
  const mean = limits.reduce((a, b) => a + b, 0) / limits.length
  return { mean, min: Math.min(...limits), max: Math.max(...limits), limiter }
}

describe('AdaptiveLimiter', () => {
  const cases: [AdaptiveAlgorithm, AdaptiveLimiterOptions][] = [
    ['aimd', { algorithm: 'aimd', rttTimeout: 15 }],
    ['vegas', { algorithm: 'vegas' }],
    ['gradient2', { algorithm: 'gradient2' }],
  ]
  it.each(cases)(
    '%s settles near the knee of a server whose latency grows beyond it',
    async (_name, options) => {
      const knee = 20
      for (const initialLimit of [4, 100]) {
        const { mean, min, max } = await simulate({ ...options, initialLimit, min: 1, max: 500 }, { knee })
        expect(min).toBeGreaterThanOrEqual(knee / 2)
        expect(max).toBeLessThanOrEqual(knee * 2)
        expect(mean).toBeGreaterThan(knee * 0.9)
      }
    },
  )
})

describe('AdaptiveLimiter outcomes', () => {
  it('success/ignore/dropped: drops back the limit, ignores do not count, limit shown in stats', async () => {
    const limiter = new AdaptiveLimiter({
      algorithm: 'aimd',
      initialLimit: 10,
      min: 2,
      max: 50,
      windowSize: 1,
    })
    const changes: unknown[] = []
    const off = limitChannel.subscribe((m) => changes.push(m))
    const token = await limiter.acquire()
    token.dropped()
    token.success() // a second outcome is ignored
    expect(limiter.stats()).toMatchObject({ limit: 9, dropped: 1, succeeded: 0, inFlight: 0 })
    const ignored = await limiter.acquire()
    ignored.ignore()
    expect(limiter.stats()).toMatchObject({ limit: 9, ignored: 1 })
    await expect(
      limiter.run(() => {
        throw new Error('503')
      }),
    ).rejects.toThrow('503')
    expect(limiter.stats().ignored).toBe(2)
    off()
    expect(changes).toEqual([{ name: 'adaptive', algorithm: 'aimd', limit: 9, previous: 10 }])
  })

  it('run() classifies errors with isDropped and never goes below min', async () => {
    const limiter = new AdaptiveLimiter({
      algorithm: 'aimd',
      initialLimit: 3,
      min: 2,
      max: 10,
      windowSize: 1,
      isDropped: (e) => (e as Error).message === 'timeout',
    })
    for (let i = 0; i < 5; i++) {
      await limiter
        .run(() => {
          throw new Error('timeout')
        })
        .catch(() => {})
    }
    expect(limiter.stats()).toMatchObject({ dropped: 5 })
    expect(limiter.limit).toBe(2)
  })

  it('queues callers beyond the limit', async () => {
    const limiter = new AdaptiveLimiter({ initialLimit: 2, min: 1, max: 10 })
    const tokens = await Promise.all([limiter.acquire(), limiter.acquire()])
    const third = limiter.acquire({ timeout: 10 }).catch((e: unknown) => e)
    expect(limiter.stats().waiting).toBe(1)
    await vi.advanceTimersByTimeAsync(10)
    expect(await third).toMatchObject({ code: 'E_SEMAPHORE_TIMEOUT' })
    for (const t of tokens) t.success()
  })
})
