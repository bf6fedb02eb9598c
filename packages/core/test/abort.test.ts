import { getEventListeners } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  AbortedError,
  abortable,
  abortReason,
  deadlineSignal,
  onAbort,
  sleep,
  TimeoutError,
  throwIfAborted,
  withTimeout,
} from '../src/index'

afterEach(() => {
  vi.useRealTimers()
})

const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length

describe('abortable', () => {
  it('settles like the promise and removes its listener', async () => {
    const controller = new AbortController()
    await expect(abortable(Promise.resolve(1), controller.signal)).resolves.toBe(1)
    await expect(abortable(Promise.reject(new Error('boom')), controller.signal)).rejects.toThrow('boom')
    expect(listeners(controller.signal)).toBe(0)
  })

  it('rejects with the abort reason as soon as the signal aborts', async () => {
    const controller = new AbortController()
    const pending = abortable(new Promise(() => {}), controller.signal)
    expect(listeners(controller.signal)).toBe(1)
    const reason = new Error('user left')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    expect(listeners(controller.signal)).toBe(0)
  })

  it('rejects at once on an aborted signal, wrapping a non-Error reason', async () => {
    const controller = new AbortController()
    controller.abort('nope')
    const error = await abortable(Promise.resolve(1), controller.signal).catch((e) => e)
    expect(error).toBeInstanceOf(AbortedError)
    expect(error.cause).toBe('nope')
  })

  it('leaves no listener after 10,000 waits on one signal', async () => {
    const controller = new AbortController()
    await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => abortable(Promise.resolve(i), controller.signal)),
    )
    expect(listeners(controller.signal)).toBe(0)
  })
})

describe('deadlineSignal', () => {
  it('aborts with a TimeoutError when the time runs out', () => {
    vi.useFakeTimers()
    const deadline = deadlineSignal({ timeout: 100 })
    vi.advanceTimersByTime(100)
    expect(deadline.signal.aborted).toBe(true)
    expect(deadline.signal.reason).toBeInstanceOf(TimeoutError)
  })

  it('follows the parent signal and cleans up on every path', () => {
    vi.useFakeTimers()
    const parent = new AbortController()
    const first = deadlineSignal({ timeout: 1_000, signal: parent.signal })
    expect(listeners(parent.signal)).toBe(1)
    first.clear()
    expect(listeners(parent.signal)).toBe(0)
    expect(vi.getTimerCount()).toBe(0)

    const second = deadlineSignal({ timeout: 1_000, signal: parent.signal })
    parent.abort(new Error('gone'))
    expect(second.signal.aborted).toBe(true)
    expect((second.signal.reason as Error).message).toBe('gone')
    expect(listeners(parent.signal)).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('removes the parent listener when the timeout fires', () => {
    vi.useFakeTimers()
    const parent = new AbortController()
    const deadline = deadlineSignal({
      timeout: 10,
      signal: parent.signal,
      timeoutError: () => new Error('custom'),
    })
    vi.advanceTimersByTime(10)
    expect((deadline.signal.reason as Error).message).toBe('custom')
    expect(listeners(parent.signal)).toBe(0)
  })

  it('is aborted at once when the parent already is', () => {
    const parent = new AbortController()
    parent.abort('x')
    expect(deadlineSignal({ timeout: 10, signal: parent.signal }).signal.aborted).toBe(true)
  })
})

describe('withTimeout and sleep', () => {
  it('rejects with TimeoutError after the timeout', async () => {
    vi.useFakeTimers()
    const pending = withTimeout(new Promise(() => {}), { timeout: 50 })
    vi.advanceTimersByTime(50)
    await expect(pending).rejects.toBeInstanceOf(TimeoutError)
  })

  it('resolves before the timeout and leaves no timer', async () => {
    vi.useFakeTimers()
    await expect(withTimeout(Promise.resolve('ok'), { timeout: 50 })).resolves.toBe('ok')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('sleep resolves after the delay and rejects on abort without leftovers', async () => {
    vi.useFakeTimers()
    const done = vi.fn()
    const sleeping = sleep(100).then(done)
    await vi.advanceTimersByTimeAsync(100)
    await sleeping
    expect(done).toHaveBeenCalled()

    const controller = new AbortController()
    const aborted = sleep(1_000, { signal: controller.signal })
    controller.abort(new Error('stop'))
    await expect(aborted).rejects.toThrow('stop')
    expect(vi.getTimerCount()).toBe(0)
    expect(listeners(controller.signal)).toBe(0)
  })

  it('throwIfAborted and onAbort', async () => {
    const controller = new AbortController()
    expect(() => throwIfAborted(controller.signal)).not.toThrow()
    const seen = vi.fn()
    const off = onAbort(controller.signal, seen)
    off()
    controller.abort(new Error('late'))
    expect(seen).not.toHaveBeenCalled()
    expect(() => throwIfAborted(controller.signal)).toThrow('late')
    const again = vi.fn()
    onAbort(controller.signal, again)
    await Promise.resolve()
    expect(again).toHaveBeenCalledTimes(1)
  })
})

describe('argument checks: a bad argument throws a TypeError at once, naming it', () => {
  const message = (fn: () => unknown) => {
    try {
      fn()
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError)
      return (error as Error).message
    }
    throw new Error('expected a TypeError')
  }
  const never = new Promise(() => {})

  it('sleep checks its duration, its signal and its option names', async () => {
    expect(message(() => sleep('x' as never))).toBe(
      "Expected `ms` to be a duration (milliseconds >= 0, or a string like '250ms', '30s', '5m', '1h', '7d'), got `'x'` (string)",
    )
    expect(message(() => sleep(-1))).toMatch(/^Expected `ms` to be a duration .*, got `-1` \(number\)$/)
    expect(message(() => sleep(1, { signal: 1 as never }))).toBe(
      'Expected `signal` to be an AbortSignal, got `1` (number)',
    )
    expect(message(() => sleep(1, { sigal: new AbortController().signal } as never))).toBe(
      'Expected `sigal` to be a known option of sleep() (did you mean `signal`?), got `[AbortSignal]` (object)',
    )
    expect(message(() => sleep(1, 5 as never))).toBe(
      'Expected `options` to be an options object, got `5` (number)',
    )
    vi.useFakeTimers()
    const done = vi.fn()
    const sleeping = sleep('2s').then(done)
    await vi.advanceTimersByTimeAsync(1_999)
    expect(done).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    await sleeping
    expect(done).toHaveBeenCalledOnce()
  })

  it('withTimeout checks its promise, its timeout, its signal and its option names', async () => {
    expect(message(() => withTimeout(never, { timeout: 'soon' as never }))).toMatch(
      /^Expected `timeout` to be a duration \(.*\) or Infinity, got `'soon'` \(string\)$/,
    )
    expect(message(() => withTimeout(never, { timeout: -1 }))).toMatch(/got `-1` \(number\)$/)
    expect(message(() => withTimeout(never, { timout: 5 } as never))).toBe(
      'Expected `timout` to be a known option of withTimeout() (did you mean `timeout`?), got `5` (number)',
    )
    expect(message(() => withTimeout(never, { signal: {} as never }))).toBe(
      'Expected `signal` to be an AbortSignal, got `[object]` (object)',
    )
    expect(message(() => withTimeout(never, { timeout: 5, timeoutError: 'slow' as never }))).toBe(
      "Expected `timeoutError` to be a function, got `'slow'` (string)",
    )
    expect(message(() => withTimeout((async () => 1) as never, { timeout: 5 }))).toBe(
      'Expected `promise` to be a promise (or another thenable), got `[Function]` (function)',
    )
    vi.useFakeTimers()
    const late = withTimeout(never, { timeout: '1s' })
    vi.advanceTimersByTime(1_000)
    const error = await late.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as TimeoutError).timeout).toBe(1_000)
    await expect(withTimeout(Promise.resolve(3), undefined as never)).resolves.toBe(3)
  })

  it('deadlineSignal checks its timeout, its signal and its option names', () => {
    expect(message(() => deadlineSignal({ timeout: -1 }))).toMatch(
      /^Expected `timeout` to be a duration .*, got `-1` \(number\)$/,
    )
    expect(message(() => deadlineSignal({ timeout: Number.NaN }))).toMatch(/got `NaN` \(number\)$/)
    expect(message(() => deadlineSignal({ timeOut: 5 } as never))).toBe(
      'Expected `timeOut` to be a known option of deadlineSignal() (did you mean `timeout`?), got `5` (number)',
    )
    expect(message(() => deadlineSignal({ signal: 'x' as never }))).toBe(
      "Expected `signal` to be an AbortSignal, got `'x'` (string)",
    )
    expect(message(() => deadlineSignal(null as never))).toBe(
      'Expected `options` to be an options object, got `null` (null)',
    )
    // Infinity and no timeout at all are both "never".
    expect(deadlineSignal({ timeout: Number.POSITIVE_INFINITY }).signal.aborted).toBe(false)
    expect(deadlineSignal({}).signal.aborted).toBe(false)
  })

  it('abortable, onAbort, abortReason and throwIfAborted check their arguments', () => {
    const signal = new AbortController().signal
    expect(message(() => abortable(42 as never, signal))).toBe(
      'Expected `promise` to be a promise (or another thenable), got `42` (number)',
    )
    expect(message(() => abortable(never, { aborted: true } as never))).toBe(
      'Expected `signal` to be an AbortSignal, got `[object]` (object)',
    )
    expect(message(() => onAbort(signal, 'cleanup' as never))).toBe(
      "Expected `listener` to be a function, got `'cleanup'` (string)",
    )
    expect(message(() => onAbort({} as never, () => {}))).toBe(
      'Expected `signal` to be an AbortSignal, got `[object]` (object)',
    )
    expect(message(() => abortReason(undefined as never))).toBe(
      'Expected `signal` to be an AbortSignal, got `undefined` (undefined)',
    )
    expect(message(() => throwIfAborted({ aborted: true } as never))).toBe(
      'Expected `signal` to be an AbortSignal, got `[object]` (object)',
    )
    expect(() => throwIfAborted(undefined)).not.toThrow()
  })
})
