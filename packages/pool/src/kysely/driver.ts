import { abortReason, getClock, parseOptionalDuration, schedule, type TimerHandle } from '@hotpath/core'
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely'
import { channels } from '../channels'
import { ConnectionLostError, QueryAbortedError } from '../errors'
import type { Lease } from '../lease'
import type { PoolOptions } from '../options'
import { createPool, type Pool } from '../pool'
import type { PoolStats } from '../pool-types'
import { currentQuerySignal } from './query-signal'

/**
 * A connection as the pooled drivers see it: one client, wrapped.
 *
 * @example
 * const healthy = (c: SqlConnection) => !c.broken
 */
export interface SqlConnection {
  /** Runs one statement. */
  execute(sql: string, parameters: readonly unknown[]): Promise<QueryResult<unknown>>
  /** Asks the server to stop the running statement (best effort) and makes the connection unusable. */
  abort(): void
  /** True once the connection failed or was aborted; it is destroyed when released. */
  readonly broken: boolean
  /** Whether an error from `execute` means the connection is broken. */
  isFatal(error: unknown): boolean
  /** Cheap liveness check for validation. */
  ping(): Promise<boolean>
  /** Closes the connection. */
  close(): Promise<void>
}

/**
 * Marks `connection` broken once its client reports an error or its socket ends (the server
 * closed it, or the network did), so the driver never lends or reuses it.
 * @internal
 */
export function breakOnClose(
  connection: { broken: boolean },
  client: { on(event: 'error' | 'end', listener: () => void): unknown },
): void {
  const mark = () => {
    connection.broken = true
  }
  client.on('error', mark)
  client.on('end', mark)
}

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
  slowQuery?: import('@hotpath/core').Duration
  /**
   * Every query is aborted after this long (as if its signal aborted).
   * @default no timeout
   */
  queryTimeout?: import('@hotpath/core').Duration
  /**
   * Receives slow-query warnings; `console` fits.
   * @default none
   */
  logger?: { warn(message: string, details?: object): void }
}

/**
 * Pool settings a dialect accepts (everything but the factory functions).
 *
 * @example
 * postgresDialect({ connectionString, pool: { max: 20, maxLifetime: '1h' } })
 */
export type DialectPoolOptions = Omit<
  PoolOptions<SqlConnection>,
  'create' | 'destroy' | 'validate' | 'isBroken' | 'isFatal'
>

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
    logger: options.logger,
    name,
  }
}

/** @internal Builds the pool of SQL connections used by a dialect. */
export function createConnectionPool(
  connect: (signal: AbortSignal) => Promise<SqlConnection>,
  options: DialectPoolOptions | undefined,
  name: string,
): Pool<SqlConnection> {
  return createPool<SqlConnection>({
    name,
    ...options,
    create: ({ signal }) => connect(signal),
    destroy: (connection) => connection.close(),
    validate: async (connection) => !connection.broken && (await connection.ping()),
    // Closed by the server while idle: destroyed on the way out, another connection is lent.
    isBroken: (connection) => connection.broken,
    isFatal: () => true,
  })
}

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
  if (connection.broken) throw new ConnectionLostError()
  const signal = currentQuerySignal()
  if (signal?.aborted)
    throw new QueryAbortedError('The query was aborted before it started.', { cause: abortReason(signal) })
  const started = getClock().monotonic()
  const running = connection.execute(compiled.sql, compiled.parameters)
  let result: QueryResult<unknown>
  if (signal === undefined && reporting.queryTimeoutMs === undefined) result = await running
  else result = await raceAbort(connection, running, signal, reporting.queryTimeoutMs)
  const duration = getClock().monotonic() - started
  if (duration >= reporting.slowQueryMs) reportSlow(reporting, compiled, duration)
  return result
}

function reportSlow(
  reporting: Reporting,
  compiled: { sql: string; parameters: readonly unknown[] },
  durationMs: number,
) {
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

/** @internal PostgreSQL-style `start transaction isolation level ..., read only`. */
export function standardBegin(settings: TransactionSettings): string[] {
  if (!settings.isolationLevel && !settings.accessMode) return ['begin']
  let sql = 'start transaction'
  if (settings.isolationLevel) sql += ` isolation level ${settings.isolationLevel}`
  if (settings.accessMode) sql += `${settings.isolationLevel ? ',' : ''} ${settings.accessMode}`
  return [sql]
}

/**
 * Ends the transaction on `connection` by running COMMIT or ROLLBACK through `run`, except that a
 * broken connection gets no ROLLBACK: it is destroyed on release, which ends its session and so
 * rolls the transaction back server-side, and a ROLLBACK on it would only replace the caller's
 * error (say a QueryAbortedError) with a ConnectionLostError. A COMMIT is always attempted, so a
 * broken connection refuses it with ConnectionLostError. Every dialect ends transactions here.
 * @internal
 */
export async function endTransaction(
  connection: SqlConnection,
  end: 'commit' | 'rollback',
  run: (statement: CompiledQuery) => Promise<unknown>,
): Promise<void> {
  if (end === 'rollback' && connection.broken) return
  await run(CompiledQuery.raw(end))
}

/** @internal A Kysely connection over one lease. */
export class LeasedConnection implements DatabaseConnection {
  readonly lease: Lease<SqlConnection>
  readonly #reporting: Reporting
  fatal: unknown

  constructor(lease: Lease<SqlConnection>, reporting: Reporting) {
    this.lease = lease
    this.#reporting = reporting
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const connection = this.lease.resource
    try {
      return (await runStatement(connection, compiled, this.#reporting)) as QueryResult<R>
    } catch (error) {
      if (connection.broken || connection.isFatal(error)) this.fatal = error
      throw error
    }
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(compiled)
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) }
  }
}

/**
 * A Kysely `Driver` on top of a hotpath pool: connection waits honour the surrounding query signal,
 * and a connection that failed or whose query was aborted is destroyed on release.
 * @internal
 */
export class PooledDriver implements Driver {
  readonly pool: Pool<SqlConnection>
  readonly #reporting: Reporting
  readonly #begin: (settings: TransactionSettings) => string[]

  constructor(
    pool: Pool<SqlConnection>,
    reporting: Reporting,
    begin: (settings: TransactionSettings) => string[] = standardBegin,
  ) {
    this.pool = pool
    this.#reporting = reporting
    this.#begin = begin
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const signal = currentQuerySignal()
    const lease = await this.pool.acquire(signal ? { signal } : undefined)
    return new LeasedConnection(lease, this.#reporting)
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    for (const sql of this.#begin(settings)) await connection.executeQuery(CompiledQuery.raw(sql))
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection as LeasedConnection, 'commit')
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection as LeasedConnection, 'rollback')
  }

  async #end(connection: LeasedConnection, end: 'commit' | 'rollback'): Promise<void> {
    await endTransaction(connection.lease.resource, end, (statement) => connection.executeQuery(statement))
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const leased = connection as LeasedConnection
    const broken = leased.lease.resource.broken
    if (leased.fatal !== undefined || broken)
      leased.lease.release(leased.fatal ?? new Error('broken connection'))
    else leased.lease.release()
  }

  async destroy(): Promise<void> {
    await this.pool.drain({ timeout: '10s' })
  }

  stats(): PoolStats {
    return this.pool.stats()
  }
}
