import { type Duration, parseOptionalDuration } from '@hotpath/core'
import { channels } from '../channels'
import { checkLogger } from '../options'

/**
 * Slow-query and timeout options shared by every dialect.
 *
 * @example
 * postgresDialect({ connectionString, slowQuery: '1s', queryTimeout: '30s', logger: console })
 */
export interface QueryReportingOptions {
  /**
   * Queries slower than this are reported on `hotpath:pool:slow-query` and to `logger`, with the
   * SQL text and the number of parameters (never their values). `Infinity` disables.
   * @default Infinity
   */
  slowQuery?: Duration
  /**
   * Every query is aborted after this long (as if its signal aborted).
   * @default no timeout
   */
  queryTimeout?: Duration
  /**
   * Receives slow-query warnings; `console` fits.
   * @default none
   */
  logger?: { warn(message: string, details?: object): void }
}

/** @internal The option names of {@link QueryReportingOptions}, for `checkKnownOptions`. */
export const REPORTING_OPTIONS = ['slowQuery', 'queryTimeout', 'logger'] as const

/** @internal */
export interface Reporting {
  slowQueryMs: number
  queryTimeoutMs: number | undefined
  logger: { warn(message: string, details?: object): void } | undefined
  name: string
}

/** @internal */
export function resolveReporting(options: QueryReportingOptions, name: string): Reporting {
  return {
    slowQueryMs: parseOptionalDuration(options.slowQuery, 'slowQuery') ?? Number.POSITIVE_INFINITY,
    queryTimeoutMs: parseOptionalDuration(options.queryTimeout, 'queryTimeout'),
    // Checked here: a logger without warn() would reject a statement that succeeded, when slow.
    logger: checkLogger(options.logger),
    name,
  }
}

/**
 * Reports a statement that took at least `slowQuery` on `hotpath:pool:slow-query` and to the
 * logger: the SQL text and the number of parameters, never their values.
 * @internal
 */
export function reportSlow(
  reporting: Reporting,
  compiled: { sql: string; parameters: readonly unknown[] },
  durationMs: number,
): void {
  const message = {
    pool: reporting.name,
    sql: compiled.sql,
    parameters: compiled.parameters.length,
    durationMs,
  }
  channels.slowQuery.publish(message)
  reporting.logger?.warn(
    `Slow query on '${reporting.name}' (${Math.round(durationMs)} ms): ${compiled.sql}`,
    message,
  )
}
