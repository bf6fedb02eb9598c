import { describe, expectTypeOf, it } from 'vitest'
import {
  defineLimiter,
  every,
  getLimiter,
  type Job,
  type JobContext,
  type JobStats,
  type PhaseSchedule,
  type PollContext,
  type PollerStats,
  type PollInfo,
  type PollLimiter,
  type PollUpdate,
  type PollWatch,
  phases,
  poll,
  pollerStats,
  watch,
} from '../src/index'

interface Build {
  status: 'queued' | 'running' | 'done' | 'failed'
  percent: number
}
declare const fetchBuild: (signal: AbortSignal) => Promise<Build>

describe('poll<T>', () => {
  it('resolves with the checked state', () => {
    const build = poll((ctx) => fetchBuild(ctx.signal), { isDone: (b) => b.status === 'done' })
    expectTypeOf(build).toEqualTypeOf<Promise<Build>>()
    expectTypeOf(poll(() => 1)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(poll(async () => (Math.random() > 0.5 ? 'ok' : undefined))).toEqualTypeOf<
      Promise<'ok' | undefined>
    >()
  })

  it('options see the state type', () => {
    void poll((ctx) => fetchBuild(ctx.signal), {
      isDone: (b) => {
        expectTypeOf(b).toEqualTypeOf<Build>()
        return b.status === 'done'
      },
      isFailed: (b) => b.status === 'failed',
      progress: (b) => b.percent,
      interval: (info) => {
        expectTypeOf(info).toEqualTypeOf<PollInfo<Build>>()
        return info.attempt > 3 ? '5s' : 500
      },
      stall: { after: 5, onStall: (info) => expectTypeOf(info.state).toEqualTypeOf<Build>() },
      onProgress: (info) => expectTypeOf(info.state).toEqualTypeOf<Build>(),
      retry: { retries: 3, delay: '1s', shouldRetry: (_error, failures) => failures < 3 },
      deadline: '10m',
    })
  })

  it('the check context', () => {
    void poll((ctx) => {
      expectTypeOf(ctx).toEqualTypeOf<PollContext>()
      expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>()
      expectTypeOf(ctx.attempt).toEqualTypeOf<number>()
      // The previous state is not typed by the check (PollContext is not generic).
      expectTypeOf(ctx.previous).toEqualTypeOf<unknown>()
      return 1
    })
  })

  it('refuses ill-typed options', () => {
    // @ts-expect-error isDone sees the state type
    void poll(() => fetchBuild(new AbortController().signal), { isDone: (b: string) => b === 'done' })
    // @ts-expect-error misspelled option
    void poll(() => 1, { intervall: 100 })
    // @ts-expect-error a duration, a phase schedule or a function
    void poll(() => 1, { interval: 'often' })
    // @ts-expect-error `retry` takes a number, options or false
    void poll(() => 1, { retry: true })
  })
})

describe('watch<T>', () => {
  it('streams typed updates', async () => {
    const updates = watch((ctx) => fetchBuild(ctx.signal), { isDone: (b) => b.status === 'done' })
    expectTypeOf(updates).toEqualTypeOf<PollWatch<Build>>()
    for await (const update of updates) {
      expectTypeOf(update).toEqualTypeOf<PollUpdate<Build>>()
      expectTypeOf(update.state).toEqualTypeOf<Build>()
      expectTypeOf(update.done).toEqualTypeOf<boolean>()
    }
    expectTypeOf(updates.return()).toEqualTypeOf<Promise<IteratorResult<PollUpdate<Build>, undefined>>>()
    expectTypeOf(updates).toExtend<AsyncDisposable>()
  })
})

describe('every', () => {
  it('returns a job', () => {
    const job = every(
      '30s',
      (ctx) => {
        expectTypeOf(ctx).toEqualTypeOf<JobContext>()
        return undefined
      },
      { name: 'refresh', runOnStart: true, jitter: 0.1 },
    )
    expectTypeOf(job).toEqualTypeOf<Job>()
    expectTypeOf(job.trigger()).toEqualTypeOf<Promise<void>>()
    expectTypeOf(job.stats()).toEqualTypeOf<JobStats>()
    // @ts-expect-error a duration
    void every('every 30s', () => {})
    // @ts-expect-error misspelled option
    void every('30s', () => {}, { runOnStartup: true })
  })
})

describe('limiters, phases, stats', () => {
  it('are typed', () => {
    expectTypeOf(defineLimiter('github', { maxConcurrent: 2 })).toEqualTypeOf<PollLimiter>()
    expectTypeOf(getLimiter('github')).toEqualTypeOf<PollLimiter | undefined>()
    expectTypeOf(phases([{ until: 10, every: '1s' }, { every: '10s' }])).toEqualTypeOf<PhaseSchedule>()
    expectTypeOf(pollerStats()).toEqualTypeOf<PollerStats>()
    void poll(() => 1, { interval: phases([{ every: '1s' }]), limiter: 'github' })
    // @ts-expect-error the name is the first argument
    void defineLimiter('github', { name: 'other' })
    // @ts-expect-error a phase needs `every`
    void phases([{ until: 10 }])
  })
})
