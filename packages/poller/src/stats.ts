import {
  describeMetrics,
  getTimerService,
  type MetricsSource,
  metricsSource,
  type TimerServiceStats,
} from '@hotpath/core'
import type { PollOutcome } from './channels'
import { namedLimiterStats, type PollLimiterStats } from './limiter'

/**
 * A snapshot of the timer service pollers and jobs run on (see `getTimerService()` in
 * `@hotpath/core`).
 *
 * @example
 * const { pending, wakeups }: SchedulerStats = pollerStats().scheduler
 */
export type SchedulerStats = TimerServiceStats

/** @internal process-wide counters, updated by every poll */
export const counters = {
  started: 0,
  active: 0,
  checking: 0,
  checks: 0,
  checkErrors: 0,
  settled: { done: 0, failed: 0, timeout: 0, stalled: 0, aborted: 0, error: 0, stopped: 0 } as Record<
    PollOutcome,
    number
  >,
  jobs: 0,
}

/**
 * A plain snapshot of every poller in the process.
 *
 * @example
 * const stats: PollerStats = pollerStats()
 * stats.settled.timeout
 */
export interface PollerStats {
  /** Polls started so far (`poll()` and `watch()`). */
  started: number
  /** Polls not settled yet. */
  active: number
  /** Checks in flight now: checks that returned a promise not settled yet. */
  checking: number
  /** Checks started so far. */
  checks: number
  /** Checks that threw. */
  checkErrors: number
  /** Settled polls by outcome. */
  settled: Record<PollOutcome, number>
  /** `every()` jobs not stopped. */
  jobs: number
  /**
   * The process-wide timer service of `@hotpath/core` that pollers and jobs run on (shared with
   * the other hotpath packages' deadlines).
   */
  scheduler: SchedulerStats
  /** Limiters created with `defineLimiter`. */
  limiters: PollLimiterStats[]
}

/**
 * Counters of every poller and job in the process, plus the shared timer service they run on.
 *
 * @example
 * const { active, checking, scheduler } = pollerStats()
 * console.log(`${active} polls, ${checking} checks in flight, ${scheduler.wakeups} wake-ups`)
 */
export function pollerStats(): PollerStats {
  return {
    started: counters.started,
    active: counters.active,
    checking: counters.checking,
    checks: counters.checks,
    checkErrors: counters.checkErrors,
    settled: { ...counters.settled },
    jobs: counters.jobs,
    scheduler: getTimerService().stats(),
    limiters: namedLimiterStats(),
  }
}

/**
 * The process-wide poller counters as a source for `collect()` from @hotpath/metrics
 * (`hotpath_poller_*` metrics).
 *
 * @example
 * registry.collect(pollerMetrics)
 */
export const pollerMetrics: MetricsSource = { [metricsSource]: describeMetrics('poller', pollerStats) }
