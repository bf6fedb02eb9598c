import { afterEach, describe, expect, it, vi } from 'vitest'
import { PollAbortedError, PollFailedError, type PollUpdate, watch } from '../src/index'
import { abortListeners, slow, useFakeTime } from './helpers'

afterEach(() => {
  vi.useRealTimers()
})

async function collect<T>(iterable: AsyncIterable<PollUpdate<T>>, limit = Number.POSITIVE_INFINITY) {
  const updates: PollUpdate<T>[] = []
  for await (const update of iterable) {
    updates.push(update)
    if (updates.length >= limit) break
  }
  return updates
}

describe('watch', () => {
  it('yields every state and ends with the final one', async () => {
    useFakeTime()
    const script = [10, 40, 40, 100]
    const stream = watch(({ attempt }) => ({ percent: script[attempt - 1]! }), {
      isDone: (s) => s.percent === 100,
      progress: (s) => s.percent,
      interval: '1s',
    })
    const collected = collect(stream)
    await vi.advanceTimersByTimeAsync(10_000)
    const updates = await collected
    expect(updates.map((u) => [u.progress, u.attempt, u.stalled, u.done, u.elapsed])).toEqual([
      [10, 1, 0, false, 0],
      [40, 2, 0, false, 1_000],
      [40, 3, 1, false, 2_000],
      [100, 4, 0, true, 3_000],
    ])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('does not start polling before the first next()', async () => {
    useFakeTime()
    const check = vi.fn(() => 1)
    const stream = watch(check, { interval: 10 })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(check).not.toHaveBeenCalled()
    await stream.return()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('breaking out stops polling: no further check, the check in flight is aborted', async () => {
    useFakeTime()
    const signals: AbortSignal[] = []
    const check = vi.fn(({ signal }: { signal: AbortSignal }) => {
      signals.push(signal)
      return slow(100, 0, signal)
    })
    const collected = collect(watch(check, { isDone: () => false, interval: '1s' }), 2)
    await vi.advanceTimersByTimeAsync(1_200)
    expect(await collected).toHaveLength(2)
    expect(check).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(check).toHaveBeenCalledTimes(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('leaving while a check runs aborts that check', async () => {
    useFakeTime()
    const signals: AbortSignal[] = []
    const stream = watch(
      ({ signal }) => {
        signals.push(signal)
        return slow(5_000, 0, signal)
      },
      { isDone: () => false },
    )
    const pending = stream.next()
    await vi.advanceTimersByTimeAsync(1_000)
    await stream.return()
    expect(await pending).toEqual({ value: undefined, done: true })
    expect(signals[0]!.aborted).toBe(true)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(signals).toHaveLength(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a slow reader delays the next check instead of queueing states', async () => {
    useFakeTime()
    const check = vi.fn(({ attempt }: { attempt: number }) => attempt)
    const stream = watch(check, { isDone: () => false, interval: '1s' })
    expect((await next(stream)).attempt).toBe(1)
    await vi.advanceTimersByTimeAsync(30_000) // nobody reads: one update is held, polling pauses
    expect(check).toHaveBeenCalledTimes(2)
    expect((await next(stream)).attempt).toBe(2)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(check).toHaveBeenCalledTimes(3)
    await stream.return()
  })

  it('throws PollFailedError from the loop when isFailed', async () => {
    useFakeTime()
    const stream = watch(({ attempt }): string => (attempt === 2 ? 'error' : 'running'), {
      isDone: (s) => s === 'done',
      isFailed: (s) => s === 'error',
      interval: 10,
    })
    const collected = collect(stream).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(1_000)
    const error = await collected
    expect(error).toBeInstanceOf(PollFailedError)
    expect((error as PollFailedError).state).toBe('error')
  })

  it('throws PollAbortedError when its signal aborts, and leaves no listener', async () => {
    useFakeTime()
    const controller = new AbortController()
    const stream = watch(() => 1, { isDone: () => false, interval: '1s', signal: controller.signal })
    const collected = collect(stream).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(2_500)
    controller.abort()
    await vi.advanceTimersByTimeAsync(0)
    expect(await collected).toBeInstanceOf(PollAbortedError)
    expect(abortListeners(controller.signal)).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('works with await using', async () => {
    useFakeTime()
    const check = vi.fn(() => 1)
    {
      await using stream = watch(check, { isDone: () => false, interval: 10 })
      const first = stream.next()
      await vi.advanceTimersByTimeAsync(0)
      expect((await first).value?.state).toBe(1)
    }
    await vi.advanceTimersByTimeAsync(1_000)
    expect(check).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
  })
})

async function next<T>(stream: AsyncIterator<PollUpdate<T>>): Promise<PollUpdate<T>> {
  const pending = stream.next()
  await vi.advanceTimersByTimeAsync(0)
  const result = await pending
  if (result.done) throw new Error('stream ended')
  return result.value
}
