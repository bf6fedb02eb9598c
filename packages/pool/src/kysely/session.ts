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
import type { Lease } from '../lease'
import type { Reporting } from './reporting'
import type { SqlConnection } from './sql-connection'
import { runStatement } from './statement'

/**
 * The transaction SQL that differs between databases: the statements that begin a transaction
 * with Kysely's settings, and the command that releases a savepoint.
 * @internal
 */
export interface TransactionSyntax {
  /** The statements run in order to begin a transaction. */
  begin(settings: TransactionSettings): string[]
  /** What precedes the savepoint's name to release it: `release` or `release savepoint`. */
  readonly releaseSavepoint: string
}

/** @internal PostgreSQL-style `start transaction isolation level ..., read only`. */
export function standardBegin(settings: TransactionSettings): string[] {
  if (!settings.isolationLevel && !settings.accessMode) return ['begin']
  let sql = 'start transaction'
  if (settings.isolationLevel) sql += ` isolation level ${settings.isolationLevel}`
  if (settings.accessMode) sql += `${settings.isolationLevel ? ',' : ''} ${settings.accessMode}`
  return [sql]
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
 * Transactions and savepoints over {@link SessionConnection}s, shared by every dialect; what
 * differs between databases is their {@link TransactionSyntax}. Every statement, BEGIN and
 * COMMIT included, goes through the connection's `executeQuery`, so Kysely's `log` sees it.
 * @internal
 */
export abstract class SessionDriver implements Driver {
  readonly #syntax: TransactionSyntax

  constructor(syntax: TransactionSyntax) {
    this.#syntax = syntax
  }

  abstract init(): Promise<void>
  abstract acquireConnection(): Promise<DatabaseConnection>
  abstract destroy(): Promise<void>

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const session = connection as SessionConnection
    await session.hold()
    for (const sql of this.#syntax.begin(settings)) await connection.executeQuery(CompiledQuery.raw(sql))
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
    return runSavepoint(connection, this.#syntax.releaseSavepoint, name, compileQuery)
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
