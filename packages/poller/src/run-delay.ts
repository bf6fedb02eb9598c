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
 * Whether the pause before the next check is the fixed delay resolved up front: a fixed interval,
 * no `retryAfter` hint, no stall back-off.
 */
export function usesFixedDelay<T>(
  o: ResolvedPollOptions<T>,
  fixedDelay: number,
  x: PollExtras<T> | undefined,
): boolean {
  if (fixedDelay < 0) return false
  return x === undefined || (x.hint === 0 && (o.stall === undefined || x.stalled < o.stall.after))
}

/**
 * The pause before the next check: the phase's interval, the `interval` function's answer
 * (`given`), or the fixed interval; then the stall back-off, then {@link boundDelay} with the
 * check's `retryAfter` hint.
 */
export function nextDelay<T>(
  o: ResolvedPollOptions<T>,
  fixedDelay: number,
  x: PollExtras<T> | undefined,
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
  return boundDelay(rule, x?.hint ?? 0, delay)
}
