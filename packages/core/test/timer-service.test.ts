import { AsyncLocalStorage } from 'node:async_hooks'
import { manualTime } from '@hotpath/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { getTimerService, MAX_TIMER_DELAY, Timeout, TimerEntry, TimerService } from '../src/index'

afterEach(() => {
  vi.useRealTimers()
})

describe('TimerService', () => {
  it('keeps entries due in the same millisecond together, fired in insertion order from one timer', () => {
    vi.useFakeTimers({ now: 0 })
    const service = new TimerService()
    const fired: number[] = []
    const entries = [5, 5, 5, 9, 5].map((delay, i) => {
      const entry = new Timeout(() => void fired.push(i))
      service.add(entry, delay)
      return entry
    })
    expect(vi.getTimerCount()).toBe(1)
    expect(service.stats()).toMatchObject({ pending: 5, dueTimes: 2, timerArmed: true })
    expect(service.remove(entries[1]!)).toBe(true)
    expect(service.remove(entries[1]!)).toBe(false)
    vi.advanceTimersByTime(5)
    expect(fired).toEqual([0, 2, 4])
    vi.advanceTimersByTime(4)
    expect(fired).toEqual([0, 2, 4, 3])
    expect(service.stats()).toMatchObject({
      pending: 0,
      dueTimes: 0,
      timerArmed: false,
      wakeups: 2,
      fired: 4,
    })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('re-arms for an earlier entry and cancels its timer when nothing is left', () => {
    vi.useFakeTimers({ now: 0 })
    const service = new TimerService()
    const fired: string[] = []
    const late = new Timeout(() => void fired.push('late'))
    service.add(late, 1_000)
    service.add(new Timeout(() => void fired.push('early')), 10)
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(10)
    expect(fired).toEqual(['early'])
    expect(late.pending).toBe(true)
    expect(late.at).toBe(1_000)
    service.remove(late)
    expect(late.at).toBe(-1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('adding a pending entry again moves it', () => {
    vi.useFakeTimers({ now: 0 })
    const service = new TimerService()
    const fired: number[] = []
    const entry = new Timeout(() => void fired.push(performance.now()))
    service.add(entry, 10)
    service.add(entry, 30)
    expect(service.stats()).toMatchObject({ pending: 1, dueTimes: 1 })
    vi.advanceTimersByTime(100)
    expect(fired).toEqual([30])
  })

  it('an entry added to another service leaves the first', () => {
    const time = manualTime()
    const first = new TimerService({ clock: time.clock, timers: time.timers })
    const second = new TimerService({ clock: time.clock, timers: time.timers })
    const fired: number[] = []
    const entry = new Timeout(() => void fired.push(time.now))
    first.add(entry, 10)
    second.add(entry, 20)
    expect(first.stats().pending).toBe(0)
    expect(second.stats().pending).toBe(1)
    expect(first.remove(entry)).toBe(false)
    time.advance(30)
    expect(fired).toEqual([20])
  })

  it('fires a large bucket in order, skipping entries removed or moved by earlier callbacks', () => {
    vi.useFakeTimers({ now: 0 })
    const service = new TimerService()
    const fired: number[] = []
    const entries: Timeout[] = []
    // Entry 10 removes 100 (not fired yet) and moves 150 later; entry 120 removes 5 (fired
    // already: nothing happens) and 199 (the last slot).
    for (let i = 0; i < 200; i++) {
      entries.push(
        new Timeout(() => {
          fired.push(i)
          if (i === 10) {
            service.remove(entries[100]!)
            service.add(entries[150]!, 3)
          }
          if (i === 120) {
            expect(service.remove(entries[5]!)).toBe(false)
            service.remove(entries[199]!)
          }
        }),
      )
      service.add(entries[i]!, 5)
    }
    vi.advanceTimersByTime(5)
    expect(fired).toEqual(
      Array.from({ length: 200 }, (_, i) => i).filter((i) => ![100, 150, 199].includes(i)),
    )
    expect(service.stats()).toMatchObject({ pending: 1, dueTimes: 1 })
    vi.advanceTimersByTime(3)
    expect(fired.at(-1)).toBe(150)
    expect(service.stats()).toMatchObject({ pending: 0, dueTimes: 0, timerArmed: false })
  })

  it('a zero-delay re-add waits for the next wake-up instead of spinning', () => {
    vi.useFakeTimers({ now: 0 })
    const service = new TimerService()
    let count = 0
    const entry: Timeout = new Timeout(() => {
      count++
      service.add(entry, 0)
    })
    service.add(entry, 0)
    vi.advanceTimersByTime(0)
    expect(count).toBe(1)
    vi.advanceTimersByTime(10)
    expect(count).toBeGreaterThan(1)
    service.remove(entry)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('holds its time during a wake-up, so entries re-added from callbacks stay in one bucket', () => {
    const time = manualTime()
    const service = new TimerService({ clock: time.clock, timers: time.timers })
    const entries: Timeout[] = []
    for (let i = 0; i < 100; i++) {
      const entry: Timeout = new Timeout(() => {
        time.clock.monotonic = () => time.now + i * 0.1 // the callbacks take time
        service.add(entry, 50)
      })
      entries.push(entry)
      service.add(entry, 50)
    }
    time.advance(50)
    expect(new Set(entries.map((e) => e.at))).toEqual(new Set([100]))
    expect(service.stats().dueTimes).toBe(1)
    for (const entry of entries) service.remove(entry)
  })

  it('runs each entry in the async context it was created in', () => {
    vi.useFakeTimers({ now: 0 })
    const service = new TimerService()
    const store = new AsyncLocalStorage<string>()
    const seen: (string | undefined)[] = []
    const a = store.run('request a', () => new Timeout(() => void seen.push(store.getStore())))
    const b = store.run('request b', () => new Timeout(() => void seen.push(store.getStore())))
    store.run('elsewhere', () => {
      service.add(b, 5)
      service.add(a, 5)
    })
    vi.advanceTimersByTime(5)
    expect(seen).toEqual(['request b', 'request a'])
  })

  it('an entry that throws does not stop the others; its error surfaces as an uncaught exception', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    const service = new TimerService()
    const fired: string[] = []
    const errors: unknown[] = []
    const onUncaught = (error: unknown) => errors.push(error)
    // Vitest reports uncaught exceptions itself: listen first, and take the error off its path.
    const listeners = process.listeners('uncaughtException')
    process.removeAllListeners('uncaughtException')
    process.on('uncaughtException', onUncaught)
    try {
      const boom = new Error('boom')
      service.add(
        new Timeout(() => {
          throw boom
        }),
        5,
      )
      service.add(new Timeout(() => void fired.push('next')), 5)
      vi.advanceTimersByTime(5)
      expect(fired).toEqual(['next'])
      await new Promise((resolve) => setImmediate(resolve))
      expect(errors).toEqual([boom])
    } finally {
      process.off('uncaughtException', onUncaught)
      for (const listener of listeners) process.on('uncaughtException', listener)
    }
  })

  it('arms its timer through the clock and provider it was given', () => {
    const time = manualTime()
    const service = new TimerService({ clock: time.clock, timers: time.timers })
    const fired: number[] = []
    service.add(new Timeout(() => void fired.push(time.now)), 250)
    expect(time.pending.size).toBe(1)
    time.advance(249)
    expect(fired).toEqual([])
    time.advance(1)
    expect(fired).toEqual([250])
    expect(time.pending.size).toBe(0)
  })

  it('addAt takes a time on the service clock; a time already past fires at the next wake-up', () => {
    const time = manualTime()
    const service = new TimerService({ clock: time.clock, timers: time.timers })
    time.advance(1_000)
    const fired: string[] = []
    service.addAt(new Timeout(() => void fired.push('at 1500')), 1_500)
    service.addAt(new Timeout(() => void fired.push('past')), 10)
    time.advance(0)
    expect(fired).toEqual(['past'])
    time.advance(500)
    expect(fired).toEqual(['past', 'at 1500'])
  })

  it('an underlying timer the provider failed to clear does not wake the service when it fires', () => {
    const time = manualTime()
    // Clearing through another provider than the one that armed the timer (fake timers installed
    // or removed since) leaves it scheduled: model that with a clearTimeout that does nothing.
    const service = new TimerService({
      clock: time.clock,
      timers: { ...time.timers, clearTimeout: () => {} },
    })
    const fired: string[] = []
    service.add(new Timeout(() => void fired.push(`late ${time.now}`)), 100)
    service.add(new Timeout(() => void fired.push(`early ${time.now}`)), 10)
    time.advance(100)
    expect(fired).toEqual(['early 10', 'late 100'])
    // The timer armed for 100 ms first, then replaced by the one for 10 ms, fired too: ignored.
    expect(service.stats()).toMatchObject({ wakeups: 2, fired: 2, pending: 0 })
  })

  it('chains delays above 2^31-1 ms instead of firing at once', () => {
    const time = manualTime()
    const service = new TimerService({ clock: time.clock, timers: time.timers })
    const delay = 60 * 24 * 3_600_000 // 60 days
    let fired = false
    const entry = new Timeout(() => {
      fired = true
    })
    service.add(entry, delay)
    for (const timer of time.pending.values()) expect(timer.at).toBeLessThanOrEqual(MAX_TIMER_DELAY)
    time.advance(MAX_TIMER_DELAY)
    expect(fired).toBe(false)
    time.advance(delay - MAX_TIMER_DELAY - 2)
    expect(fired).toBe(false)
    time.advance(2)
    expect(fired).toBe(true)
  })

  it('refs its one timer exactly while a ref’d entry is pending', () => {
    const time = manualTime()
    const service = new TimerService({ clock: time.clock, timers: time.timers })
    const timerRef = () => [...time.pending.values()].map((t) => t.ref)
    const sweep = new Timeout(() => {}, { ref: false })
    service.add(sweep, 1_000)
    expect(timerRef()).toEqual([false])
    expect(service.stats()).toMatchObject({ timerArmed: true, timerReferenced: false })
    const wait = new Timeout(() => {})
    service.add(wait, 2_000) // a later, ref'd entry: the timer for the sweep now holds the process
    expect(timerRef()).toEqual([true])
    service.remove(wait)
    expect(timerRef()).toEqual([false])
    sweep.ref()
    expect(timerRef()).toEqual([true])
    sweep.unref()
    expect(timerRef()).toEqual([false])
    expect(sweep.referenced).toBe(false)
    service.add(wait, 10)
    time.advance(10) // the ref'd entry fired: only the sweep is left
    expect(timerRef()).toEqual([false])
    service.remove(sweep)
    expect(time.pending.size).toBe(0)
  })

  it('replaces a timer armed before fake timers were installed', () => {
    const service = new TimerService()
    const early = new Timeout(() => {})
    service.add(early, 60_000) // armed on the real setTimeout
    vi.useFakeTimers({ now: 0 })
    const fired: string[] = []
    service.add(new Timeout(() => void fired.push('fake')), 20)
    vi.advanceTimersByTime(20)
    expect(fired).toEqual(['fake'])
    service.remove(early)
    expect(service.stats().timerArmed).toBe(false)
  })

  it('rejects a delay or time that is not a finite number with the project’s TypeError', () => {
    const service = new TimerService()
    const entry = new Timeout(() => {})
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      expect(() => service.add(entry, bad)).toThrow(TypeError)
      expect(() => service.addAt(entry, bad)).toThrow(/Expected `at` to be a finite monotonic time/)
    }
    expect(() => service.add(entry, Number.NaN)).toThrow(
      'Expected `delay` to be a finite number of milliseconds, got',
    )
    expect(entry.pending).toBe(false)
  })

  it('a subclass entry fires through fire(); the shared service is one instance', () => {
    vi.useFakeTimers({ now: 0 })
    const fired: string[] = []
    class Refresh extends TimerEntry {
      fire(): void {
        fired.push('refresh')
      }
    }
    const service = getTimerService()
    expect(getTimerService()).toBe(service)
    service.add(new Refresh({ ref: false }), 100)
    vi.advanceTimersByTime(100)
    expect(fired).toEqual(['refresh'])
  })
})
