import { abortReason, onAbort, schedule } from '@hotpath/core'
import {
  type Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely'
import type { DialectPoolOptions } from './connection-pool'
import { NetworkConnection } from './network-connection'
import { type NetworkDatabase, networkDialect, type PooledDialect } from './network-dialect'
import type { QueryReportingOptions } from './reporting'
import type { ConnectionLoss } from './sql-connection'

/**
 * The part of a mysql2 (callback API) connection the dialect uses.
 *
 * @example
 * const connection: MysqlConnectionLike = mysql2.createConnection({ uri })
 */
export interface MysqlConnectionLike {
  connect(callback: (error: Error | null) => void): void
  query(sql: string, values: unknown[], callback: (error: Error | null, result: unknown) => void): void
  end(callback?: (error?: Error | null) => void): void
  destroy(): void
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown
  readonly threadId: number | null
}

/**
 * The part of the `mysql2` module the dialect uses.
 *
 * @example
 * mysqlDialect({ uri, mysql: mysql2 })
 */
export interface MysqlModuleLike {
  createConnection(config: object | string): MysqlConnectionLike
}

/**
 * Options of {@link mysqlDialect}.
 *
 * @example
 * mysqlDialect({ uri: process.env.MYSQL_URL, pool: { max: 100, maxLifetime: '1h' } })
 */
export interface MysqlDialectOptions extends QueryReportingOptions {
  /**
   * `mysql://user:pass@host:3306/db`.
   * @default none
   */
  uri?: string
  /**
   * Any other mysql2 connection config (host, user, database, ssl, ...).
   * @default {}
   */
  connection?: Record<string, unknown>
  /**
   * Pool settings (`max`, `min`, `acquireTimeout`, `maxLifetime`, ...).
   * @default { max: 10 } and the pool defaults
   */
  pool?: DialectPoolOptions
  /**
   * The `mysql2` module to use.
   * @default `mysql2`, loaded on first connect
   */
  mysql?: MysqlModuleLike
}

interface OkPacket {
  affectedRows: number
  changedRows?: number
  insertId: number | bigint
}

function isOkPacket(result: unknown): result is OkPacket {
  return typeof result === 'object' && result !== null && !Array.isArray(result) && 'affectedRows' in result
}

/** @internal mysql2 marks errors that end the connection with `fatal: true`. */
export function isMysqlFatal(error: unknown): boolean {
  const e = error as { fatal?: unknown; errno?: unknown } | null
  if (e?.fatal === true) return true
  return typeof e?.errno !== 'number'
}

/** mysql2's codes for a command refused because the connection had already closed. */
const UNSENT = new Set(['PROTOCOL_ENQUEUE_AFTER_QUIT', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR'])
/** ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED (MariaDB): the server ended the session mid-statement. */
const KILLED_ERRNOS = new Set([1053, 1927])

/**
 * @internal How mysql2 reports a lost connection: a command refused on a closed connection
 * (never sent), or a fatal error or a server-side kill while the statement ran (reply lost).
 */
export function mysqlConnectionLoss(error: unknown): ConnectionLoss | undefined {
  const e = (error ?? {}) as { fatal?: unknown; errno?: unknown; code?: unknown; message?: unknown }
  if (
    (typeof e.code === 'string' && UNSENT.has(e.code)) ||
    (typeof e.message === 'string' && e.message.includes('connection is in closed state'))
  )
    return 'unsent'
  if (e.fatal === true || (typeof e.errno === 'number' && KILLED_ERRNOS.has(e.errno))) return 'sent'
  return undefined
}

class MysqlConnection extends NetworkConnection {
  readonly #connection: MysqlConnectionLike

  constructor(connection: MysqlConnectionLike, kill: (threadId: number) => Promise<void>) {
    super(connection, MYSQL, kill)
    this.#connection = connection
  }

  protected send(sql: string, parameters: readonly unknown[]): Promise<QueryResult<unknown>> {
    return new Promise((resolve, reject) => {
      this.#connection.query(sql, parameters as unknown[], (error, result) => {
        if (error) reject(error)
        else if (isOkPacket(result)) {
          resolve({
            // 0 means no auto-increment value was generated (INSERT IGNORE that inserted
            // nothing, a table without AUTO_INCREMENT): Kysely's own driver reports undefined.
            insertId:
              result.insertId === undefined || result.insertId === null || String(result.insertId) === '0'
                ? undefined
                : BigInt(result.insertId),
            numAffectedRows: BigInt(result.affectedRows),
            numChangedRows: result.changedRows === undefined ? undefined : BigInt(result.changedRows),
            rows: [],
          })
        } else resolve({ rows: Array.isArray(result) ? result : [] })
      })
    })
  }

  protected sessionId(): number | null {
    return this.#connection.threadId
  }

  protected socket(): unknown {
    return (this.#connection as { stream?: unknown }).stream
  }

  protected end(): Promise<void> {
    return new Promise((resolve) => {
      const timer = schedule(() => {
        this.#connection.destroy()
        resolve()
      }, 1_000)
      this.#connection.end(() => {
        timer.cancel()
        resolve()
      })
    })
  }
}

function connectWith(
  mysql: MysqlModuleLike,
  config: object | string,
  signal?: AbortSignal,
): Promise<MysqlConnectionLike> {
  const connection = mysql.createConnection(config)
  connection.on('error', () => {})
  return new Promise((resolve, reject) => {
    // a create given up by the pool (createTimeout, close) must not leave a socket behind
    const off = onAbort(signal, () => {
      connection.destroy()
      reject(abortReason(signal as AbortSignal))
    })
    connection.connect((error) => {
      off()
      if (error) {
        connection.destroy()
        reject(error)
      } else resolve(connection)
    })
  })
}

/**
 * MySQL's BEGIN: the isolation level is set for the next transaction, the access mode is part of
 * START TRANSACTION (one statement fewer than `SET TRANSACTION ...; BEGIN`).
 */
function mysqlBegin(settings: TransactionSettings): string[] {
  const statements: string[] = []
  if (settings.isolationLevel) statements.push(`set transaction isolation level ${settings.isolationLevel}`)
  statements.push(settings.accessMode ? `start transaction ${settings.accessMode}` : 'begin')
  return statements
}

/** MySQL and MariaDB through `mysql2`, as {@link networkDialect} needs them. */
const MYSQL: NetworkDatabase<MysqlModuleLike> = {
  dialect: 'mysqlDialect()',
  name: 'mysql',
  urlOption: 'uri',
  moduleOption: 'mysql',
  moduleName: 'mysql2',
  isFatal: isMysqlFatal,
  lost: mysqlConnectionLoss,
  begin: mysqlBegin,
  releaseSavepoint: 'release savepoint',
  connect: async (mysql, config, signal, kill) =>
    new MysqlConnection(await connectWith(mysql, config, signal), kill),
  async cancel(mysql, config, threadId) {
    const side = await connectWith(mysql, config)
    side.on('error', () => {})
    await new Promise<void>((resolve) => side.query(`kill query ${Number(threadId)}`, [], () => resolve()))
    side.end()
  },
  adapter: () => new MysqlAdapter(),
  compiler: () => new MysqlQueryCompiler(),
  introspector: (db: Kysely<unknown>) => new MysqlIntrospector(db),
}

/**
 * A Kysely dialect for MySQL/MariaDB (`mysql2`) on a hotpath pool: one deadline per connection
 * wait, create retries with backoff, max lifetime, keepalive, broken connections destroyed,
 * queries abortable with {@link withQuerySignal} (`KILL QUERY`), slow queries reported.
 *
 * @example
 * const db = new Kysely<DB>({ dialect: mysqlDialect({ uri: process.env.MYSQL_URL, pool: { max: 20 } }) })
 */
export function mysqlDialect(options: MysqlDialectOptions = {}): PooledDialect {
  return networkDialect(MYSQL, options)
}
