import {
  abortReason,
  type Duration,
  getClock,
  parseOptionalDuration,
  schedule,
  type TimerHandle,
} from '@hotpath/core'
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  IdentifierNode,
  type QueryId,
  type QueryResult,
  RawNode,
  type TransactionSettings,
} from 'kysely'
import { channels } from '../channels'
import { ConnectionLostError, QueryAbortedError, QueryOutcomeUnknownError } from '../errors'
import type { Lease } from '../lease'
import { checkLogger, type PoolOptions, resolveOptions } from '../options'
import { createPool, type Pool } from '../pool'
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
  /**
   * Whether an error from `execute` means the connection was lost: `'unsent'` when the driver
   * refused the statement because its socket was already closed, `'sent'` when the statement
   * went out and the reply was lost, `undefined` for any other error.
   */
  lost(error: unknown): ConnectionLoss | undefined
  /**
   * Whether the connection keeps the Node process alive: yes while lent to a Kysely connection,
   * no while idle in the pool, so a script that is done querying exits without `db.destroy()`.
   */
  keepAlive(active: boolean): void
  /** Cheap liveness check for validation. */
  ping(): Promise<boolean>
  /** Closes the connection. */
  close(): Promise<void>
}

/**
 * How a statement met a lost connection: never sent (nothing ran), or sent with its reply lost
 * (it may have run).
 *
 * @example
 * const loss: ConnectionLoss = 'sent'
 */
export type ConnectionLoss = 'unsent' | 'sent'

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
 * Refs or unrefs a client's socket (pg's `client.connection.stream`, mysql2's
 * `connection.stream`); a client without one is left as it is.
 * @internal
 */
export function refSocket(socket: unknown, active: boolean): void {
  const handle = socket as { ref?: () => unknown; unref?: () => unknown } | undefined
  if (active) handle?.ref?.()
  else handle?.unref?.()
}

/**
 * Pings an idle connection with `query`: referenced for the round trip, so the process does not
 * exit half-way, and unreferenced again after.
 * @internal
 */
export async function pingIdle(connection: SqlConnection, query: () => Promise<unknown>): Promise<boolean> {
  connection.keepAlive(true)
  try {
    await query()
    return true
  } catch {
    return false
  } finally {
    connection.keepAlive(false)
  }
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

function connectionPoolOptions(
  connect: (signal: AbortSignal) => Promise<SqlConnection>,
  options: DialectPoolOptions | undefined,
  name: string,
): PoolOptions<SqlConnection> {
  return {
    name,
    ...options,
    create: ({ signal }) => connect(signal),
    destroy: (connection) => connection.close(),
    validate: async (connection) => !connection.broken && (await connection.ping()),
    // Closed by the server while idle: destroyed on the way out, another connection is lent.
    isBroken: (connection) => connection.broken,
    isFatal: () => true,
  }
}

/**
 * Throws what {@link createConnectionPool} would throw for these options, without building the
 * pool: a dialect checks its options where it is created and opens connections on first use.
 * @internal
 */
export function checkConnectionPoolOptions(options: DialectPoolOptions | undefined, name: string): void {
  resolveOptions(connectionPoolOptions(() => Promise.reject(new Error('not connected')), options, name))
}

/** @internal Builds the pool of SQL connections used by a dialect. */
export function createConnectionPool(
  connect: (signal: AbortSignal) => Promise<SqlConnection>,
  options: DialectPoolOptions | undefined,
  name: string,
): Pool<SqlConnection> {
  return createPool<SqlConnection>(connectionPoolOptions(connect, options, name))
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
 * Pools shared by every driver one dialect object creates (one per Kysely instance): opened by
 * the first driver's `init`, drained when the last initialised driver is destroyed, so destroying
 * one Kysely instance never closes the pool under another; a driver initialised after that opens
 * fresh pools.
 * @internal
 */
export class SharedPools<P extends { drain(options: { timeout: Duration }): Promise<unknown> }> {
  readonly #open: () => P
  #current: P | undefined
  #drained: P | undefined
  #users = 0

  /** `open` builds the pools on first use; the dialect has checked their options already. */
  constructor(open: () => P) {
    this.#open = open
  }

  /** The pools in use (opened on first call). */
  get current(): P {
    this.#current ??= this.#open()
    return this.#current
  }

  /** The pools to report stats of: those in use, else the last drained ones (never reopened). */
  get latest(): P {
    return this.#current ?? this.#drained ?? this.current
  }

  /** Counts a driver in and returns the pools it uses. */
  use(): P {
    this.#users++
    return this.current
  }

  /** Counts a driver out; the last one out drains the pools. */
  async release(pools: P): Promise<void> {
    if (pools !== this.#current) return
    if (--this.#users > 0) return
    this.#current = undefined
    this.#drained = pools
    await pools.drain({ timeout: '10s' })
  }
}

let savepointQueries = 0

/** The query compiler's `compileQuery`, as Kysely hands it to a driver's savepoint methods. */
type CompileQuery = (node: RawNode, queryId: QueryId) => CompiledQuery

/**
 * Runs `savepoint "name"` and friends through the connection (so Kysely's `log` sees them), the
 * name quoted by the dialect's compiler.
 */
async function runSavepoint(
  connection: DatabaseConnection,
  command: string,
  name: string,
  compileQuery: CompileQuery,
): Promise<void> {
  const node = RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)])
  await connection.executeQuery(compileQuery(node, { queryId: `hotpath-savepoint-${++savepointQueries}` }))
}

/**
 * One Kysely connection: it holds a pooled connection (its lease) from the moment it needs one
 * until Kysely releases it, and knows whether it left a transaction open.
 * @internal
 */
export abstract class SessionConnection implements DatabaseConnection {
  /** The connection held until release. */
  lease: Lease<SqlConnection> | undefined
  /** From BEGIN until COMMIT or ROLLBACK succeeded. */
  inTransaction = false
  /** The error that broke the held connection. */
  fatal: unknown
  readonly reporting: Reporting

  constructor(reporting: Reporting) {
    this.reporting = reporting
  }

  abstract executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>>

  /** Makes sure this connection holds the connection transactions run on. */
  abstract hold(): Promise<Lease<SqlConnection>>

  /** Runs a statement on the held connection, remembering an error that broke it. */
  protected async runHeld<R>(lease: Lease<SqlConnection>, compiled: CompiledQuery): Promise<QueryResult<R>> {
    const connection = lease.resource
    try {
      return (await runStatement(connection, compiled, this.reporting)) as QueryResult<R>
    } catch (error) {
      if (connection.broken || connection.isFatal(error)) this.fatal = error
      throw error
    }
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(compiled)
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) }
  }

  /**
   * Gives the held connection back. A transaction still open (its COMMIT or ROLLBACK failed, or
   * a controlled transaction was released without either) is rolled back first, and the
   * connection is destroyed when that fails too: a pooled connection is never lent again idle in
   * a transaction, where it would keep its locks.
   */
  async release(): Promise<void> {
    const lease = this.lease
    if (lease === undefined) return
    this.lease = undefined
    const connection = lease.resource
    connection.keepAlive(false)
    if (this.inTransaction && !connection.broken && this.fatal === undefined) {
      try {
        await runStatement(connection, CompiledQuery.raw('rollback'), this.reporting)
        this.inTransaction = false
      } catch (error) {
        this.fatal = error
      }
    }
    if (this.inTransaction || this.fatal !== undefined || connection.broken) lease.destroy()
    else lease.release()
  }
}

/**
 * Transactions and savepoints over {@link SessionConnection}s, shared by every dialect. Every
 * statement, BEGIN and COMMIT included, goes through the connection's `executeQuery`, so
 * Kysely's `log` sees it.
 * @internal
 */
export abstract class SessionDriver implements Driver {
  readonly #begin: (settings: TransactionSettings) => string[]
  readonly #releaseCommand: string

  constructor(begin: (settings: TransactionSettings) => string[], releaseCommand: string) {
    this.#begin = begin
    this.#releaseCommand = releaseCommand
  }

  abstract init(): Promise<void>
  abstract acquireConnection(): Promise<DatabaseConnection>
  abstract destroy(): Promise<void>

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const session = connection as SessionConnection
    await session.hold()
    for (const sql of this.#begin(settings)) await connection.executeQuery(CompiledQuery.raw(sql))
    // Only now: a BEGIN that failed opened nothing (one whose reply was lost broke the connection,
    // which is destroyed), and a ROLLBACK on release would fail and destroy a healthy connection.
    session.inTransaction = true
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection, 'commit')
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection, 'rollback')
  }

  async #end(connection: DatabaseConnection, end: 'commit' | 'rollback'): Promise<void> {
    const session = connection as SessionConnection
    const lease = await session.hold()
    await endTransaction(lease.resource, end, (statement) => connection.executeQuery(statement))
    session.inTransaction = false
  }

  savepoint(connection: DatabaseConnection, name: string, compileQuery: CompileQuery): Promise<void> {
    return runSavepoint(connection, 'savepoint', name, compileQuery)
  }

  rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: CompileQuery,
  ): Promise<void> {
    return runSavepoint(connection, 'rollback to', name, compileQuery)
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compileQuery: CompileQuery): Promise<void> {
    return runSavepoint(connection, this.#releaseCommand, name, compileQuery)
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await (connection as SessionConnection).release()
  }
}

/**
 * Ends the transaction on `connection` by running COMMIT or ROLLBACK through `run`, except that a
 * broken connection gets no ROLLBACK: it is destroyed on release, which ends its session and so
 * rolls the transaction back server-side, and a ROLLBACK on it would only replace the caller's
 * error (say a QueryAbortedError) with a ConnectionLostError. A COMMIT is always attempted, so a
 * broken connection refuses it with ConnectionLostError.
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

/** @internal A Kysely connection holding one lease of a pool for its whole scope. */
export class LeasedConnection extends SessionConnection {
  constructor(lease: Lease<SqlConnection>, reporting: Reporting) {
    super(reporting)
    this.lease = lease
    lease.resource.keepAlive(true)
  }

  async hold(): Promise<Lease<SqlConnection>> {
    return this.lease as Lease<SqlConnection>
  }

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    return this.runHeld<R>(this.lease as Lease<SqlConnection>, compiled)
  }
}

/**
 * A Kysely `Driver` on top of a hotpath pool: connection waits honour the surrounding query signal,
 * and a connection that failed or whose query was aborted is destroyed on release.
 * @internal
 */
export class PooledDriver extends SessionDriver {
  readonly #shared: SharedPools<Pool<SqlConnection>>
  readonly #reporting: Reporting
  #pool: Pool<SqlConnection> | undefined

  constructor(
    shared: SharedPools<Pool<SqlConnection>>,
    reporting: Reporting,
    begin: (settings: TransactionSettings) => string[] = standardBegin,
    releaseCommand = 'release',
  ) {
    super(begin, releaseCommand)
    this.#shared = shared
    this.#reporting = reporting
  }

  async init(): Promise<void> {
    this.#pool = this.#shared.use()
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const signal = currentQuerySignal()
    const pool = this.#pool ?? this.#shared.current
    const lease = await pool.acquire(signal ? { signal } : undefined)
    return new LeasedConnection(lease, this.#reporting)
  }

  async destroy(): Promise<void> {
    const pool = this.#pool
    this.#pool = undefined
    if (pool !== undefined) await this.#shared.release(pool)
  }
}
