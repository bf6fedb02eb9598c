import {
  checkInteger,
  checkKnownOptions,
  checkOptionsObject,
  checkString,
  type Duration,
  invalidOption,
  parseDuration,
} from '@hotpath/core'
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely'
import type { Lease } from '../lease'
import type { Pool } from '../pool'
import type { PoolStats } from '../pool-types'
import {
  checkConnectionPoolOptions,
  createConnectionPool,
  type DialectPoolOptions,
  SharedPools,
} from './connection-pool'
import { localRequire } from './load'
import { SharedPoolsDriver } from './pooled-driver'
import { currentQuerySignal } from './query-signal'
import { type QueryReportingOptions, REPORTING_OPTIONS, type Reporting, resolveReporting } from './reporting'
import { SessionConnection } from './session'
import type { SqlConnection } from './sql-connection'
import { WorkerConnection } from './sqlite-worker'
import { runStatement } from './statement'

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

/** The writer and reader pools of one SQLite dialect. */
interface SqlitePools {
  writer: Pool<SqlConnection>
  readers: Pool<SqlConnection> | undefined
  drain(options: { timeout: Duration }): Promise<unknown>
}

/**
 * A Kysely connection that sends reads to a reader and, from its first write (or transaction,
 * or migration lock) on, holds the writer until Kysely releases it. With no readers it holds the
 * writer from the start, which makes `db.connection()` exclusive as with Kysely's own dialect.
 */
class RoutingConnection extends SessionConnection {
  readonly #driver: SqliteRouterDriver
  #holding: Promise<Lease<SqlConnection>> | undefined

  constructor(driver: SqliteRouterDriver) {
    super(driver.reporting)
    this.#driver = driver
  }

  hold(): Promise<Lease<SqlConnection>> {
    if (this.lease !== undefined) return Promise.resolve(this.lease)
    if (this.#holding === undefined) {
      const signal = currentQuerySignal()
      this.#holding = this.#driver.pools.writer.acquire(signal ? { signal } : undefined).then(
        (lease) => {
          this.lease = lease
          lease.resource.keepAlive(true)
          return lease
        },
        (error: unknown) => {
          this.#holding = undefined
          throw error
        },
      )
    }
    return this.#holding
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const readers = this.#driver.pools.readers
    if (
      this.lease === undefined &&
      this.#holding === undefined &&
      readers !== undefined &&
      isReadStatement(compiled)
    ) {
      return this.#readOnce(readers, compiled)
    }
    return this.runHeld<R>(await this.hold(), compiled)
  }

  async #readOnce<R>(readers: Pool<SqlConnection>, compiled: CompiledQuery): Promise<QueryResult<R>> {
    const signal = currentQuerySignal()
    const lease = await readers.acquire(signal ? { signal } : undefined)
    let failure: unknown
    try {
      return (await runStatement(lease.resource, compiled, this.reporting)) as QueryResult<R>
    } catch (error) {
      failure = error
      throw error
    } finally {
      releaseLease(lease, failure)
    }
  }

  override async release(): Promise<void> {
    // A hold still being acquired when Kysely releases (a failed first statement): wait for it.
    if (this.lease === undefined && this.#holding !== undefined) await this.#holding.catch(() => {})
    this.#holding = undefined
    await super.release()
  }
}

/**
 * The migration lock of Kysely's SqliteAdapter does nothing: it relies on the driver handing out
 * its one connection exclusively. With readers, a connection holds the writer only from its
 * first write, so the lock makes the migrating connection hold the writer at once; concurrent
 * migrators then run one after the other.
 */
class RoutingSqliteAdapter extends SqliteAdapter {
  override async acquireMigrationLock(db: Kysely<unknown>): Promise<void> {
    await db.getExecutor().provideConnection(async (connection) => {
      if (connection instanceof RoutingConnection) await connection.hold()
    })
  }
}

/** @internal Routes reads to the reader pool and writes and transactions to the one writer. */
export class SqliteRouterDriver extends SharedPoolsDriver<SqlitePools> {
  constructor(shared: SharedPools<SqlitePools>, reporting: Reporting) {
    // IMMEDIATE takes the write lock up front, so two transactions never deadlock on an upgrade.
    super(shared, reporting, {
      begin: (settings) => [settings.accessMode === 'read only' ? 'begin deferred' : 'begin immediate'],
      releaseSavepoint: 'release',
    })
  }

  override async init(): Promise<void> {
    await super.init()
    const pools = this.pools
    // The writer opens first: it creates the file and switches it to WAL before any reader opens.
    await pools.writer.initialize({ failFast: true })
    if (pools.readers !== undefined) {
      // Readers are kept warm from now on (they could not open before the file was in WAL mode).
      const { max } = pools.readers.stats()
      pools.readers.resize({ min: max, max })
    }
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = new RoutingConnection(this)
    if (this.pools.readers === undefined) await connection.hold()
    return connection
  }
}

/** SQLite stores a busy timeout as a C int of milliseconds; a larger one wraps to no wait at all. */
const MAX_BUSY_TIMEOUT_MS = 2 ** 31 - 1

/** `name`, `name = value` or `name(value)`, optionally `schema.name`; one pragma, no `;`. */
const PRAGMA = /^\s*[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\s*(=\s*[^;=\s][^;]*|\([^;()]*\))?\s*$/

function checkPragmas(value: unknown): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value))
    throw invalidOption('pragmas', "an array of pragmas like 'cache_size = -64000'", value)
  return value.map((pragma: unknown, i) => {
    if (typeof pragma !== 'string' || !PRAGMA.test(pragma))
      throw invalidOption(`pragmas[${i}]`, "a pragma like 'cache_size = -64000'", pragma)
    return pragma
  })
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
  checkKnownOptions('sqliteDialect()', options, [
    'filename',
    'readers',
    'busyTimeout',
    'pragmas',
    'pool',
    ...REPORTING_OPTIONS,
  ])
  const filename = checkString('filename', options.filename, { allowEmpty: true })
  const memory = filename === ':memory:' || filename === ''
  const readers = memory ? 0 : checkInteger('readers', options.readers ?? 2, { min: 0, max: 64 })
  // '30d' would overflow SQLite's int and mean no wait: longer than SQLite can wait is its longest.
  const busy = Math.min(parseDuration(options.busyTimeout ?? '5s', 'busyTimeout'), MAX_BUSY_TIMEOUT_MS)
  const extra = checkPragmas(options.pragmas)
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
  const writerOptions = {
    ...options.pool,
    name: `${name}-writer`,
    min: 1,
    max: 1,
    maxLifetime: Number.POSITIVE_INFINITY,
  }
  const readerOptions = { ...options.pool, name: `${name}-readers`, min: 0, max: readers }
  // Checked now; built on first use, since the writer's min: 1 starts a worker and opens the file.
  checkConnectionPoolOptions(writerOptions, writerOptions.name)
  if (readers > 0) checkConnectionPoolOptions(readerOptions, readerOptions.name)
  const shared = new SharedPools<SqlitePools>(() => {
    const writer = createConnectionPool(
      () => WorkerConnection.open(resolveModule(), filename, false, writerPragmas),
      writerOptions,
      writerOptions.name,
    )
    const readerPool =
      readers === 0
        ? undefined
        : createConnectionPool(
            () => WorkerConnection.open(resolveModule(), filename, true, readerPragmas),
            readerOptions,
            readerOptions.name,
          )
    return {
      writer,
      readers: readerPool,
      drain: (drainOptions) => Promise.all([writer.drain(drainOptions), readerPool?.drain(drainOptions)]),
    }
  })
  const reporting = resolveReporting(options, name)
  return {
    createAdapter: () => new RoutingSqliteAdapter(),
    createDriver: () => new SqliteRouterDriver(shared, reporting),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
    stats: () => {
      const { writer, readers: readerPool } = shared.latest
      return { writer: writer.stats(), readers: readerPool?.stats() }
    },
  }
}
