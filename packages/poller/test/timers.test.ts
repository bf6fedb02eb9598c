import { afterEach, describe, expect, it, vi } from 'vitest'
import { every, poll, pollerStats } from '../src/index'
import { settleOf, useFakeTime } from './helpers'

afterEach(() => {
  vi.useRealTimers()
})

// The timer service itself is tested in @hotpath/core; these are the poller's uses of it.
describe('pollers on the shared timer service', () => {
  it('drives 10,000 pollers due at the same tick from one timer callback per round', async () => {
    useFakeTime()
    const before = pollerStats().scheduler
    const results = Array.from({ length: 10_000 }, () =>
      settleOf(poll(({ attempt }) => attempt === 5, { interval: 50 })),
    )
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(results.every((r) => r.value === true)).toBe(true)
    const after = pollerStats().scheduler
    expect(after.wakeups - before.wakeups).toBe(5)
    expect(after.fired - before.fired).toBe(50_000)
    expect(after.largestBatch).toBeGreaterThanOrEqual(10_000)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('unrefs its timer when only unref’d entries wait, and refs it again for a poll', async () => {
    useFakeTime()
    const job = every('1m', () => {}, { unref: true })
    expect(pollerStats().scheduler).toMatchObject({ timerArmed: true, timerReferenced: false })
    const pending = settleOf(poll(({ attempt }) => attempt === 2, { interval: '10s' }))
    await vi.advanceTimersByTimeAsync(0)
    expect(pollerStats().scheduler).toMatchObject({ timerArmed: true, timerReferenced: true })
    await vi.advanceTimersByTimeAsync(10_000)
    expect(pending.value).toBe(true)
    expect(pollerStats().scheduler).toMatchObject({ timerArmed: true, timerReferenced: false })
    await job.stop()
    expect(pollerStats().scheduler.timerArmed).toBe(false)
  })

  it('recovers when fake timers are swapped while a timer is pending', async () => {
    useFakeTime()
    const controller = new AbortController()
    const leftover = settleOf(poll(() => false, { interval: 100, signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(1_000) // ends right after a wake-up
    vi.useRealTimers()
    useFakeTime()
    const fresh = settleOf(poll(({ attempt }) => attempt === 3, { interval: 100 }))
    await vi.advanceTimersByTimeAsync(200)
    expect(fresh.value).toBe(true)
    expect(leftover.settled).toBe(false)
    controller.abort()
    await vi.advanceTimersByTimeAsync(0)
    expect(leftover.settled).toBe(true)
    expect(pollerStats().active).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })
})
