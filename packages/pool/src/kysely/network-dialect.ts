import {
  checkKnownOptions,
  checkOptionsObject,
  checkString,
  describeMetrics,
  type MetricsDescriptor,
  metricsSource,
} from '@hotpath/core'
import type { DatabaseIntrospector, Dialect, DialectAdapter, Kysely, QueryCompiler } from 'kysely'
import type { PoolStats } from '../pool-types'
import {
  checkConnectionPoolOptions,
  createConnectionPool,
  type DialectPoolOptions,
  SharedPools,
} from './connection-pool'
import { loadModule } from './load'
import type { NetworkConnection, SessionErrors } from './network-connection'
import { PooledDriver } from './pooled-driver'
import { type QueryReportingOptions, REPORTING_OPTIONS, resolveReporting } from './reporting'
import type { TransactionSyntax } from './session'

/**
 * A Kysely dialect that also exposes its pool's stats.
 *
 * @example
 * const dialect = postgresDialect({ connectionString }); dialect.stats().borrowed
 */
export interface PooledDialect extends Dialect {
  /** The pool's stats. */
  stats(): PoolStats
  /** Lets `collect()` from @hotpath/metrics read this dialect's pool's stats. */
  readonly [metricsSource]: () => MetricsDescriptor
}

/**
 * What one network database (PostgreSQL, MySQL) is to {@link networkDialect}: its option names,
 * its client module, how a client connects and cancels a statement, its errors, its transaction
 * SQL and Kysely's adapter, compiler and introspector for it. `M` is the client module.
 * @internal
 */
export interface NetworkDatabase<M> extends SessionErrors, TransactionSyntax {
  /** The dialect factory, as named in option errors: `postgresDialect()`. */
  readonly dialect: string
  /** The pool's name unless `pool.name` gives one. */
  readonly name: string
  /** The option holding the connection URL, copied into the client config under that key. */
  readonly urlOption: string
  /** The option passing the client module. */
  readonly moduleOption: string
  /** The package loaded on first connect when `moduleOption` is not given. */
  readonly moduleName: string
  /**
   * Opens a connection, giving up (and leaving no socket behind) when `signal` aborts; `cancel`
   * is for the connection's {@link NetworkConnection.abort}.
   */
  connect(
    module: M,
    config: Record<string, unknown>,
    signal: AbortSignal,
    cancel: (sessionId: number) => Promise<void>,
  ): Promise<NetworkConnection>
  /** Stops the statement running in the server session `sessionId`, from a side connection. */
  cancel(module: M, config: Record<string, unknown>, sessionId: number): Promise<void>
  adapter(): DialectAdapter
  compiler(): QueryCompiler
  introspector(db: Kysely<unknown>): DatabaseIntrospector
}

/** @internal The options every network dialect takes, besides its URL and module options. */
export interface NetworkDialectOptions extends QueryReportingOptions {
  connection?: Record<string, unknown>
  pool?: DialectPoolOptions
}

/**
 * The dialect of a network database on a hotpath pool: options checked synchronously where the
 * dialect is created, the client module loaded and the pool opened on first use, connections idle
 * in the pool never keeping the process alive.
 * @internal
 */
export function networkDialect<M>(
  database: NetworkDatabase<M>,
  options: NetworkDialectOptions,
): PooledDialect {
  checkOptionsObject('options', options)
  checkKnownOptions(database.dialect, options, [
    database.urlOption,
    'connection',
    'pool',
    database.moduleOption,
    ...REPORTING_OPTIONS,
  ])
  const given = options as Record<string, unknown>
  const config: Record<string, unknown> = { ...checkOptionsObject('connection', options.connection) }
  if (given[database.urlOption] !== undefined)
    config[database.urlOption] = checkString(database.urlOption, given[database.urlOption])
  let client = given[database.moduleOption] as M | undefined
  const loadClient = async () => {
    client ??= await loadModule<M>(database.moduleName)
    return client
  }
  const cancel = async (sessionId: number) => database.cancel(await loadClient(), config, sessionId)
  const connect = async (signal: AbortSignal) => {
    const connection = await database.connect(await loadClient(), config, signal, cancel)
    // Idle in the pool until lent: it does not keep the process alive.
    connection.keepAlive(false)
    return connection
  }
  const name = options.pool?.name ?? database.name
  const reporting = resolveReporting(options, name)
  checkConnectionPoolOptions(options.pool, name)
  const shared = new SharedPools(() => createConnectionPool(connect, options.pool, name))
  return {
    createAdapter: () => database.adapter(),
    createDriver: () => new PooledDriver(shared, reporting, database),
    createQueryCompiler: () => database.compiler(),
    createIntrospector: (db: Kysely<unknown>) => database.introspector(db),
    stats: () => shared.latest.stats(),
    [metricsSource]: describeMetrics('pool', () => shared.latest.stats()),
  }
}
