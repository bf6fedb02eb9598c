import { getClock, Summary } from '@hotpath/core'

/** @internal A pool's counters and summaries (plain fields: the hot path writes them directly). */
export class PoolCounters {
  created = 0
  destroyed = 0
  destroyErrors = 0
  destroyTimeouts = 0
  acquired = 0
  reused = 0
  timeouts = 0
  aborted = 0
  rejected = 0
  createErrors = 0
  validationFailures = 0
  leaks = 0
  readonly wait = new Summary()
  readonly hold = new Summary()
  readonly createTime = new Summary()
  /** Start of the advice window (monotonic ms). */
  windowStart = getClock().monotonic()
  windowRequested = 0
  windowTimeouts = 0
  windowHoldSum = 0
  windowHoldCount = 0
  windowWaitSum = 0
  windowWaitCount = 0

  /** Starts a new advice window. */
  resetWindow(now: number): void {
    this.windowStart = now
    this.windowRequested = 0
    this.windowTimeouts = 0
    this.windowHoldSum = 0
    this.windowHoldCount = 0
    this.windowWaitSum = 0
    this.windowWaitCount = 0
  }
}
