// How long a poll waits before its next check.
import { type Duration, parseDuration } from '@hotpath/core'
import { type DelayRule, delayRule, type ResolvedPollOptions } from './rules'
import type { PollExtras } from './run-state'

/** Clamps to [minInterval, maxInterval], applies jitter, then the `retryAfter` hint. */
export function boundDelay<T>(rule: DelayRule<T>, hint: number, delay: number): number {
  const { minInterval: min, maxInterval: max, jitter } = rule
  if (delay < min) delay = min
  else if (delay > max) delay = max
  if (jitter > 0) {
    delay *= 1 + jitter * (2 * Math.random() - 1)
    if (delay < min) delay = min
    else if (delay > max) delay = max
  }
  if (hint > delay) delay = Math.min(hint, max)
  return delay
}

/**
 * The pause before the next check: the phase's interval, the `interval` function's answer
 * (`given`), or the fixed interval; then the stall back-off, then {@link boundDelay}.
 */
export function nextDelay<T>(
  o: ResolvedPollOptions<T>,
  fixedDelay: number,
  x: PollExtras<T> | undefined,
  hint: number,
  given: Duration | undefined,
): number {
  const rule = delayRule(o, fixedDelay)
  let delay: number
  if (rule.phases !== undefined) delay = rule.phases.intervalFor(x?.progress)
  else if (rule.intervalFn !== undefined) delay = parseDuration(given, 'interval')
  else delay = rule.intervalMs
  const stall = o.stall
  if (stall !== undefined && x !== undefined && x.stalled >= stall.after)
    delay *= stall.backoff ** (x.stalled - stall.after + 1)
  return boundDelay(rule, hint, delay)
}
