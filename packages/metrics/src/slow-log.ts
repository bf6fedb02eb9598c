import {
  checkKnownOptions,
  checkOptionsObject,
  checkString,
  type Duration,
  getClock,
  invalidOption,
  parseDuration,
} from '@hotpath/core'
import type { HistogramSeries } from './histogram'

/**
 * The logger interface `slowLog` needs; pino, bunyan-style and console adapters fit.
 *
 * @example
 * const logger: SlowLogger = { warn: (details, message) => console.warn(message, details) }
 * const slow = slowLog({ logger })
 */
export interface SlowLogger {
  warn(details: object, message: string): void
}

/**
 * What `slowLog` reports for one slow call.
 *
 * @example
 * slowLog({ logger: { warn: (details) => alerts.push((details as SlowCall).durationMs) } })
 */
export interface SlowCall {
  /** The operation name. */
  name: string
  /** How long the call took, in ms. */
  durationMs: number
  /** The threshold, in ms. */
  thresholdMs: number
  /** True when the call failed. */
  failed: boolean
  /** The error of a failed call. */
  err?: unknown
}

/**
 * Options of {@link slowLog}.
 *
 * @example
 * slowLog({ threshold: '250ms', logger: pino(), histogram: registry.histogram('db_call_duration').with({}) })
 */
export interface SlowLogOptions {
  /**
   * Calls that take longer than this are logged.
   * @default '1s'
   */
  threshold?: Duration
  /**
   * Where slow calls go: `logger.warn(details, message)` (pino's signature).
   * @default a console adapter writing one line per slow call
   */
  logger?: SlowLogger
  /**
   * Also records every call's duration (in ms) here, slow or not.
   * @default undefined
   */
  histogram?: HistogramSeries
}

const consoleLogger: SlowLogger = {
  warn(details, message) {
    console.warn(`${message} ${JSON.stringify(details)}`)
  },
}

/**
 * Wraps async functions so that calls slower than `threshold` are logged with their duration
 * (a slow-query log: by default, anything over 1 s is logged as a warning).
 *
 * @example
 * const slow = slowLog({ threshold: '1s', logger: pino() })
 * const findUser = slow(async (id: string) => db.users.find(id), 'db.findUser')
 * await findUser('42') // logs { name: 'db.findUser', durationMs: 1234, ... } when slow
 */
export function slowLog(
  options: SlowLogOptions = {},
): <A extends unknown[], R>(
  fn: (...args: A) => R | PromiseLike<R>,
  name?: string,
) => (...args: A) => Promise<Awaited<R>> {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('slowLog()', raw, ['threshold', 'logger', 'histogram'])
  const thresholdMs = parseDuration(raw.threshold ?? '1s', 'threshold')
  const logger = raw.logger ?? consoleLogger
  if (typeof logger?.warn !== 'function')
    throw invalidOption('logger', 'an object with a warn(details, message) method', logger)
  const histogram = raw.histogram
  if (histogram !== undefined && typeof histogram.record !== 'function') {
    throw invalidOption('histogram', 'a histogram series (from histogram.with())', histogram)
  }
  return <A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, name?: string) => {
    if (typeof fn !== 'function') throw invalidOption('fn', 'a function', fn)
    const label = name === undefined ? fn.name || 'anonymous' : checkString('name', name)
    return async (...args: A): Promise<Awaited<R>> => {
      const started = getClock().monotonic()
      let failed = false
      let err: unknown
      try {
        return await fn(...args)
      } catch (error) {
        failed = true
        err = error
        throw error
      } finally {
        const durationMs = getClock().monotonic() - started
        histogram?.record(durationMs)
        if (durationMs > thresholdMs) {
          const details: SlowCall = { name: label, durationMs, thresholdMs, failed }
          if (failed) details.err = err
          logger.warn(details, `Slow operation: ${label} took ${(durationMs / 1000).toFixed(2)}s`)
        }
      }
    }
  }
}
