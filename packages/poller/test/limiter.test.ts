import { afterEach, describe, expect, it, vi } from 'vitest'
import { defineLimiter, getLimiter, PollAbortedError, PollLimiter, poll, pollerStats } from '../src/index'
import { abortListeners, now, settleOf, slow, useFakeTime } from './helpers'

afterEach(() => {
  vi.useRealTimers()
})

describe('limiter', () => {
  it('500 pollers with a cap of 20 checks/s never exceed it in any 1 s window', async () => {
    useFakeTime()
    const quota = new PollLimiter({ rate: 20, per: '1s' })
    const starts: number[] = []
    const results = Array.from({ length: 500 }, () =>
      settleOf(
        poll(
          ({ attempt }) => {
            starts.push(now())
            return attempt === 3
          },
          { interval: '1s', limiter: quota },
        ),
      ),
    )
    await vi.advanceTimersByTimeAsync(120_000)
    expect(results.every((r) => r.value === true)).toBe(true)
    expect(starts).toHaveLength(1_500)
    starts.sort((a, b) => a - b)
    for (let i = 20; i < starts.length; i++)
      expect(starts[i]! - starts[i - 20]!).toBeGreaterThanOrEqual(1_000)
    // and it is not slower than the quota allows: 1,500 checks at 20/s ≈ 75 s
    expect(starts.at(-1)!).toBeLessThan(76_000)
    expect(quota.stats()).toMatchObject({ running: 0, queued: 0, granted: 1_500 })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('caps concurrent checks across pollers', async () => {
    useFakeTime()
    const quota = new PollLimiter({ maxConcurrent: 5 })
    let running = 0
    let peak = 0
    const results = Array.from({ length: 40 }, () =>
      settleOf(
        poll(
          async ({ attempt, signal }) => {
            running++
            peak = Math.max(peak, running)
            await slow(100, undefined, signal)
            running--
            return attempt === 2
          },
          { interval: 50, limiter: quota },
        ),
      ),
    )
    await vi.advanceTimersByTimeAsync(10_000)
    expect(results.every((r) => r.value === true)).toBe(true)
    expect(peak).toBe(5)
    expect(quota.stats().running).toBe(0)
  })

  it('a poller aborted while queued leaves the queue and never checks', async () => {
    useFakeTime()
    const quota = new PollLimiter({ maxConcurrent: 1 })
    const first = settleOf(poll(({ signal }) => slow(1_000, true, signal), { limiter: quota }))
    const controller = new AbortController()
    const check = vi.fn(() => true)
    const second = settleOf(poll(check, { limiter: quota, signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(500)
    expect(quota.stats().queued).toBe(1)
    controller.abort()
    await vi.advanceTimersByTimeAsync(0)
    expect(second.error).toBeInstanceOf(PollAbortedError)
    expect(quota.stats().queued).toBe(0)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(first.value).toBe(true)
    expect(check).not.toHaveBeenCalled()
    expect(abortListeners(controller.signal)).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a deadline releases the slot once the abandoned check settles', async () => {
    useFakeTime()
    const quota = new PollLimiter({ maxConcurrent: 1 })
    const stuck = settleOf(poll(({ signal }) => slow(5_000, true, signal), { limiter: quota, deadline: 100 }))
    const next = settleOf(poll(() => true, { limiter: quota }))
    await vi.advanceTimersByTimeAsync(200)
    expect((stuck.error as Error).name).toBe('PollTimeoutError')
    expect(next.value).toBe(true)
    expect(quota.stats().running).toBe(0)
  })

  it('is shared by name through defineLimiter', async () => {
    useFakeTime()
    const limiter = defineLimiter('provider-x', { maxConcurrent: 2, rate: 10, per: '1m' })
    expect(getLimiter('provider-x')).toBe(limiter)
    const starts: number[] = []
    const results = Array.from({ length: 15 }, () =>
      settleOf(
        poll(
          () => {
            starts.push(now())
            return true
          },
          { limiter: 'provider-x' },
        ),
      ),
    )
    await vi.advanceTimersByTimeAsync(61_000)
    expect(results.every((r) => r.value === true)).toBe(true)
    expect(starts.filter((t) => t < 60_000)).toHaveLength(10)
    expect(pollerStats().limiters.find((l) => l.name === 'provider-x')?.granted).toBe(15)
  })

  it('limiter: true selects the default limiter', async () => {
    useFakeTime()
    expect(() => poll(() => true, { limiter: true })).toThrow(/defineLimiter\('default'/)
    const limiter = defineLimiter('default', { maxConcurrent: 1 })
    let running = 0
    let peak = 0
    const results = Array.from({ length: 5 }, () =>
      settleOf(
        poll(
          async ({ signal }) => {
            peak = Math.max(peak, ++running)
            await slow(10, undefined, signal)
            running--
            return true
          },
          { limiter: true },
        ),
      ),
    )
    await vi.advanceTimersByTimeAsync(1_000)
    expect(results.every((r) => r.value === true)).toBe(true)
    expect(peak).toBe(1)
    expect(limiter.stats().granted).toBe(5)
  })

  it('ignores a release without an acquire: the cap stays whole', async () => {
    useFakeTime()
    const limiter = new PollLimiter({ maxConcurrent: 1 })
    limiter.release()
    expect(limiter.stats().running).toBe(0)
    let running = 0
    let peak = 0
    const check = async () => {
      peak = Math.max(peak, ++running)
      await new Promise((resolve) => setTimeout(resolve, 100))
      running--
      return true
    }
    const results = [settleOf(poll(check, { limiter })), settleOf(poll(check, { limiter }))]
    await vi.advanceTimersByTimeAsync(1_000)
    expect(results.every((r) => r.value === true)).toBe(true)
    expect(peak).toBe(1)
  })

  it('validates its options', () => {
    expect(() => new PollLimiter({ rate: 0 })).toThrow(
      'Expected `rate` to be an integer between 1 and 100000 (or Infinity), got `0` (number)',
    )
    expect(() => new PollLimiter({ maxConcurrent: 1.5 })).toThrow(/maxConcurrent/)
    expect(() => new PollLimiter({ per: 0 })).toThrow(/per/)
  })
})
