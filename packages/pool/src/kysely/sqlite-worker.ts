import { Worker } from 'node:worker_threads'
import type { QueryResult } from 'kysely'
import type { ConnectionLoss, SqlConnection } from './sql-connection'

/**
 * The worker's code, evaluated as CommonJS (`eval: true`) so it runs the same from source under
 * Vitest/tsx and from `dist`; better-sqlite3 is required by the path the parent resolved.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
let db
let startError
try {
  const Database = require(workerData.modulePath)
  db = new Database(workerData.filename, { readonly: workerData.readonly })
  for (const pragma of workerData.pragmas) db.pragma(pragma)
} catch (error) {
  startError = { message: String(error && error.message), code: error && error.code }
}
const cache = new Map()
function prepare(sql) {
  let statement = cache.get(sql)
  if (statement === undefined) {
    statement = db.prepare(sql)
    if (cache.size >= 256) cache.delete(cache.keys().next().value)
    cache.set(sql, statement)
  }
  return statement
}
function bind(params) {
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p))
}
parentPort.on('message', (message) => {
  const id = message.id
  try {
    const statement = prepare(message.sql)
    if (statement.reader) parentPort.postMessage({ id, rows: statement.all(bind(message.params)) })
    else {
      const info = statement.run(bind(message.params))
      parentPort.postMessage({ id, changes: info.changes, lastInsertRowid: info.lastInsertRowid })
    }
  } catch (error) {
    parentPort.postMessage({ id, error: { message: String(error && error.message), code: error && error.code } })
  }
})
parentPort.postMessage(startError ? { id: 0, error: startError } : { id: 0, ready: true })
`

interface Reply {
  id: number
  ready?: boolean
  rows?: unknown[]
  changes?: number
  lastInsertRowid?: number | bigint
  error?: { message: string; code?: string }
}

/**
 * A better-sqlite3 error carried over from the worker.
 *
 * @example
 * if (err instanceof SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE') return conflict()
 */
export class SqliteError extends Error {
  /** The SQLite result code, e.g. `SQLITE_CONSTRAINT_UNIQUE`. */
  readonly code: string | undefined

  constructor(message: string, code: string | undefined) {
    super(message)
    this.name = 'SqliteError'
    this.code = code
  }
}

const CLOSED = 'The SQLite connection is closed.'

const FATAL = /^SQLITE_(IOERR|CORRUPT|NOTADB|CANTOPEN|FULL)/

/** @internal Errors that mean the database handle cannot be trusted any more. */
export function isSqliteFatal(error: unknown): boolean {
  if (!(error instanceof SqliteError)) return true
  return error.code === undefined || FATAL.test(error.code)
}

/** @internal One SQLite connection living on its own worker thread. */
export class WorkerConnection implements SqlConnection {
  readonly #worker: Worker
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void }>()
  #nextId = 1
  broken = false
  brokenBy: unknown = undefined

  private constructor(worker: Worker) {
    this.#worker = worker
    worker.on('message', (reply: Reply) => {
      const entry = this.#pending.get(reply.id)
      if (entry === undefined) return
      this.#pending.delete(reply.id)
      if (this.#pending.size === 0) worker.unref()
      entry.resolve(reply)
    })
    const fail = (error: unknown) => {
      this.#breakWith(error)
      for (const entry of this.#pending.values()) entry.reject(error)
      this.#pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', () => fail(new Error('The SQLite worker exited.')))
  }

  /** Marks the connection broken; the first reason is the one kept. */
  #breakWith(reason: unknown): void {
    this.broken = true
    this.brokenBy ??= reason
  }

  /** Starts a worker with one database handle. */
  static open(
    modulePath: string,
    filename: string,
    readonly: boolean,
    pragmas: string[],
  ): Promise<WorkerConnection> {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { modulePath, filename, readonly, pragmas },
    })
    const connection = new WorkerConnection(worker)
    return connection.#send(0, undefined).then(
      (reply) => {
        if (reply.error) {
          void worker.terminate()
          throw new SqliteError(reply.error.message, reply.error.code)
        }
        return connection
      },
      (error: unknown) => {
        void worker.terminate()
        throw error
      },
    )
  }

  #send(id: number, message: object | undefined): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref()
      this.#pending.set(id, { resolve, reject })
      if (message !== undefined) this.#worker.postMessage(message)
    })
  }

  async execute(sql: string, parameters: readonly unknown[]): Promise<QueryResult<unknown>> {
    if (this.broken) throw new Error(CLOSED)
    const id = this.#nextId++
    const reply = await this.#send(id, { id, sql, params: parameters })
    if (reply.error) throw new SqliteError(reply.error.message, reply.error.code)
    if (reply.rows !== undefined) return { rows: reply.rows }
    return {
      numAffectedRows: BigInt(reply.changes ?? 0),
      insertId: reply.lastInsertRowid === undefined ? undefined : BigInt(reply.lastInsertRowid),
      rows: [],
    }
  }

  abort(): void {
    this.#breakWith(new Error('The connection was aborted.'))
    void this.#worker.terminate()
  }

  isFatal(error: unknown): boolean {
    return isSqliteFatal(error)
  }

  lost(error: unknown): ConnectionLoss | undefined {
    if (error instanceof SqliteError) return undefined
    if (error instanceof Error && error.message === CLOSED) return 'unsent'
    // The worker died (exit or uncaught error) while it held the statement.
    return this.broken ? 'sent' : undefined
  }

  keepAlive(): void {
    // The worker is referenced exactly while a statement is in flight (see #send), lent or not.
  }

  async ping(): Promise<boolean> {
    return !this.broken
  }

  async close(): Promise<void> {
    this.#breakWith(new Error('The connection was closed by the pool.'))
    // Not awaited: a worker inside a long statement only stops when the statement returns
    // (better-sqlite3 exposes no sqlite3_interrupt), and closing the pool must not wait for it.
    void this.#worker.terminate()
  }
}
