import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { phases, poll } from '../src/index'
import { now, settleOf, useFakeTime } from './helpers'

afterEach(() => {
  vi.useRealTimers()
})

/** The phased schedule's rules, written out plainly: the delay after each check of `script`. */
function expectedGaps(script: number[], after: number, backoff: number, max: number): number[] {
  const gaps: number[] = []
  let stalled = 0
  for (let i = 0; i < script.length - 1; i++) {
    const progress = script[i]!
    if (i > 0 && progress === script[i - 1]) stalled++
    else stalled = 0
    let delay = progress < 30 ? 5_000 : progress < 70 ? 3_000 : 2_000
    if (stalled >= after) delay *= backoff ** (stalled - after + 1)
    gaps.push(Math.ceil(Math.min(delay, max) - 1e-7))
  }
  return gaps
}

describe('schedule (property)', () => {
  it('spaces checks exactly as the phase / stall / cap rules say, for any progress sequence', async () => {
    useFakeTime()
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(0, 10, 29, 30, 50, 69, 70, 95), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(1, 1.5, 2),
        fc.constantFrom(4_000, 10_000, 60_000),
        async (script, after, backoff, max) => {
          const times: number[] = []
          const result = settleOf(
            poll(
              ({ attempt }) => {
                times.push(now())
                return { percent: script[attempt - 1]!, done: attempt === script.length }
              },
              {
                isDone: (s) => s.done,
                progress: (s) => s.percent,
                interval: phases([{ until: 30, every: '5s' }, { until: 70, every: '3s' }, { every: '2s' }]),
                stall: { after, backoff },
                maxInterval: max,
              },
            ),
          )
          await vi.advanceTimersByTimeAsync(script.length * 60_000)
          expect(result.settled).toBe(true)
          expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(
            expectedGaps(script, after, backoff, max),
          )
          expect(vi.getTimerCount()).toBe(0)
        },
      ),
      { numRuns: 80 },
    )
  })
})
