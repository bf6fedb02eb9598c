import { afterEach, describe, expect, it, vi } from 'vitest'
import { every, JobStoppedError, pollerStats } from '../src/index'
import { abortListeners, now, slow, useFakeTime } from './helpers'

afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('every', () => {
  it('runs every interval, first after one interval, or at once with runOnStart', async () => {
    useFakeTime()
    const late: number[] = []
    const early: number[] = []
    const a = every('1s', () => void late.push(now()))
    const b = every('1s', () => void early.push(now()), { runOnStart: true })
    await vi.advanceTimersByTimeAsync(3_500)
    expect(late).toEqual([1_000, 2_000, 3_000])
    expect(early).toEqual([0, 1_000, 2_000, 3_000])
    await a.stop()
    await b.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('never overlaps a task slower than the interval; the next delay starts when a run ends', async () => {
    useFakeTime()
    let running = 0
    let maxRunning = 0
    const starts: number[] = []
    const job = every('1s', async () => {
      starts.push(now())
      running++
      maxRunning = Math.max(maxRunning, running)
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      running--
    })
    await vi.advanceTimersByTimeAsync(18_000)
    expect(maxRunning).toBe(1)
    expect(starts).toEqual([1_000, 5_000, 9_000, 13_000, 17_000])
    // trigger() during the run started at 17 s joins it instead of starting another
    expect(job.running).toBe(true)
    let joinedAt = -1
    const joined = job.trigger().then(() => {
      joinedAt = now()
    })
    await vi.advanceTimersByTimeAsync(2_000)
    await joined
    expect(joinedAt).toBe(20_000)
    expect(starts).toHaveLength(5)
    expect(maxRunning).toBe(1)
    await job.stop()
  })

  it('stop() during a run waits for it and no run starts afterwards', async () => {
    useFakeTime()
    const task = vi.fn(() => new Promise<void>((resolve) => setTimeout(resolve, 2_000)))
    const job = every('1s', task)
    await vi.advanceTimersByTimeAsync(1_500)
    expect(job.running).toBe(true)
    let stopped = false
    const stopping = job.stop().then(() => {
      stopped = true
    })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(stopped).toBe(false)
    await vi.advanceTimersByTimeAsync(500)
    await stopping
    expect(stopped).toBe(true)
    expect(now()).toBe(3_000)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(task).toHaveBeenCalledTimes(1)
    expect(job.stopped).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
    await expect(job.trigger()).rejects.toBeInstanceOf(JobStoppedError)
  })

  it('backs off after failures and returns to the interval after a success', async () => {
    useFakeTime()
    const starts: number[] = []
    const errors: number[] = []
    let calls = 0
    const job = every(
      '1s',
      () => {
        starts.push(now())
        calls++
        if (calls >= 2 && calls <= 4) throw new Error('refresh failed')
      },
      {
        backoff: { initial: '2s', factor: 2, max: '5s' },
        onError: (_e, { failures }) => errors.push(failures),
      },
    )
    await vi.advanceTimersByTimeAsync(20_000)
    // ok@1s, fail@2s → +2s, fail@4s → +4s, fail@8s → +5s (max), ok@13s → +1s
    expect(starts.slice(0, 7)).toEqual([1_000, 2_000, 4_000, 8_000, 13_000, 14_000, 15_000])
    expect(errors).toEqual([1, 2, 3])
    const stats = job.stats()
    expect(stats.failures).toBe(3)
    expect(stats.consecutiveFailures).toBe(0)
    expect(stats.lastError).toBeUndefined()
    await job.stop()
  })

  it('trigger() runs now, reports the outcome, and reschedules from the end of that run', async () => {
    useFakeTime()
    const starts: number[] = []
    let fail = false
    const job = every('10s', () => {
      starts.push(now())
      if (fail) throw new Error('nope')
    })
    await vi.advanceTimersByTimeAsync(3_000)
    await job.trigger()
    fail = true
    await expect(job.trigger()).rejects.toThrow('nope')
    fail = false
    await vi.advanceTimersByTimeAsync(30_000)
    expect(starts.slice(0, 4)).toEqual([3_000, 3_000, 13_000, 23_000])
    await job.stop()
  })

  it('aborts a run past its timeout and counts it as failed, still without overlap', async () => {
    useFakeTime()
    const signals: AbortSignal[] = []
    const job = every(
      '1s',
      ({ signal }) => {
        signals.push(signal)
        return slow(10_000, undefined, signal)
      },
      { timeout: 500, backoff: false },
    )
    await vi.advanceTimersByTimeAsync(1_600)
    expect(signals[0]!.aborted).toBe(true)
    expect(job.stats()).toMatchObject({ runs: 1, failures: 1, timeouts: 1 })
    await job.stop()
  })

  it('stops when its signal aborts and leaves no listener', async () => {
    useFakeTime()
    const controller = new AbortController()
    const task = vi.fn()
    const job = every('1s', task, { signal: controller.signal })
    await vi.advanceTimersByTimeAsync(2_500)
    controller.abort()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(task).toHaveBeenCalledTimes(2)
    expect(job.stopped).toBe(true)
    expect(abortListeners(controller.signal)).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('applies jitter within bounds', async () => {
    useFakeTime()
    vi.spyOn(Math, 'random').mockReturnValue(0) // −10%
    const starts: number[] = []
    const job = every('1s', () => void starts.push(now()), { jitter: 0.1 })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(starts).toEqual([900, 1_800])
    await job.stop()
  })

  it('can be unref’d so the timer does not hold the process, and counts in stats', async () => {
    useFakeTime()
    const jobsBefore = pollerStats().jobs
    const job = every('5m', () => {}, { unref: true })
    expect(pollerStats().jobs).toBe(jobsBefore + 1)
    expect(pollerStats().scheduler.timerReferenced).toBe(false)
    await job.stop()
    expect(pollerStats().jobs).toBe(jobsBefore)
  })

  it('validates its arguments', () => {
    expect(() => every(0, () => {})).toThrow('Expected `interval` to be a duration > 0, got `0` (number)')
    expect(() => every('1s', 'x' as never)).toThrow('Expected `task` to be a function')
    expect(() => every('1s', () => {}, { backoff: { initial: '10s', max: '1s' } })).toThrow(/backoff\.max/)
    expect(() => every('1s', () => {}, { timeout: 0 })).toThrow(
      'Expected `timeout` to be a duration > 0 (or Infinity), got `0` (number)',
    )
  })

  it('takes a backoff.initial longer than the default max as the max', async () => {
    useFakeTime()
    const starts: number[] = []
    const job = every(
      '1s',
      () => {
        starts.push(now())
        throw new Error('down')
      },
      { backoff: { initial: '1h' } },
    )
    await vi.advanceTimersByTimeAsync(3 * 3_600_000)
    // fail@1s → +1h (8 intervals would be 8 s: the initial delay wins), then capped there
    expect(starts.slice(0, 3)).toEqual([1_000, 3_601_000, 7_201_000])
    await job.stop()
  })
})

describe('every() option names', () => {
  it('refuses a misspelled option or backoff option with a hint, synchronously, before anything is scheduled', () => {
    const jobs = pollerStats().jobs
    expect(() => every('1s', () => {}, { runOnstart: true } as never)).toThrow(
      new TypeError(
        'Expected `runOnstart` to be a known option of every() (did you mean `runOnStart`?), got `true` (boolean)',
      ),
    )
    expect(() => every('1s', () => {}, { backoff: { inital: 5 } } as never)).toThrow(/did you mean `initial`/)
    expect(pollerStats().jobs).toBe(jobs)
  })
})
