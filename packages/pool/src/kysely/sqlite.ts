import { checkInteger, checkOptionsObject, checkString, type Duration, parseDuration } from '@hotpath/core'
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type TransactionSettings,
} from 'kysely'
import type { Lease } from '../lease'
import type { Pool } from '../pool'
import type { PoolStats } from '../pool-types'
import {
  createConnectionPool,
  type DialectPoolOptions,
  endTransaction,
  type QueryReportingOptions,
  type Reporting,
  resolveReporting,
  runStatement,
  type SqlConnection,
} from './driver'
import { localRequire } from './load'
import { currentQuerySignal } from './query-signal'
import { WorkerConnection } from './sqlite-worker'

/**
 * Options of {@link sqliteDialect}.
 *
 * @example
 * sqliteDialect({ filename: 'app.db', readers: 4, busyTimeout: '5s' })
 */
export interface SqliteDialectOptions extends QueryReportingOptions {
  /** Path of the database file (`':memory:'` forces `readers: 0`). */
  filename: string
  /**
   * Read-only connections on worker threads serving SELECTs concurrently, kept open once the
   * dialect is initialised; 0 sends every statement to the writer.
   * @default 2
   */
  readers?: number
  /**
   * How long a statement waits for a lock before failing with SQLITE_BUSY.
   * @default '5s'
   */
  busyTimeout?: Duration
  /**
   * Extra pragmas run on every connection after the defaults (`journal_mode = WAL`,
   * `synchronous = NORMAL`, `temp_store = MEMORY`, `busy_timeout`).
   * @default []
   */
  pragmas?: string[]
  /**
   * Pool settings of the readers (their `max` is `readers`).
   * @default the pool defaults
   */
  pool?: Omit<DialectPoolOptions, 'max' | 'min'>
}

/**
 * A SQLite dialect with a writer and reader pools.
 *
 * @example
 * const dialect = sqliteDialect({ filename: 'app.db' }); dialect.stats().readers?.borrowed
 */
export interface SqliteDialect extends Dialect {
  createAdapter(): SqliteAdapter
  createDriver(): Driver
  createQueryCompiler(): SqliteQueryCompiler
  createIntrospector(db: Kysely<unknown>): SqliteIntrospector
  /** Stats of the writer pool and the reader pool. */
  stats(): { writer: PoolStats; readers: PoolStats | undefined }
}

const READ_SQL = /^\s*(select|explain|values)\b/i
const WITH_SQL = /^\s*with\b/i
const WRITE_WORD = /\b(insert|update|delete|replace)\b/i

/** @internal Whether a statement can run on a read-only connection. */
export function isReadStatement(compiled: CompiledQuery): boolean {
  const kind = compiled.query.kind
  if (kind === 'SelectQueryNode') return true
  if (kind !== 'RawNode') return false
  if (READ_SQL.test(compiled.sql)) return true
  return WITH_SQL.test(compiled.sql) && !WRITE_WORD.test(compiled.sql)
}

function releaseLease(lease: Lease<SqlConnection>, error: unknown): void {
  const connection = lease.resource
  if (connection.broken || (error !== undefined && connection.isFatal(error))) {
    lease.release(error ?? new Error('broken connection'))
  } else lease.release()
}

class RoutingConnection implements DatabaseConnection {
  readonly #driver: SqliteRouterDriver
  /** The writer lease held for the length of a transaction. */
  lease: Lease<SqlConnection> | undefined

  constructor(driver: SqliteRouterDriver) {
    this.#driver = driver
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (this.lease !== undefined) return this.#run(this.lease, compiled)
    const pool =
      this.#driver.readers !== undefined && isReadStatement(compiled)
        ? this.#driver.readers
        : this.#driver.writer
    const signal = currentQuerySignal()
    const lease = await pool.acquire(signal ? { signal } : undefined)
    let failure: unknown
    try {
      return await this.#run<R>(lease, compiled)
    } catch (error) {
      failure = error
      throw error
    } finally {
      releaseLease(lease, failure)
    }
  }

  async #run<R>(lease: Lease<SqlConnection>, compiled: CompiledQuery): Promise<QueryResult<R>> {
    return (await runStatement(lease.resource, compiled, this.#driver.reporting)) as QueryResult<R>
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(compiled)
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) }
  }
}

/** @internal Routes reads to the reader pool and writes and transactions to the one writer. */
export class SqliteRouterDriver implements Driver {
  readonly writer: Pool<SqlConnection>
  readonly readers: Pool<SqlConnection> | undefined
  readonly reporting: Reporting

  constructor(writer: Pool<SqlConnection>, readers: Pool<SqlConnection> | undefined, reporting: Reporting) {
    this.writer = writer
    this.readers = readers
    this.reporting = reporting
  }

  async init(): Promise<void> {
    // The writer opens first: it creates the file and switches it to WAL before any reader opens.
    await this.writer.initialize({ failFast: true })
    if (this.readers !== undefined) {
      // Readers are kept warm from now on (they could not open before the file was in WAL mode).
      const { max } = this.readers.stats()
      this.readers.resize({ min: max, max })
    }
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new RoutingConnection(this)
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const routing = connection as RoutingConnection
    const signal = currentQuerySignal()
    const lease = await this.writer.acquire(signal ? { signal } : undefined)
    try {
      // IMMEDIATE takes the write lock up front, so two transactions never deadlock on an upgrade.
      await runStatement(
        lease.resource,
        CompiledQuery.raw(settings.accessMode === 'read only' ? 'begin deferred' : 'begin immediate'),
        this.reporting,
      )
    } catch (error) {
      releaseLease(lease, error)
      throw error
    }
    routing.lease = lease
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#finish(connection as RoutingConnection, 'commit')
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#finish(connection as RoutingConnection, 'rollback')
  }

  async #finish(connection: RoutingConnection, end: 'commit' | 'rollback'): Promise<void> {
    const lease = connection.lease
    if (lease === undefined) return
    connection.lease = undefined
    let failure: unknown
    try {
      // A broken writer gets no ROLLBACK; it is destroyed on release below (endTransaction).
      await endTransaction(lease.resource, end, (statement) =>
        runStatement(lease.resource, statement, this.reporting),
      )
    } catch (error) {
      failure = error
      throw error
    } finally {
      releaseLease(lease, failure)
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const routing = connection as RoutingConnection
    if (routing.lease !== undefined) {
      // A transaction left open (an error between begin and commit): roll it back on its way out.
      const lease = routing.lease
      routing.lease = undefined
      await lease.resource.execute('rollback', []).catch(() => {})
      releaseLease(lease, undefined)
    }
  }

  async destroy(): Promise<void> {
    await Promise.all([this.writer.drain({ timeout: '10s' }), this.readers?.drain({ timeout: '10s' })])
  }
}

/**
 * A Kysely dialect for SQLite (better-sqlite3) with a read/write split: the file is switched to
 * WAL with `synchronous = NORMAL`, `temp_store = MEMORY` and a `busy_timeout`; one writer
 * connection serialises writes and transactions; `readers` read-only connections serve SELECTs
 * concurrently. Every connection lives on its own worker thread, so a long query never blocks
 * the event loop. A transaction runs entirely on the writer.
 *
 * @example
 * const db = new Kysely<DB>({ dialect: sqliteDialect({ filename: 'app.db', readers: 4, slowQuery: '1s' }) })
 */
export function sqliteDialect(options: SqliteDialectOptions): SqliteDialect {
  checkOptionsObject('options', options)
  const filename = checkString('filename', options.filename)
  const memory = filename === ':memory:' || filename === ''
  const readers = memory ? 0 : checkInteger('readers', options.readers ?? 2, { min: 0, max: 64 })
  const busy = parseDuration(options.busyTimeout ?? '5s', 'busyTimeout')
  const extra = options.pragmas ?? []
  const writerPragmas = [
    'journal_mode = WAL',
    'synchronous = NORMAL',
    'temp_store = MEMORY',
    `busy_timeout = ${Math.round(busy)}`,
    ...extra,
  ]
  const readerPragmas = ['temp_store = MEMORY', `busy_timeout = ${Math.round(busy)}`, ...extra]
  let modulePath: string | undefined
  const resolveModule = () => {
    modulePath ??= localRequire().resolve('better-sqlite3')
    return modulePath
  }
  const name = options.pool?.name ?? 'sqlite'
  const writer = createConnectionPool(
    () => WorkerConnection.open(resolveModule(), filename, false, writerPragmas),
    { ...options.pool, name: `${name}-writer`, min: 1, max: 1, maxLifetime: Number.POSITIVE_INFINITY },
    `${name}-writer`,
  )
  const readerPool =
    readers === 0
      ? undefined
      : createConnectionPool(
          () => WorkerConnection.open(resolveModule(), filename, true, readerPragmas),
          { ...options.pool, name: `${name}-readers`, min: 0, max: readers },
          `${name}-readers`,
        )
  const driver = new SqliteRouterDriver(writer, readerPool, resolveReporting(options, name))
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => driver,
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
    stats: () => ({ writer: writer.stats(), readers: readerPool?.stats() }),
  }
}
