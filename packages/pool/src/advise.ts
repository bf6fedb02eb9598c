/**
 * The sizing advice of `pool.advise()`, with the figures it used.
 *
 * @example
 * const { suggestedMax, summary } = pool.advise({ reset: true })
 */
export interface PoolAdvice {
  /** Suggested `max`: ceil(arrival rate × mean hold time × headroom), at least `min` and 1. */
  suggestedMax: number
  /** The current `max`. */
  currentMax: number
  /** Acquires requested per second over the window (served, timed out and aborted). */
  arrivalRate: number
  /** Mean time a lease was held, in milliseconds. */
  meanHoldMs: number
  /** p99 of the hold time, in milliseconds. */
  p99HoldMs: number
  /** Mean time an acquire waited, in milliseconds. */
  meanWaitMs: number
  /** Little's law: resources busy on average = arrival rate × mean hold time. */
  meanBusy: number
  /** Multiplier applied on top of the mean for bursts. */
  headroom: number
  /** Acquires that timed out in the window. */
  timeouts: number
  /** Length of the measurement window, in milliseconds. */
  windowMs: number
  /** One sentence saying what to do. */
  summary: string
}

/** @internal Figures collected by the pool. */
export interface AdviceInput {
  min: number
  max: number
  requested: number
  windowMs: number
  meanHoldMs: number
  p99HoldMs: number
  meanWaitMs: number
  timeouts: number
}

const HEADROOM = 1.3

/** @internal Little's law: L = λ × W. */
export function computeAdvice(input: AdviceInput): PoolAdvice {
  const seconds = input.windowMs / 1_000
  const arrivalRate = seconds > 0 ? input.requested / seconds : 0
  const meanBusy = arrivalRate * (input.meanHoldMs / 1_000)
  const suggestedMax = Math.max(1, input.min, Math.ceil(meanBusy * HEADROOM))
  let summary: string
  if (input.requested === 0) summary = 'No acquires in the window; nothing to size from yet.'
  else if (suggestedMax > input.max)
    summary = `Demand averages ${meanBusy.toFixed(1)} busy resources; raise max from ${input.max} to about ${suggestedMax}, or shorten hold times.`
  else if (suggestedMax < input.max / 2)
    summary = `Demand averages ${meanBusy.toFixed(1)} busy resources; max ${input.max} could shrink to about ${suggestedMax}.`
  else summary = `max ${input.max} fits the measured demand (${meanBusy.toFixed(1)} busy on average).`
  return {
    suggestedMax,
    currentMax: input.max,
    arrivalRate,
    meanHoldMs: input.meanHoldMs,
    p99HoldMs: input.p99HoldMs,
    meanWaitMs: input.meanWaitMs,
    meanBusy,
    headroom: HEADROOM,
    timeouts: input.timeouts,
    windowMs: input.windowMs,
    summary,
  }
}
