import { abortReason, onAbort } from '@hotpath/core'
import {
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from 'kysely'
import type { DialectPoolOptions } from './connection-pool'
import { NetworkConnection } from './network-connection'
import { type NetworkDatabase, networkDialect, type PooledDialect } from './network-dialect'
import type { QueryReportingOptions } from './reporting'
import { standardBegin } from './session'
import type { ConnectionLoss } from './sql-connection'

/**
 * The part of a `pg.Client` the dialect uses.
 *
 * @example
 * const client: PgClientLike = new pg.Client({ connectionString })
 */
export interface PgClientLike {
  connect(): Promise<unknown>
  query(config: { text: string; values: unknown[] }): Promise<{
    rows: unknown[]
    rowCount: number | null
    command: string
  }>
  end(): Promise<unknown>
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown
  readonly processID?: number | null
}

/**
 * The part of the `pg` module the dialect uses.
 *
 * @example
 * postgresDialect({ connectionString, pg })
 */
export interface PgModuleLike {
  Client: new (config: object) => PgClientLike
}

/**
 * Options of {@link postgresDialect}.
 *
 * @example
 * postgresDialect({ connectionString: process.env.DATABASE_URL, pool: { max: 20 } })
 */
export interface PostgresDialectOptions extends QueryReportingOptions {
  /**
   * `postgres://user:pass@host:5432/db`; merged into `connection`.
   * @default none (pg reads the PG* environment variables)
   */
  connectionString?: string
  /**
   * Any other `pg.Client` config (ssl, statement_timeout, ...).
   * @default {}
   */
  connection?: Record<string, unknown>
  /**
   * Pool settings (`max`, `min`, `acquireTimeout`, `maxLifetime`, ...).
   * @default { max: 10 } and the pool defaults
   */
  pool?: DialectPoolOptions
  /**
   * The `pg` module to use.
   * @default `pg`, loaded on first connect
   */
  pg?: PgModuleLike
}

const SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED'])

/**
 * How an error's `code` reads: a socket error, a SQLSTATE that ends the session, another
 * SQLSTATE, or neither. Socket codes are tested first: `EPIPE` also has the five-character
 * SQLSTATE shape and would otherwise read as a harmless statement error.
 */
function pgCodeKind(code: unknown): 'socket' | 'fatal' | 'statement' | undefined {
  if (typeof code !== 'string') return undefined
  if (SOCKET_ERRORS.has(code)) return 'socket'
  if (/^[0-9A-Z]{5}$/.test(code))
    return code.startsWith('08') || code.startsWith('57P') ? 'fatal' : 'statement'
  return undefined
}

/** @internal Whether the session is gone: a socket error, SQLSTATE class 08 or 57P, or no SQLSTATE. */
export function isPgFatal(error: unknown): boolean {
  return pgCodeKind((error as { code?: unknown } | null)?.code) !== 'statement'
}

/**
 * @internal How `pg` reports a lost connection: SQLSTATE class 08 or 57P (the server ended the
 * session while the statement ran), a socket error or "Connection terminated" (sent, reply lost),
 * or "... is not queryable" (refused before sending).
 */
export function pgConnectionLoss(error: unknown): ConnectionLoss | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  const kind = pgCodeKind(code)
  if (kind === 'socket' || kind === 'fatal') return 'sent'
  if (kind === 'statement') return undefined
  if (typeof message !== 'string') return undefined
  if (message.includes('is not queryable')) return 'unsent'
  if (message.startsWith('Connection terminated')) return 'sent'
  return undefined
}

class PgConnection extends NetworkConnection {
  readonly #client: PgClientLike

  constructor(client: PgClientLike, cancel: (pid: number) => Promise<void>) {
    super(client, POSTGRES, cancel)
    this.#client = client
  }

  protected async send(sql: string, parameters: readonly unknown[]): Promise<QueryResult<unknown>> {
    const result = await this.#client.query({ text: sql, values: parameters as unknown[] })
    const command = result.command
    if (
      (command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE') &&
      result.rowCount !== null
    ) {
      return { numAffectedRows: BigInt(result.rowCount), rows: result.rows ?? [] }
    }
    return { rows: result.rows ?? [] }
  }

  protected sessionId(): number | null | undefined {
    return this.#client.processID
  }

  protected socket(): unknown {
    return (this.#client as { connection?: { stream?: unknown } }).connection?.stream
  }

  protected async end(): Promise<void> {
    await this.#client.end().catch(() => {})
  }
}

/** PostgreSQL through `pg`, as {@link networkDialect} needs it. */
const POSTGRES: NetworkDatabase<PgModuleLike> = {
  dialect: 'postgresDialect()',
  name: 'postgres',
  urlOption: 'connectionString',
  moduleOption: 'pg',
  moduleName: 'pg',
  isFatal: isPgFatal,
  lost: pgConnectionLoss,
  begin: standardBegin,
  releaseSavepoint: 'release',
  async connect(pg, config, signal, cancel) {
    const client = new pg.Client(config)
    const connection = new PgConnection(client, cancel)
    // a create given up by the pool (createTimeout, close) must not leave a socket behind
    const off = onAbort(signal, () => void client.end().catch(() => {}))
    try {
      await client.connect()
    } catch (error) {
      await client.end().catch(() => {})
      throw error
    } finally {
      off()
    }
    if (signal.aborted) {
      await connection.close()
      throw abortReason(signal)
    }
    return connection
  },
  async cancel(pg, config, pid) {
    const client = new pg.Client(config)
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query({ text: 'select pg_cancel_backend($1)', values: [pid] })
    } finally {
      await client.end().catch(() => {})
    }
  },
  adapter: () => new PostgresAdapter(),
  compiler: () => new PostgresQueryCompiler(),
  introspector: (db: Kysely<unknown>) => new PostgresIntrospector(db),
}

/**
 * A Kysely dialect for PostgreSQL (`pg`) on a hotpath pool: one deadline per connection wait,
 * create retries with backoff, max lifetime, keepalive, broken connections destroyed, queries
 * abortable with {@link withQuerySignal}, slow queries reported.
 *
 * @example
 * const db = new Kysely<DB>({
 *   dialect: postgresDialect({ connectionString: process.env.DATABASE_URL, pool: { max: 20 }, slowQuery: '1s' }),
 * })
 */
export function postgresDialect(options: PostgresDialectOptions = {}): PooledDialect {
  return networkDialect(POSTGRES, options)
}
