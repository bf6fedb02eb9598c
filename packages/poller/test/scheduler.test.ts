import { afterEach, describe, expect, it, vi } from 'vitest'
import { every, poll, pollerStats } from '../src/index'
import { ScheduledEntry, Scheduler } from '../src/scheduler'
import { settleOf, useFakeTime } from './helpers'

afterEach(() => {
  vi.useRealTimers()
})

describe('scheduler', () => {
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

  it('keeps entries due in the same millisecond in one bucket, fired in insertion order', () => {
    useFakeTime()
    const scheduler = new Scheduler()
    const fired: number[] = []
    const entries = [5, 5, 5, 9, 5].map((delay, i) => {
      const entry = new ScheduledEntry(() => void fired.push(i))
      scheduler.add(entry, delay)
      return entry
    })
    expect(scheduler.stats()).toMatchObject({ pending: 5, dueTimes: 2, timerArmed: true })
    scheduler.remove(entries[1]!)
    vi.advanceTimersByTime(5)
    expect(fired).toEqual([0, 2, 4])
    vi.advanceTimersByTime(4)
    expect(fired).toEqual([0, 2, 4, 3])
    expect(scheduler.stats()).toMatchObject({ pending: 0, timerArmed: false })
  })

  it('reuses emptied buckets without mixing due times, also when a callback empties its own bucket', () => {
    useFakeTime()
    const scheduler = new Scheduler()
    const fired: string[] = []
    const c = new ScheduledEntry(() => void fired.push(`c@${performance.now()}`))
    const b = new ScheduledEntry(() => void fired.push(`b@${performance.now()}`))
    const a = new ScheduledEntry(() => {
      fired.push(`a@${performance.now()}`)
      scheduler.remove(b) // the rest of the firing bucket
    })
    for (let round = 0; round < 3; round++) {
      scheduler.add(a, 5)
      scheduler.add(b, 5)
      scheduler.add(c, 7)
      scheduler.remove(c) // empties the bucket at 7, which goes back to the pool
      scheduler.add(c, 7)
      vi.advanceTimersByTime(30)
    }
    expect(fired).toEqual(['a@5', 'c@7', 'a@35', 'c@37', 'a@65', 'c@67'])
    expect(scheduler.stats()).toMatchObject({ pending: 0, dueTimes: 0, timerArmed: false })
  })

  it('re-arms for an earlier entry and cancels the timer when nothing is left', async () => {
    useFakeTime()
    const scheduler = new Scheduler()
    const fired: string[] = []
    const late = new ScheduledEntry(() => void fired.push('late'))
    const early = new ScheduledEntry(() => void fired.push('early'))
    scheduler.add(late, 1_000)
    scheduler.add(early, 10)
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(10)
    expect(fired).toEqual(['early'])
    scheduler.remove(late)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('an entry removed by an earlier callback of the same batch does not fire', () => {
    useFakeTime()
    const scheduler = new Scheduler()
    const fired: string[] = []
    const b = new ScheduledEntry(() => void fired.push('b'))
    const a = new ScheduledEntry(() => {
      fired.push('a')
      scheduler.remove(b)
    })
    scheduler.add(a, 5)
    scheduler.add(b, 5)
    vi.advanceTimersByTime(100)
    expect(fired).toEqual(['a'])
    expect(scheduler.stats().pending).toBe(0)
  })

  it('fires a large bucket in order, skipping entries removed or moved by earlier callbacks', () => {
    useFakeTime()
    const scheduler = new Scheduler()
    const fired: number[] = []
    const entries: ScheduledEntry[] = []
    // 200 entries in one bucket; entry 10 removes 100 (not fired yet) and moves 150 to a later
    // due time, entry 120 removes 5 (already fired, a no-op) and 199 (the last slot).
    for (let i = 0; i < 200; i++) {
      entries.push(
        new ScheduledEntry(() => {
          fired.push(i)
          if (i === 10) {
            scheduler.remove(entries[100]!)
            scheduler.add(entries[150]!, 3)
          }
          if (i === 120) {
            expect(scheduler.remove(entries[5]!)).toBe(false)
            scheduler.remove(entries[199]!)
          }
        }),
      )
      scheduler.add(entries[i]!, 5)
    }
    vi.advanceTimersByTime(5)
    const expected = Array.from({ length: 200 }, (_, i) => i).filter((i) => ![100, 150, 199].includes(i))
    expect(fired).toEqual(expected)
    expect(scheduler.stats()).toMatchObject({ pending: 1, dueTimes: 1 })
    vi.advanceTimersByTime(3)
    expect(fired.at(-1)).toBe(150)
    expect(scheduler.stats()).toMatchObject({ pending: 0, dueTimes: 0, timerArmed: false })
    // The bucket came back empty from the pool: a new round starts at slot 0 with no stale entry.
    scheduler.add(entries[0]!, 1)
    vi.advanceTimersByTime(1)
    expect(fired.at(-1)).toBe(0)
    expect(fired).toHaveLength(199)
  })

  it('a zero-delay re-add waits for the next wake-up instead of spinning', () => {
    useFakeTime()
    const scheduler = new Scheduler()
    let count = 0
    const entry: ScheduledEntry = new ScheduledEntry(() => {
      count++
      if (count < 1_000) scheduler.add(entry, 0)
    })
    scheduler.add(entry, 0)
    vi.advanceTimersByTime(0)
    expect(count).toBe(1)
    vi.advanceTimersByTime(10)
    expect(count).toBeGreaterThan(1)
    scheduler.remove(entry)
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

  it('recovers when fake timers are swapped while it holds a frozen tick and a pending timer', async () => {
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
