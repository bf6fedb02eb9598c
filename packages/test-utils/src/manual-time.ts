/** A timer armed on a {@link ManualTime}: due at `at` on its clock, ref'd or not. */
export interface ManualTimer {
  at: number
  callback: () => void
  ref: boolean
}

/**
 * A clock and a timer provider moved by hand, for hotpath's `setClock`/`setTimers` (or a
 * `TimerService` of its own): time stands still between {@link ManualTime.advance} calls, and
 * each timer runs at its due time as time passes it.
 *
 * @example
 * const time = manualTime()
 * setClock(time.clock)
 * setTimers(time.timers)
 * time.advance(1_000) // runs every timer due within the next second, in due order
 */
export interface ManualTime {
  /** `now()` is `wallStart` + the time advanced so far; `monotonic()` is the time advanced. */
  readonly clock: { now(): number; monotonic(): number }
  readonly timers: {
    setTimeout(callback: () => void, delay: number): unknown
    clearTimeout(handle: unknown): void
  }
  /** Timers armed and not yet run or cleared, by id. */
  readonly pending: Map<number, ManualTimer>
  /** The monotonic time: milliseconds advanced so far. */
  readonly now: number
  /** Moves time forward by `ms`, running each timer due on the way at its due time. */
  advance(ms: number): void
}

/**
 * Creates a {@link ManualTime} starting at 0, its wall clock at `wallStart`.
 *
 * @example
 * const time = manualTime({ wallStart: 1_700_000_000_000 }) // Date-like wall clock readings
 */
export function manualTime(options: { wallStart?: number } = {}): ManualTime {
  const wallStart = options.wallStart ?? 0
  let now = 0
  let nextId = 0
  const pending = new Map<number, ManualTimer>()
  return {
    clock: { now: () => wallStart + now, monotonic: () => now },
    timers: {
      setTimeout(callback, delay) {
        const id = ++nextId
        const timer: ManualTimer = { at: now + delay, callback, ref: true }
        pending.set(id, timer)
        return {
          id,
          ref: () => {
            timer.ref = true
          },
          unref: () => {
            timer.ref = false
          },
        }
      },
      clearTimeout(handle) {
        pending.delete((handle as { id: number }).id)
      },
    },
    pending,
    get now() {
      return now
    },
    advance(ms: number) {
      const end = now + ms
      for (;;) {
        let next: [number, ManualTimer] | undefined
        for (const item of pending) if (next === undefined || item[1].at < next[1].at) next = item
        if (next === undefined || next[1].at > end) break
        pending.delete(next[0])
        now = Math.max(now, next[1].at)
        next[1].callback()
      }
      now = end
    },
  }
}
