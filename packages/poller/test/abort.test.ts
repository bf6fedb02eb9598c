import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PollAbortedError, poll, pollerStats } from '../src/index'
import { abortListeners, settleOf, slow, useFakeTime } from './helpers'

afterEach(() => {
  vi.useRealTimers()
})

function job(durationMs: number) {
  const signals: AbortSignal[] = []
  const check = vi.fn(({ signal }: { signal: AbortSignal }) => {
    signals.push(signal)
    return slow(durationMs, false, signal)
  })
  return { check, signals }
}

const options = (signal: AbortSignal) => ({ signal, interval: '5s', deadline: '10m', retry: 3 }) as const

describe('abort', () => {
  it('before the first check: no check ever, no timer, no listener', async () => {
    useFakeTime()
    const controller = new AbortController()
    const { check } = job(100)
    const result = settleOf(poll(check, options(controller.signal)))
    controller.abort('bye')
    await vi.advanceTimersByTimeAsync(0)
    expect(result.error).toBeInstanceOf(PollAbortedError)
    expect((result.error as PollAbortedError).code).toBe('E_POLL_ABORTED')
    expect((result.error as PollAbortedError).cause).toBe('bye')
    await vi.advanceTimersByTimeAsync(3_600_000)
    expect(check).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListeners(controller.signal)).toBe(0)
  })

  it('with a signal aborted up front: rejects without a check or a listener', async () => {
    useFakeTime()
    const { check } = job(100)
    const signal = AbortSignal.abort(new Error('already'))
    const result = settleOf(poll(check, options(signal)))
    await vi.advanceTimersByTimeAsync(60_000)
    expect((result.error as PollAbortedError).cause).toEqual(new Error('already'))
    expect(check).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListeners(signal)).toBe(0)
  })

  it('during a check: rejects at once, aborts the check signal, no further check', async () => {
    useFakeTime()
    const controller = new AbortController()
    const { check, signals } = job(2_000)
    const result = settleOf(poll(check, options(controller.signal)))
    await vi.advanceTimersByTimeAsync(500)
    expect(check).toHaveBeenCalledTimes(1)
    const reason = new Error('user left')
    controller.abort(reason)
    await vi.advanceTimersByTimeAsync(0)
    expect(result.error).toBeInstanceOf(PollAbortedError)
    expect(result.at).toBe(500)
    expect(signals[0]!.aborted).toBe(true)
    expect(signals[0]!.reason).toBe(reason)
    await vi.advanceTimersByTimeAsync(3_600_000)
    expect(check).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListeners(controller.signal)).toBe(0)
    expect(abortListeners(signals[0]!)).toBe(0)
  })

  it('a check that looks at its signal only after the abort sees it aborted', async () => {
    useFakeTime()
    const controller = new AbortController()
    let late: AbortSignal | undefined
    const result = settleOf(
      poll(
        async (ctx) => {
          await new Promise((resolve) => setTimeout(resolve, 1_000))
          late = ctx.signal
          return false
        },
        { signal: controller.signal },
      ),
    )
    await vi.advanceTimersByTimeAsync(500)
    controller.abort('gone')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(result.error).toBeInstanceOf(PollAbortedError)
    expect(late?.aborted).toBe(true)
    expect(late?.reason).toBe('gone')
  })

  it('during a wait: rejects at once, no further check, no timer, no listener', async () => {
    useFakeTime()
    const controller = new AbortController()
    const { check } = job(100)
    const result = settleOf(poll(check, options(controller.signal)))
    await vi.advanceTimersByTimeAsync(2_000)
    expect(check).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(1) // the one shared timer
    controller.abort()
    await vi.advanceTimersByTimeAsync(0)
    expect(result.error).toBeInstanceOf(PollAbortedError)
    expect(result.at).toBe(2_000)
    await vi.advanceTimersByTimeAsync(3_600_000)
    expect(check).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListeners(controller.signal)).toBe(0)
  })

  it('during a retry wait after a failed check: same guarantees', async () => {
    useFakeTime()
    const controller = new AbortController()
    const check = vi.fn(() => Promise.reject(new Error('503')))
    const result = settleOf(
      poll(check, { ...options(controller.signal), retry: { retries: 5, delay: '1s' } }),
    )
    await vi.advanceTimersByTimeAsync(500)
    controller.abort()
    await vi.advanceTimersByTimeAsync(3_600_000)
    expect(result.error).toBeInstanceOf(PollAbortedError)
    expect(check).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListeners(controller.signal)).toBe(0)
  })

  it('at any moment (property): no check after the abort, nothing left behind', async () => {
    useFakeTime()
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 30_000 }),
        fc.integer({ min: 0, max: 8_000 }),
        fc.boolean(),
        async (abortAt, checkMs, failing) => {
          const controller = new AbortController()
          const calls: number[] = []
          const check = ({ signal }: { signal: AbortSignal }) => {
            calls.push(performance.now())
            const running = slow(checkMs, false, signal)
            return failing ? running.then(() => Promise.reject(new Error('flaky'))) : running
          }
          const active = pollerStats().active
          const result = settleOf(
            poll(check, { ...options(controller.signal), retry: { retries: 100, delay: '2s' } }),
          )
          await vi.advanceTimersByTimeAsync(abortAt)
          const abortedAt = performance.now()
          controller.abort()
          const callsAtAbort = calls.length
          await vi.advanceTimersByTimeAsync(3_600_000)
          expect(result.error).toBeInstanceOf(PollAbortedError)
          expect(result.at).toBe(abortedAt)
          expect(calls.length).toBe(callsAtAbort)
          expect(vi.getTimerCount()).toBe(0)
          expect(abortListeners(controller.signal)).toBe(0)
          expect(pollerStats().active).toBe(active)
          expect(pollerStats().checking).toBe(0)
        },
      ),
      { numRuns: 60 },
    )
  })
})
