import diagnostics from 'node:diagnostics_channel'
import { describe, expect, it, vi } from 'vitest'
import { asyncTracer, eventChannel } from '../src/index'

describe('eventChannel', () => {
  it('does not build a message without subscribers', () => {
    const channel = eventChannel<{ n: number }>('hotpath:core:test-lazy')
    const build = vi.fn(() => ({ n: 1 }))
    channel.publishLazy(build)
    expect(build).not.toHaveBeenCalled()
    expect(channel.active).toBe(false)
  })

  it('delivers to subscribers and stops after unsubscribe', () => {
    const channel = eventChannel<{ n: number }>('hotpath:core:test-deliver')
    const seen: number[] = []
    const off = channel.subscribe((m) => seen.push(m.n))
    expect(channel.active).toBe(true)
    channel.publish({ n: 1 })
    channel.publishLazy(() => ({ n: 2 }))
    off()
    channel.publish({ n: 3 })
    expect(seen).toEqual([1, 2])
    expect(channel.active).toBe(false)
  })

  it('is the same channel node:diagnostics_channel users subscribe to', () => {
    const channel = eventChannel<string>('hotpath:core:test-native')
    const seen: unknown[] = []
    const listener = (m: unknown) => seen.push(m)
    diagnostics.subscribe('hotpath:core:test-native', listener)
    channel.publish('hello')
    diagnostics.unsubscribe('hotpath:core:test-native', listener)
    expect(seen).toEqual(['hello'])
  })

  it('refuses names outside hotpath:<package>:<event>', () => {
    expect(() => eventChannel('cache:hit')).toThrow(
      "Expected `name` to be a channel name like 'hotpath:<package>:<event>'",
    )
  })
})

describe('asyncTracer', () => {
  it('runs the function without building context when nobody listens', async () => {
    const tracer = asyncTracer<{ key: string }>('hotpath:core:test-op')
    const context = vi.fn(() => ({ key: 'a' }))
    await expect(tracer.trace(async () => 5, context)).resolves.toBe(5)
    expect(context).not.toHaveBeenCalled()
  })

  it('publishes start and asyncEnd with the context when subscribed', async () => {
    const tracer = asyncTracer<{ key: string; result?: unknown }>('hotpath:core:test-traced')
    const events: string[] = []
    const handlers = {
      start: (ctx: { key: string }) => events.push(`start:${ctx.key}`),
      end: () => events.push('end'),
      asyncStart: () => events.push('asyncStart'),
      asyncEnd: (ctx: { result?: unknown }) => events.push(`asyncEnd:${String(ctx.result)}`),
      error: () => events.push('error'),
    }
    expect(tracer.active).toBe(false)
    tracer.channel.subscribe(handlers)
    expect(tracer.active).toBe(true)
    await tracer.trace(
      async () => 7,
      () => ({ key: 'k' }),
    )
    tracer.channel.unsubscribe(handlers)
    expect(tracer.active).toBe(false)
    expect(events).toContain('start:k')
    expect(events).toContain('asyncEnd:7')
  })
})
