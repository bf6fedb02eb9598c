import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { manualTime } from '@hotpath/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  coarseNow,
  getClock,
  getTimerService,
  MAX_TIMER_DELAY,
  schedule,
  setClock,
  setTimers,
} from '../src/index'

afterEach(() => {
  vi.useRealTimers()
  setClock()
  setTimers()
})

describe('clock', () => {
  it('reads the time at call time, so fake timers apply after import', () => {
    vi.useFakeTimers({ now: 1_000 })
    expect(getClock().now()).toBe(1_000)
    vi.advanceTimersByTime(500)
    expect(getClock().now()).toBe(1_500)
  })

  it('can be replaced and restored', () => {
    setClock({ now: () => 7, monotonic: () => 8 })
    expect(getClock().now()).toBe(7)
    expect(getClock().monotonic()).toBe(8)
    setClock()
    expect(getClock().now()).toBeGreaterThan(1_600_000_000_000)
  })
})

const run = promisify(execFile)

describe('coarseNow', () => {
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))
  const waitForTick = (since: number) => {
    while (Date.now() <= since) {}
  }

  it('holds one clock read for the rest of the loop turn', async () => {
    await nextTurn()
    const held = coarseNow()
    waitForTick(held)
    expect(coarseNow()).toBe(held)
    await nextTurn()
    expect(coarseNow()).toBeGreaterThan(held)
  })

  it('reads the clock again in an I/O callback after the loop waited for it', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/coarse-now-wait.ts', import.meta.url))
    const { stdout } = await run(
      process.execPath,
      ['--conditions=@hotpath/source', '--import', 'tsx', fixture],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        timeout: 20_000,
      },
    )
    expect(stdout.trim()).toBe('fresh')
  })

  it('reads the clock again after 64 calls in one turn', async () => {
    await nextTurn()
    const held = coarseNow()
    waitForTick(held)
    const seen = Array.from({ length: 64 }, () => coarseNow())
    expect(seen.slice(0, 63).every((now) => now === held)).toBe(true)
    expect(seen[63]).toBeGreaterThan(held)
  })

  it('reads a replaced clock or fake Date on every call', () => {
    let now = 5
    setClock({ now: () => now++, monotonic: () => 0 })
    expect([coarseNow(), coarseNow()]).toEqual([5, 6])
    setClock()
    vi.useFakeTimers({ now: 1_000 })
    expect(coarseNow()).toBe(1_000)
    vi.setSystemTime(9_000)
    expect(coarseNow()).toBe(9_000)
  })
})

describe('schedule', () => {
  it('fires after the delay', () => {
    vi.useFakeTimers()
    const fired = vi.fn()
    schedule(fired, 100)
    vi.advanceTimersByTime(99)
    expect(fired).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(fired).toHaveBeenCalledTimes(1)
  })

  it('handles delays above 2^31-1 ms instead of firing at once', () => {
    vi.useFakeTimers()
    const fired = vi.fn()
    const sixtyDays = 60 * 86_400_000
    const timer = schedule(fired, sixtyDays)
    vi.advanceTimersByTime(MAX_TIMER_DELAY)
    expect(fired).not.toHaveBeenCalled()
    expect(timer.active).toBe(true)
    vi.advanceTimersByTime(sixtyDays - MAX_TIMER_DELAY - 1)
    expect(fired).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(fired).toHaveBeenCalledTimes(1)
    expect(timer.active).toBe(false)
  })

  it('cancels, including mid-chain', () => {
    vi.useFakeTimers()
    const fired = vi.fn()
    const timer = schedule(fired, MAX_TIMER_DELAY * 3)
    vi.advanceTimersByTime(MAX_TIMER_DELAY + 10)
    timer.cancel()
    timer.cancel()
    vi.advanceTimersByTime(MAX_TIMER_DELAY * 3)
    expect(fired).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('goes through a replaced clock and timer provider, as one entry of the timer service', () => {
    const time = manualTime()
    setClock(time.clock)
    setTimers(time.timers)
    const fired = vi.fn()
    const timer = schedule(fired, 5)
    expect([...time.pending.values()].map((t) => t.at)).toEqual([5])
    expect(getTimerService().stats().pending).toBe(1)
    time.advance(4)
    expect(fired).not.toHaveBeenCalled()
    time.advance(1)
    expect(fired).toHaveBeenCalledTimes(1)
    expect(timer.active).toBe(false)
    expect(getTimerService().stats().pending).toBe(0)
    expect(time.pending.size).toBe(0)
  })

  it('never asks the provider for more than 2^31-1 ms, and Infinity never fires', () => {
    const time = manualTime()
    setClock(time.clock)
    setTimers(time.timers)
    const fired = vi.fn()
    const never = schedule(fired, Number.POSITIVE_INFINITY)
    for (let i = 0; i < 3; i++) {
      for (const t of time.pending.values()) expect(t.at - time.now).toBeLessThanOrEqual(MAX_TIMER_DELAY)
      time.advance(MAX_TIMER_DELAY)
    }
    expect(fired).not.toHaveBeenCalled()
    expect(never.active).toBe(true)
    never.cancel()
    expect(time.pending.size).toBe(0)
  })

  it('unref and ref reach the underlying timer, also after a long delay is re-armed', () => {
    const handles: NodeJS.Timeout[] = []
    setTimers({
      setTimeout: (callback, delay) => {
        const handle = globalThis.setTimeout(callback, delay)
        handles.push(handle)
        return handle
      },
      clearTimeout: (handle) => globalThis.clearTimeout(handle as NodeJS.Timeout),
    })
    const timer = schedule(() => {}, 10_000).unref()
    expect(handles[0]!.hasRef()).toBe(false)
    timer.ref()
    expect(handles[0]!.hasRef()).toBe(true)
    timer.cancel()
    expect(timer.active).toBe(false)
  })

  it('keeps a long timer unref-ed across its chained steps', () => {
    vi.useFakeTimers()
    const refs: boolean[] = []
    const timer = schedule(() => {}, MAX_TIMER_DELAY + 1_000).unref()
    const spy = vi.spyOn(globalThis, 'setTimeout')
    vi.advanceTimersByTime(MAX_TIMER_DELAY)
    const rearmed = spy.mock.results.at(-1)?.value as { hasRef?: () => boolean } | undefined
    refs.push(rearmed?.hasRef?.() ?? true)
    expect(refs).toEqual([false])
    expect(timer.active).toBe(true)
    timer.cancel()
  })
})
