import type { QueryResult } from 'kysely'
import type { ConnectionLoss, SqlConnection } from './sql-connection'

/**
 * How a database's client reports errors: which ones end the session, and which ones mean the
 * connection was lost (see {@link SqlConnection.lost}).
 * @internal
 */
export interface SessionErrors {
  /** Whether the error means the session is gone. */
  isFatal(error: unknown): boolean
  /** How the statement that failed with this error met a lost connection, if it did. */
  lost(error: unknown): ConnectionLoss | undefined
}

/** The client events a {@link NetworkConnection} listens to. */
interface ClientEvents {
  on(event: 'error' | 'end', listener: (error?: unknown) => void): unknown
}

/**
 * A connection to a database server over a socket (pg, mysql2). The flow is shared: a client
 * error or the socket's end breaks the connection, a fatal statement error breaks it, an abort
 * breaks it and cancels the running statement through a side connection (best effort), the
 * socket is referenced only while lent, and closing says goodbye with the socket referenced.
 * A subclass provides the client calls; {@link SessionErrors} says how the database's errors read.
 * @internal
 */
export abstract class NetworkConnection implements SqlConnection {
  broken = false
  brokenBy: unknown = undefined
  readonly #errors: SessionErrors
  readonly #cancel: (sessionId: number) => Promise<void>

  /** `cancel` stops the statement running in the server session of that id. */
  constructor(client: ClientEvents, errors: SessionErrors, cancel: (sessionId: number) => Promise<void>) {
    this.#errors = errors
    this.#cancel = cancel
    // Broken once the client reports an error or its socket ends (the server closed it, or the
    // network did), so the driver never lends or reuses it.
    client.on('error', (error) => this.#breakWith(error))
    client.on('end', () => this.#breakWith(new Error('The server or the network closed the connection.')))
  }

  /** Marks the connection broken; the first reason is the one kept. */
  #breakWith(reason: unknown): void {
    this.broken = true
    this.brokenBy ??= reason
  }

  /** Runs one statement on the client and maps its result. */
  protected abstract send(sql: string, parameters: readonly unknown[]): Promise<QueryResult<unknown>>

  /** The server's id of this session (a backend pid, a thread id), if the client knows it. */
  protected abstract sessionId(): number | null | undefined

  /** The client's socket, if it exposes one. */
  protected abstract socket(): unknown

  /** Ends the client's session; resolves once it is closed, never rejects. */
  protected abstract end(): Promise<void>

  async execute(sql: string, parameters: readonly unknown[]): Promise<QueryResult<unknown>> {
    try {
      return await this.send(sql, parameters)
    } catch (error) {
      if (this.#errors.isFatal(error)) this.#breakWith(error)
      throw error
    }
  }

  abort(): void {
    if (this.broken) return
    this.#breakWith(new Error('The connection was aborted.'))
    const id = this.sessionId()
    if (typeof id === 'number') void this.#cancel(id).catch(() => {})
  }

  isFatal(error: unknown): boolean {
    return this.#errors.isFatal(error)
  }

  lost(error: unknown): ConnectionLoss | undefined {
    return this.#errors.lost(error)
  }

  keepAlive(active: boolean): void {
    const handle = this.socket() as { ref?: () => unknown; unref?: () => unknown } | undefined
    if (active) handle?.ref?.()
    else handle?.unref?.()
  }

  /** Runs `select 1`, referenced for the round trip so the process does not exit half-way. */
  async ping(): Promise<boolean> {
    this.keepAlive(true)
    try {
      await this.execute('select 1', [])
      return true
    } catch {
      return false
    } finally {
      this.keepAlive(false)
    }
  }

  async close(): Promise<void> {
    this.#breakWith(new Error('The connection was closed by the pool.'))
    // An unreferenced socket would let the process exit before the goodbye completes.
    this.keepAlive(true)
    await this.end()
  }
}
