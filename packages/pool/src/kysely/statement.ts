import { abortReason, getClock, schedule, type TimerHandle } from '@hotpath/core'
import type { QueryResult } from 'kysely'
import { ConnectionLostError, QueryAbortedError, QueryOutcomeUnknownError } from '../errors'
import { currentQuerySignal } from './query-signal'
import { type Reporting, reportSlow } from './reporting'
import type { SqlConnection } from './sql-connection'

/**
 * Runs one statement on a connection under the surrounding query signal and `queryTimeout`,
 * reporting slow queries. An abort rejects at once with `E_POOL_QUERY_ABORTED` and breaks the
 * connection; a connection already broken refuses the statement unsent with
 * `E_POOL_CONNECTION_LOST`. Every dialect runs its statements through here.
 * @internal
 */
export async function runStatement(
  connection: SqlConnection,
  compiled: { sql: string; parameters: readonly unknown[] },
  reporting: Reporting,
): Promise<QueryResult<unknown>> {
  // Closed under a transaction (or between statements of one lease): never sent.
  if (connection.broken) throw new ConnectionLostError({ cause: connection.brokenBy })
  const signal = currentQuerySignal()
  if (signal?.aborted)
    throw new QueryAbortedError('The query was aborted before it started.', { cause: abortReason(signal) })
  const started = getClock().monotonic()
  let result: QueryResult<unknown>
  try {
    const running = connection.execute(compiled.sql, compiled.parameters)
    if (signal === undefined && reporting.queryTimeoutMs === undefined) result = await running
    else result = await raceAbort(connection, running, signal, reporting.queryTimeoutMs)
  } catch (error) {
    throw driverError(connection, error)
  }
  const duration = getClock().monotonic() - started
  if (duration >= reporting.slowQueryMs) reportSlow(reporting, compiled, duration)
  return result
}

/**
 * What a failed statement rejects with: a lost connection becomes ConnectionLostError (never
 * sent) or QueryOutcomeUnknownError (sent, reply lost) with the driver's error as `cause`; any
 * other driver error keeps its class and gets the stack of the code that ran the query (a
 * driver error is created in the socket's read callback, whose stack names no caller frame).
 */
function driverError(connection: SqlConnection, error: unknown): unknown {
  if (error instanceof QueryAbortedError) return error
  const loss = connection.lost(error)
  if (loss === 'unsent') return new ConnectionLostError({ cause: error })
  if (loss === 'sent') return new QueryOutcomeUnknownError({ cause: error })
  // Called after an await, so V8's async stack trace reaches the application's frames.
  if (typeof error === 'object' && error !== null && Object.isExtensible(error))
    Error.captureStackTrace(error, runStatement)
  return error
}

/**
 * Settles with the running statement unless the signal aborts or `timeoutMs` passes first: then
 * it rejects at once with QueryAbortedError and aborts the connection (its statement is
 * cancelled server-side, best effort, and the connection is destroyed on release).
 */
function raceAbort<R>(
  connection: SqlConnection,
  running: Promise<R>,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let timer: TimerHandle | undefined
    const stop = (error: Error) => {
      cleanup()
      running.catch(() => {})
      connection.abort()
      reject(error)
    }
    const onAbort = () =>
      stop(
        new QueryAbortedError('The query was aborted; its connection is destroyed.', {
          cause: abortReason(signal!),
        }),
      )
    const cleanup = () => {
      signal?.removeEventListener('abort', onAbort)
      timer?.cancel()
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    if (timeoutMs !== undefined) {
      timer = schedule(
        () =>
          stop(
            new QueryAbortedError(
              `The query exceeded queryTimeout (${timeoutMs} ms); its connection is destroyed.`,
            ),
          ),
        timeoutMs,
      )
    }
    running.then(
      (value) => {
        cleanup()
        resolve(value)
      },
      (error: unknown) => {
        cleanup()
        reject(error)
      },
    )
  })
}
