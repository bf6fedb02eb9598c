/** The largest event-loop delay seen since {@link watchLoopLag} started. */
export interface LoopLag {
  /** Largest delay, in ms, of a 10 ms interval timer beyond its due time. */
  readonly max: number
  /** Stops watching. */
  stop(): void
}

/**
 * Watches the event loop's lag while a load test runs, so time bounds can allow for a late
 * timer: on a loaded machine that is the machine's doing, not the code under test's.
 *
 * @example
 * const lag = watchLoopLag()
 * await runLoad()
 * lag.stop()
 * expect(slowestCall).toBeLessThan(timeout + 150 + lag.max)
 */
export function watchLoopLag(): LoopLag {
  let max = 0
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    max = Math.max(max, Math.round(now - last - 10))
    last = now
  }, 10)
  return {
    get max() {
      return max
    },
    stop: () => clearInterval(timer),
  }
}
