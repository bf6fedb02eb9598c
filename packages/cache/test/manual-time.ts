import type { Clock, TimerProvider } from '@hotpath/core'

/** A clock and timer provider moved by hand: hotpath's time stands still between `advance()` calls. */
export function manualTime() {
  let now = 0
  let nextId = 0
  const pending = new Map<number, { at: number; callback: () => void }>()
  const clock: Clock = { now: () => 1_700_000_000_000 + now, monotonic: () => now }
  const timers: TimerProvider = {
    setTimeout(callback, delay) {
      const id = ++nextId
      pending.set(id, { at: now + delay, callback })
      return { id, ref() {}, unref() {} }
    },
    clearTimeout(handle) {
      pending.delete((handle as { id: number }).id)
    },
  }
  return {
    clock,
    timers,
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

/** Lets promise callbacks and the cache's microtask batches run (real time, a few event-loop turns). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}
