import type { QueryResult } from 'kysely'

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
  /**
   * Why the connection broke: the driver's error, or an `Error` saying it was aborted or closed;
   * `undefined` while it is usable. A statement refused unsent carries it as `cause`.
   */
  readonly brokenBy: unknown
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
