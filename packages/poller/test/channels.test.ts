import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { every, poll } from '../src/index'
import { settleOf, useFakeTime } from './helpers'

afterEach(() => {
  vi.useRealTimers()
})

function listen(name: string) {
  const messages: unknown[] = []
  const listener = (message: unknown) => void messages.push(message)
  subscribe(name, listener)
  return { messages, off: () => unsubscribe(name, listener) }
}

describe('channels', () => {
  it('publishes check, progress, stall and settle events on hotpath:poller:*', async () => {
    useFakeTime()
    const check = listen('hotpath:poller:check')
    const progress = listen('hotpath:poller:progress')
    const stall = listen('hotpath:poller:stall')
    const settle = listen('hotpath:poller:settle')
    const script = [10, 10, 10, 50]
    const result = settleOf(
      poll(({ attempt }) => script[attempt - 1]!, {
        name: 'video',
        isDone: (p) => p === 50,
        progress: (p) => p,
        interval: 100,
        stall: { after: 2 },
      }),
    )
    await vi.advanceTimersByTimeAsync(10_000)
    for (const channel of [check, progress, stall, settle]) channel.off()
    expect(result.value).toBe(50)
    expect(check.messages).toHaveLength(4)
    expect(check.messages[0]).toMatchObject({ name: 'video', attempt: 1 })
    expect(progress.messages).toEqual([
      { name: 'video', attempt: 1, progress: 10, previous: undefined },
      { name: 'video', attempt: 4, progress: 50, previous: 10 },
    ])
    expect(stall.messages).toEqual([{ name: 'video', attempt: 3, stalled: 2, progress: 10 }])
    expect(settle.messages).toEqual([
      { name: 'video', outcome: 'done', attempts: 4, durationMs: 350, error: undefined }, // 100 + 100 + 150 (stretched)
    ])
  })

  it('publishes progress for a plain fixed-interval poll too, and calls isDone once per check', async () => {
    useFakeTime()
    const progress = listen('hotpath:poller:progress')
    const script = [10, 10, 30, 50]
    const seen: number[] = []
    const result = settleOf(
      poll(({ attempt }) => script[attempt - 1]!, {
        name: 'plain',
        isDone: (p) => {
          seen.push(p)
          return p === 50
        },
        interval: 100,
      }),
    )
    await vi.advanceTimersByTimeAsync(1_000)
    progress.off()
    expect(result.value).toBe(50)
    expect(seen).toEqual([10, 10, 30, 50])
    expect(progress.messages).toEqual([
      { name: 'plain', attempt: 1, progress: 10, previous: undefined },
      { name: 'plain', attempt: 3, progress: 30, previous: 10 },
      { name: 'plain', attempt: 4, progress: 50, previous: 30 },
    ])
  })

  it('runs no check when a hotpath:poller:check subscriber ends the poll first', async () => {
    useFakeTime()
    const controller = new AbortController()
    const checks = vi.fn(() => false)
    const stopper = (message: unknown) => {
      if ((message as { attempt: number }).attempt === 3) controller.abort()
    }
    subscribe('hotpath:poller:check', stopper)
    const result = settleOf(poll(checks, { interval: 10, signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(1_000)
    unsubscribe('hotpath:poller:check', stopper)
    expect((result.error as Error | undefined)?.name).toBe('PollAbortedError')
    expect(checks).toHaveBeenCalledTimes(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('publishes each job run on hotpath:poller:job', async () => {
    useFakeTime()
    const runs = listen('hotpath:poller:job')
    const boom = new Error('refresh failed')
    let calls = 0
    const job = every(
      '1s',
      () => {
        if (++calls === 2) throw boom
      },
      { name: 'tokens', backoff: false },
    )
    await vi.advanceTimersByTimeAsync(2_000)
    await job.stop()
    runs.off()
    expect(runs.messages).toEqual([
      { name: 'tokens', run: 1, durationMs: 0, error: undefined },
      { name: 'tokens', run: 2, durationMs: 0, error: boom },
    ])
  })
})
