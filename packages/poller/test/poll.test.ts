import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  PollAbortedError,
  PollCheckError,
  PollFailedError,
  PollStalledError,
  PollTimeoutError,
  phases,
  poll,
  pollerStats,
} from '../src/index'
import { now, settleOf, slow, useFakeTime } from './helpers'

afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('poll', () => {
  it('checks at once, then every interval until isDone, and resolves with the final state', async () => {
    useFakeTime()
    const times: number[] = []
    let n = 0
    const result = settleOf(
      poll(
        () => {
          times.push(now())
          return ++n
        },
        { isDone: (s) => s === 4, interval: '2s' },
      ),
    )
    await vi.advanceTimersByTimeAsync(60_000)
    expect(result.value).toBe(4)
    expect(times).toEqual([0, 2_000, 4_000, 6_000])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('defaults isDone to a truthy state, like p-wait-for', async () => {
    useFakeTime()
    let n = 0
    const result = settleOf(poll(async () => ++n >= 3 && 'ready', { interval: 100 }))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(result.value).toBe('ready')
    expect(n).toBe(3)
  })

  it('follows the phased schedule exactly: 5 s below 30%, 3 s to 70%, 2 s after, stretch after 3 stalls, cap 10 s', async () => {
    useFakeTime()
    const script = [0, 10, 25, 40, 55, 55, 55, 55, 55, 55, 55, 75, 90, 100]
    const times: number[] = []
    const stalls: number[] = []
    const result = settleOf(
      poll(
        async ({ attempt }) => {
          times.push(now())
          return { percent: script[attempt - 1]!, done: attempt === script.length }
        },
        {
          isDone: (s) => s.done,
          progress: (s) => s.percent,
          interval: phases([{ until: 30, every: '5s' }, { until: 70, every: '3s' }, { every: '2s' }]),
          stall: { after: 3, backoff: 1.5, onStall: (info) => stalls.push(info.attempt) },
          maxInterval: '10s',
        },
      ),
    )
    await vi.advanceTimersByTimeAsync(120_000)
    expect(result.value).toEqual({ percent: 100, done: true })
    const gaps = times.slice(1).map((t, i) => t - times[i]!)
    expect(gaps).toEqual([
      5_000, // 0%
      5_000, // 10%
      5_000, // 25%
      3_000, // 40%
      3_000, // 55%
      3_000, // 55%, 1 check without progress
      3_000, // 2
      4_500, // 3: stretched ×1.5
      6_750, // 4: ×1.5²
      10_000, // 5: ×1.5³ = 10,125 → capped at 10 s
      10_000, // 6: capped
      2_000, // 75%: progress again, back to the phase interval
      2_000, // 90%
    ])
    expect(stalls).toEqual([8])
  })

  it('takes the interval from a function of the state', async () => {
    useFakeTime()
    const times: number[] = []
    const result = settleOf(
      poll(
        ({ attempt }) => {
          times.push(now())
          return attempt
        },
        { isDone: (s) => s === 4, interval: ({ attempt }) => `${attempt}s` as const },
      ),
    )
    await vi.advanceTimersByTimeAsync(60_000)
    expect(result.value).toBe(4)
    expect(times).toEqual([0, 1_000, 3_000, 6_000])
  })

  it('clamps to minInterval and maxInterval and spreads by jitter within bounds', async () => {
    useFakeTime()
    const random = vi.spyOn(Math, 'random')
    random.mockReturnValue(1) // +10%
    const times: number[] = []
    const result = settleOf(
      poll(
        ({ attempt }) => {
          times.push(now())
          return attempt
        },
        {
          isDone: (s) => s === 4,
          interval: ({ attempt }) => [50, 1_000, 50_000][attempt - 1]!,
          minInterval: 200,
          maxInterval: '20s',
          jitter: 0.1,
        },
      ),
    )
    await vi.advanceTimersByTimeAsync(60_000)
    expect(result.value).toBe(4)
    const gaps = times.slice(1).map((t, i) => t - times[i]!)
    // 50 → 200 (min) → 220 (+10%); 1000 → 1100; 50,000 → 20,000 (max), jitter cannot pass the max
    expect(gaps).toEqual([220, 1_100, 20_000])
  })

  it('honours ctx.retryAfter() up to maxInterval', async () => {
    useFakeTime()
    const times: number[] = []
    const result = settleOf(
      poll(
        (ctx) => {
          times.push(now())
          if (ctx.attempt === 1) ctx.retryAfter('7s')
          if (ctx.attempt === 2) ctx.retryAfter('1h')
          if (ctx.attempt === 3) ctx.retryAfter(10) // shorter than the interval: ignored
          return ctx.attempt === 4
        },
        { interval: '1s', maxInterval: '30s' },
      ),
    )
    await vi.advanceTimersByTimeAsync(120_000)
    expect(result.value).toBe(true)
    expect(times).toEqual([0, 7_000, 37_000, 38_000])
  })

  it('caps a hint at the default maxInterval (2 min, or the interval when longer) when no bound is given', async () => {
    useFakeTime()
    const times: number[] = []
    const result = settleOf(
      poll(
        (ctx) => {
          times.push(now())
          if (ctx.attempt === 1) ctx.retryAfter('1h')
          if (ctx.attempt === 2) ctx.retryAfter('7s')
          if (ctx.attempt === 3) throw new Error('transient') // retried after 1 s, as configured
          return ctx.attempt === 4
        },
        { interval: '5s', retry: 1 },
      ),
    )
    await vi.advanceTimersByTimeAsync(300_000)
    expect(result.value).toBe(true)
    expect(times).toEqual([0, 120_000, 127_000, 128_000])
    const long = settleOf(
      poll(
        (ctx) => {
          times.push(now())
          if (ctx.attempt === 1) ctx.retryAfter('1h')
          return ctx.attempt === 2
        },
        { interval: '3m' },
      ),
    )
    await vi.advanceTimersByTimeAsync(300_000)
    expect(long.value).toBe(true)
    expect(times.slice(4).map((t) => t - times[4]!)).toEqual([0, 180_000])
  })

  it('takes a Retry-After header value as received: delta-seconds, an HTTP-date, or no header', async () => {
    useFakeTime() // wall clock at the epoch
    const times: number[] = []
    const result = settleOf(
      poll(
        (ctx) => {
          times.push(now())
          if (ctx.attempt === 1) ctx.retryAfter('2') // seconds, as a server sends it
          if (ctx.attempt === 2) ctx.retryAfter(' 3 ')
          if (ctx.attempt === 3) ctx.retryAfter('Thu, 01 Jan 1970 00:00:12 GMT') // 7 s after this check
          if (ctx.attempt === 4) ctx.retryAfter(null) // header absent: the interval applies
          if (ctx.attempt === 5) ctx.retryAfter('Thu, 01 Jan 1970 00:00:01 GMT') // past: no wait added
          return ctx.attempt === 6
        },
        { interval: '1s', maxInterval: '30s' },
      ),
    )
    await vi.advanceTimersByTimeAsync(60_000)
    expect(result.value).toBe(true)
    expect(times).toEqual([0, 2_000, 5_000, 12_000, 13_000, 14_000])
  })

  it('refuses a Retry-After value that is neither delta-seconds nor an HTTP-date', async () => {
    useFakeTime()
    for (const bad of ['-1', '1.5', 'Someday, 99 Foo 2026', 'tomorrow']) {
      const result = settleOf(
        poll(
          (ctx) => {
            ctx.retryAfter(bad)
            return false
          },
          { interval: 100 },
        ),
      )
      await vi.advanceTimersByTimeAsync(1_000)
      expect(result.error, bad).toBeInstanceOf(TypeError)
      expect((result.error as Error).message).toContain('a Retry-After header value')
    }
  })

  it('rejects a bad ctx.retryAfter() value with its own error at once, without retrying', async () => {
    useFakeTime()
    let checks = 0
    const result = settleOf(
      poll(
        (ctx) => {
          checks++
          ctx.retryAfter('soon' as never)
          return false
        },
        { retry: 5, interval: 100 },
      ),
    )
    await vi.advanceTimersByTimeAsync(10_000)
    expect(result.error).toBeInstanceOf(TypeError)
    expect((result.error as Error).message).toMatch(
      /Expected `retryAfter` to be a duration, or a Retry-After header value.*got `'soon'`/,
    )
    expect(checks).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps an interval longer than the default maxInterval instead of cutting it', async () => {
    useFakeTime()
    const times: number[] = []
    const slowPhases: number[] = []
    const a = settleOf(
      poll(
        ({ attempt }) => {
          times.push(now())
          return attempt === 3
        },
        { interval: '5m' },
      ),
    )
    const b = settleOf(
      poll(
        ({ attempt }) => {
          slowPhases.push(now())
          return attempt === 3
        },
        { interval: phases([{ until: 50, every: '3m' }, { every: '1s' }]), progress: () => 0 },
      ),
    )
    await vi.advanceTimersByTimeAsync(3_600_000)
    expect(a.value).toBe(true)
    expect(b.value).toBe(true)
    expect(times).toEqual([0, 300_000, 600_000])
    expect(slowPhases).toEqual([0, 180_000, 360_000])
  })

  it('tells a top-level onStall of stalls without stretching the interval when stall is not set', async () => {
    useFakeTime()
    const times: number[] = []
    const stalls: number[] = []
    const result = settleOf(
      poll(
        ({ attempt }) => {
          times.push(now())
          return attempt
        },
        {
          isDone: (n) => n === 6,
          progress: () => 'queued',
          interval: 100,
          onStall: (info) => stalls.push(info.attempt),
        },
      ),
    )
    await vi.advanceTimersByTimeAsync(10_000)
    expect(result.value).toBe(6)
    expect(times).toEqual([0, 100, 200, 300, 400, 500])
    // check 1 observes the progress; checks 2-4 are the three without a change
    expect(stalls).toEqual([4])
  })

  it('rejects with PollFailedError carrying the last state when isFailed', async () => {
    useFakeTime()
    const result = settleOf(
      poll(({ attempt }) => ({ status: attempt === 2 ? 'error' : 'running', attempt }), {
        isDone: (s) => s.status === 'done',
        isFailed: (s) => s.status === 'error',
        interval: 10,
      }),
    )
    await vi.advanceTimersByTimeAsync(1_000)
    expect(result.error).toBeInstanceOf(PollFailedError)
    expect((result.error as PollFailedError).code).toBe('E_POLL_FAILED')
    expect((result.error as PollFailedError).state).toEqual({ status: 'error', attempt: 2 })
    expect((result.error as PollFailedError).attempts).toBe(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects with PollStalledError after stall.failAfter checks without progress', async () => {
    useFakeTime()
    const calls = vi.fn(() => ({ percent: 42 }))
    const result = settleOf(
      poll(calls, {
        isDone: () => false,
        progress: (s) => s.percent,
        interval: 100,
        stall: { after: 2, failAfter: 5 },
      }),
    )
    await vi.advanceTimersByTimeAsync(60_000)
    expect(result.error).toBeInstanceOf(PollStalledError)
    const error = result.error as PollStalledError
    expect(error.code).toBe('E_POLL_STALLED')
    expect(error.stalledChecks).toBe(5)
    expect(error.progress).toBe(42)
    expect(calls).toHaveBeenCalledTimes(6)
  })

  it('retries a throwing check with backoff, then succeeds', async () => {
    useFakeTime()
    const times: number[] = []
    const result = settleOf(
      poll(
        ({ attempt }) => {
          times.push(now())
          if (attempt <= 3) throw new Error('ECONNRESET')
          return 'ok'
        },
        { interval: '1s', retry: { retries: 3, delay: 100, factor: 2 } },
      ),
    )
    await vi.advanceTimersByTimeAsync(10_000)
    expect(result.value).toBe('ok')
    expect(times).toEqual([0, 100, 300, 700])
  })

  it('rejects with PollCheckError when retries run out or shouldRetry says no', async () => {
    useFakeTime()
    const boom = new Error('500')
    const exhausted = settleOf(
      poll(
        () => {
          throw boom
        },
        { retry: 2 },
      ),
    )
    const fatal = new Error('401')
    const refused = settleOf(
      poll(() => Promise.reject(fatal), { retry: { retries: 5, shouldRetry: (e) => e !== fatal } }),
    )
    await vi.advanceTimersByTimeAsync(60_000)
    expect(exhausted.error).toBeInstanceOf(PollCheckError)
    expect((exhausted.error as PollCheckError).code).toBe('E_POLL_CHECK_FAILED')
    expect((exhausted.error as PollCheckError).cause).toBe(boom)
    expect((exhausted.error as PollCheckError).failures).toBe(3)
    expect((refused.error as PollCheckError).failures).toBe(1)
    expect((refused.error as PollCheckError).cause).toBe(fatal)
  })

  it('honours a retryAfter hint given before the check throws', async () => {
    useFakeTime()
    const times: number[] = []
    const result = settleOf(
      poll(
        (ctx) => {
          times.push(now())
          if (ctx.attempt === 1) {
            ctx.retryAfter('5s')
            throw new Error('429')
          }
          return true
        },
        { retry: { retries: 1, delay: 100 } },
      ),
    )
    await vi.advanceTimersByTimeAsync(10_000)
    expect(result.value).toBe(true)
    expect(times).toEqual([0, 5_000])
  })

  it('calls onAttempt before each check and onProgress when progress changes', async () => {
    useFakeTime()
    const events: string[] = []
    const script = [0, 0, 50, 100]
    const result = settleOf(
      poll(
        ({ attempt }) => {
          events.push(`check ${attempt}`)
          return script[attempt - 1]!
        },
        {
          isDone: (p) => p === 100,
          interval: 10,
          onAttempt: ({ attempt }) => events.push(`attempt ${attempt}`),
          onProgress: ({ progress, attempt }) => events.push(`progress ${String(progress)} @${attempt}`),
        },
      ),
    )
    await vi.advanceTimersByTimeAsync(1_000)
    expect(result.value).toBe(100)
    expect(events).toEqual([
      'attempt 1',
      'check 1',
      'progress 0 @1',
      'attempt 2',
      'check 2',
      'attempt 3',
      'check 3',
      'progress 50 @3',
      'attempt 4',
      'check 4',
      'progress 100 @4',
    ])
  })

  it('rejects with the hook error when a hook throws, and stops polling', async () => {
    useFakeTime()
    const check = vi.fn(() => false)
    const bug = new Error('bug in hook')
    const result = settleOf(
      poll(check, {
        interval: 10,
        onAttempt: ({ attempt }) => {
          if (attempt === 2) throw bug
        },
      }),
    )
    await vi.advanceTimersByTimeAsync(1_000)
    expect(result.error).toBe(bug)
    expect(check).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('on the plain fixed-interval path: a check that aborts its own poll gets no further check', async () => {
    useFakeTime()
    const controller = new AbortController()
    const check = vi.fn(({ attempt }: { attempt: number }) => {
      if (attempt === 2) controller.abort(new Error('done with it'))
      return false
    })
    const result = settleOf(poll(check, { interval: 10, signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(result.error).toBeInstanceOf(PollAbortedError)
    expect(check).toHaveBeenCalledTimes(2)
    expect(pollerStats().checking).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('on the plain fixed-interval path: a throwing isDone ends the poll with its error', async () => {
    useFakeTime()
    const bug = new Error('bug in isDone')
    const check = vi.fn(() => 1)
    const isDone = vi.fn((state: number) => {
      if (check.mock.calls.length === 3) throw bug
      return state > 1
    })
    const result = settleOf(poll(check, { interval: 10, isDone }))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(result.error).toBe(bug)
    expect(check).toHaveBeenCalledTimes(3)
    expect(isDone).toHaveBeenCalledTimes(3)
    expect(pollerStats().checking).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects with PollTimeoutError exactly at the deadline during a slow check, aborting its signal', async () => {
    useFakeTime()
    const signals: AbortSignal[] = []
    const result = settleOf(
      poll(
        ({ signal, attempt }) => {
          signals.push(signal)
          return slow(attempt === 1 ? 100 : 60_000, false, signal)
        },
        { interval: '1s', deadline: '10s' },
      ),
    )
    await vi.advanceTimersByTimeAsync(9_999)
    expect(result.settled).toBe(false)
    expect(signals).toHaveLength(2)
    expect(signals[1]!.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(result.error).toBeInstanceOf(PollTimeoutError)
    expect(result.at).toBe(10_000)
    const error = result.error as PollTimeoutError
    expect(error.code).toBe('E_POLL_TIMEOUT')
    expect(error.deadline).toBe(10_000)
    expect(error.attempts).toBe(2)
    expect(error.state).toBe(false)
    expect(signals[1]!.aborted).toBe(true)
    expect(signals[1]!.reason).toBe(error)
    await vi.advanceTimersByTimeAsync(120_000)
    expect(signals).toHaveLength(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps stats of polls and checks', async () => {
    useFakeTime()
    const before = pollerStats()
    const a = settleOf(poll(({ attempt }) => attempt === 2, { interval: 10 }))
    expect(pollerStats().active).toBe(before.active + 1)
    await vi.advanceTimersByTimeAsync(100)
    expect(a.value).toBe(true)
    const after = pollerStats()
    expect(after.active).toBe(before.active)
    expect(after.checks - before.checks).toBe(2)
    expect(after.settled.done - before.settled.done).toBe(1)
    expect(after.scheduler.pending).toBe(0)
    expect(after.scheduler.timerArmed).toBe(false)
  })

  it('follows each call’s own option values when polls are started back to back', async () => {
    useFakeTime()
    const log: Record<string, number[]> = { a: [], b: [], c: [], d: [], e: [] }
    const times = (label: string) => () => {
      log[label]!.push(now())
      return false
    }
    const stall = { after: 2, backoff: 2 }
    const controller = new AbortController()
    const signal = controller.signal
    const before = pollerStats().active
    const runs = [
      poll(times('a'), { interval: 100, signal }),
      poll(times('b'), { interval: 100, signal }),
      poll(times('c'), { interval: 300, signal }),
      poll(times('d'), { interval: 100, stall, signal }),
    ]
    // The same nested object, changed in place: the next poll reads the new values.
    stall.after = 1
    runs.push(poll(times('e'), { interval: 100, stall, signal }))
    const outcomes = runs.map(settleOf)
    await vi.advanceTimersByTimeAsync(650)
    expect(pollerStats().active).toBe(before + 5)
    expect(log.a).toEqual([0, 100, 200, 300, 400, 500, 600])
    expect(log.b).toEqual(log.a)
    expect(log.c).toEqual([0, 300, 600])
    // stall.after 2: 100, 100, then ×2, ×4 ...
    expect(log.d).toEqual([0, 100, 200, 400])
    // stall.after 1: 100, then ×2, ×4 ...
    expect(log.e).toEqual([0, 100, 300])
    controller.abort()
    await vi.advanceTimersByTimeAsync(0)
    for (const outcome of outcomes) expect(outcome.error).toMatchObject({ code: 'E_POLL_ABORTED' })
    expect(pollerStats().active).toBe(before)
  })

  it('does not let a non-function check or bad options through', () => {
    expect(() => poll(42 as never)).toThrow('Expected `check` to be a function, got `42` (number)')
    expect(() => poll(() => 1, { interval: '5 mins' as never })).toThrow(
      /Expected `interval` to be a duration/,
    )
    expect(() => poll(() => 1, { jitter: 2 })).toThrow(
      'Expected `jitter` to be a finite number between 0 and 1, got `2` (number)',
    )
    expect(() => poll(() => 1, { minInterval: '10s', maxInterval: '1s' })).toThrow(/maxInterval/)
    expect(() => poll(() => 1, { limiter: 'nope' })).toThrow(/Expected `limiter`/)
    expect(() => poll(() => 1, { stall: true as never })).toThrow(
      'Expected `stall` to be an options object { after?, backoff?, onStall?, failAfter? } or false, got `true` (boolean)',
    )
    expect(() => poll(() => 1, { stall: [] as never })).toThrow(
      /Expected `stall` to be an options object .* or false, got/,
    )
    expect(() => poll(() => 1, { retry: true as never })).toThrow(
      /Expected `retry` to be a number of retries, an options object .* or false, got `true`/,
    )
    expect(() => poll(() => 1, { stall: false, onStall: () => {} })).toThrow(
      /Expected `onStall` to be left out when `stall` is false/,
    )
    expect(() =>
      phases([
        { until: 50, every: '1s' },
        { until: 20, every: '1s' },
      ]),
    ).toThrow(/phases\[1\]\.until/)
    expect(() => phases([])).toThrow(/Expected `phases`/)
  })
})

describe('async context', () => {
  it('runs each poller’s check and hooks in the context of its poll() call, and every() tasks in theirs', async () => {
    const { AsyncLocalStorage } = await import('node:async_hooks')
    const { every } = await import('../src/index')
    useFakeTime()
    const als = new AsyncLocalStorage<string>()
    const seen: string[] = []
    const start = (id: string) =>
      als.run(id, () =>
        settleOf(
          poll(
            ({ attempt }) => {
              seen.push(`check ${id}=${als.getStore()}`)
              return attempt
            },
            {
              interval: 100,
              isDone: (n) => {
                seen.push(`isDone ${id}=${als.getStore()}`)
                return n === 2
              },
            },
          ),
        ),
      )
    const a = start('a')
    const b = start('b')
    const job = als.run('job', () => every('50ms', () => void seen.push(`job=${als.getStore()}`)))
    await vi.advanceTimersByTimeAsync(200)
    await job.stop()
    expect(a.value).toBe(2)
    expect(b.value).toBe(2)
    for (const line of seen) {
      const [left, right] = line.split('=')
      expect(right).toBe(left!.split(' ').at(-1))
    }
    expect(seen.filter((l) => l.startsWith('job')).length).toBeGreaterThan(1)
  })

  it('gives each poller one async id for all its checks, triggered by the poll() caller', async () => {
    const { executionAsyncId, triggerAsyncId } = await import('node:async_hooks')
    useFakeTime()
    const caller = executionAsyncId()
    const seen: [number, number][][] = [[], [], []]
    const runs = seen.map((ids) =>
      poll(
        ({ attempt }) => {
          ids.push([executionAsyncId(), triggerAsyncId()])
          return attempt === 3
        },
        { interval: 10 },
      ),
    )
    await vi.advanceTimersByTimeAsync(100)
    await Promise.all(runs)
    for (const ids of seen) {
      expect(ids).toHaveLength(3)
      expect(new Set(ids.map(([id]) => id)).size).toBe(1)
      expect(
        ids.every(([id, trigger]) => Number.isSafeInteger(id) && id > caller && trigger === caller),
      ).toBe(true)
    }
    expect(new Set(seen.map((ids) => ids[0]![0])).size).toBe(3)
  })
})

describe('poll context and start', () => {
  it('waits initialDelay before the first check and hands previous, attempt and elapsed to the check', async () => {
    useFakeTime()
    const seen: unknown[] = []
    const result = settleOf(
      poll(
        ({ attempt, previous, elapsed }) => {
          seen.push({ attempt, previous, elapsed })
          return attempt * 10
        },
        { isDone: (n) => n === 30, interval: '1s', initialDelay: '3s' },
      ),
    )
    await vi.advanceTimersByTimeAsync(2_999)
    expect(seen).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(result.value).toBe(30)
    expect(seen).toEqual([
      { attempt: 1, previous: undefined, elapsed: 3_000 },
      { attempt: 2, previous: 10, elapsed: 4_000 },
      { attempt: 3, previous: 20, elapsed: 5_000 },
    ])
  })

  it('never calls the check inside poll() itself', () => {
    useFakeTime()
    const check = vi.fn(() => true)
    const pending = poll(check)
    expect(check).not.toHaveBeenCalled()
    return vi.advanceTimersByTimeAsync(0).then(async () => {
      expect(await pending).toBe(true)
      expect(check).toHaveBeenCalledTimes(1)
    })
  })
})
