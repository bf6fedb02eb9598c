import type { Clock, TimerProvider } from '../src/index'

/** A clock and timer provider driven by hand: time moves only in `advance()`. */
export function manualTime() {
  let now = 0
  let nextId = 0
  const pending = new Map<number, { at: number; callback: () => void; ref: boolean }>()
  const clock: Clock = { now: () => now, monotonic: () => now }
  const timers: TimerProvider = {
    setTimeout(callback, delay) {
      const id = ++nextId
      const timer = { at: now + delay, callback, ref: true }
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
  }
  return {
    clock,
    timers,
    pending,
    get now() {
      return now
    },
    /** Moves time forward by `ms`, running each timer at its due time. */
    advance(ms: number) {
      const end = now + ms
      for (;;) {
        let next: [number, { at: number; callback: () => void }] | undefined
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
