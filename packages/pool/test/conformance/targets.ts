import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { databaseUrl, mysqlUrl, tempMysqlDatabase, tempPgSchema } from '@hotpath/test-utils'
import Database from 'better-sqlite3'
import type { Dialect } from 'kysely'
import * as kysely from 'kysely'
import mysqlCallbacks from 'mysql2'
import mysql from 'mysql2/promise'
import pg from 'pg'
import Cursor from 'pg-cursor'
import { mysqlDialect, postgresDialect, sqliteDialect } from '../../src/kysely'

/**
 * Kysely's own dialect classes, the control: the workspace's release by default, or another
 * release's (typed loosely, as their classes are not the workspace's).
 */
export interface ControlDialects {
  PostgresDialect: new (config: never) => unknown
  MysqlDialect: new (config: never) => unknown
  SqliteDialect: new (config: never) => unknown
}

const workspaceDialects = kysely as unknown as ControlDialects

/** `url` with its host and port replaced by `via`'s. */
function through(url: string, via?: { host: string; port: number }): string {
  if (!via) return url
  const parsed = new URL(url)
  parsed.hostname = via.host
  parsed.port = String(via.port)
  return parsed.toString()
}

/** Which database a target runs on. */
export type Engine = 'postgres' | 'mysql' | 'sqlite'

/** One database, fresh for one scenario, and how to build dialects over it. */
export interface Fixture {
  /**
   * A new dialect object over this database (hotpath's or Kysely's, per target); `via` connects
   * through another host and port (a fault proxy in front of the server).
   */
  dialect(options?: { max?: number; via?: { host: string; port: number } }): Dialect
  /** The server's URL, for the server engines. */
  url?: string
  /** Ends a server session from another connection (`pg_terminate_backend`, `KILL CONNECTION`). */
  kill(sessionId: number): Promise<void>
  /** Runs SQL on a connection of its own, outside any dialect. */
  admin(sql: string): Promise<unknown[]>
  close(): Promise<void>
}

/** A dialect configuration the conformance scenarios run against. */
export interface Target {
  name: string
  engine: Engine
  /** Kysely's own dialect, the control. */
  control: boolean
  /** SQLite only: a file (not `:memory:`) and the reader count. */
  sqlite?: { file: boolean; readers: number }
  /** The session id SQL (a row `{ id }`), for the server engines. */
  sessionIdSql?: string
  /** SQL that sleeps `seconds` on the server. */
  sleepSql(seconds: number): string
  open(): Promise<Fixture>
}

async function pgAdmin(sql: string, values: unknown[] = []): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: databaseUrl() })
  await client.connect()
  try {
    return (await client.query(sql, values)).rows
  } finally {
    await client.end()
  }
}

async function mysqlAdmin(sql: string, url = mysqlUrl()): Promise<unknown[]> {
  const connection = await mysql.createConnection({ uri: url })
  try {
    const [rows] = await connection.query(sql)
    return Array.isArray(rows) ? rows : []
  } finally {
    await connection.end()
  }
}

function postgresTarget(control: boolean, { PostgresDialect }: ControlDialects): Target {
  return {
    name: control ? "kysely's PostgresDialect" : 'postgresDialect',
    engine: 'postgres',
    control,
    sessionIdSql: 'select pg_backend_pid() as id',
    sleepSql: (seconds) => `select pg_sleep(${seconds})`,
    async open() {
      const schema = await tempPgSchema()
      return {
        url: schema.url,
        dialect: ({ max = 4, via } = {}) =>
          control
            ? (new PostgresDialect({
                pool: async () => new pg.Pool({ connectionString: through(schema.url, via), max }),
                cursor: Cursor,
              } as never) as Dialect)
            : postgresDialect({
                connectionString: through(schema.url, via),
                pool: { max, acquireTimeout: '10s' },
              }),
        kill: async (id) => {
          await pgAdmin('select pg_terminate_backend($1)', [id])
        },
        admin: async (sql) => {
          const client = new pg.Client({ connectionString: schema.url })
          await client.connect()
          try {
            return (await client.query(sql)).rows
          } finally {
            await client.end()
          }
        },
        close: () => schema.drop(),
      }
    },
  }
}

function mysqlTarget(control: boolean, { MysqlDialect }: ControlDialects): Target {
  return {
    name: control ? "kysely's MysqlDialect" : 'mysqlDialect',
    engine: 'mysql',
    control,
    sessionIdSql: 'select connection_id() as id',
    sleepSql: (seconds) => `select sleep(${seconds})`,
    async open() {
      const database = await tempMysqlDatabase()
      return {
        url: database.url,
        dialect: ({ max = 4, via } = {}) =>
          control
            ? (new MysqlDialect({
                pool: async () =>
                  mysqlCallbacks.createPool({ uri: through(database.url, via), connectionLimit: max }),
              } as never) as Dialect)
            : mysqlDialect({ uri: through(database.url, via), pool: { max, acquireTimeout: '10s' } }),
        kill: async (id) => {
          await mysqlAdmin(`kill connection ${Number(id)}`)
        },
        admin: (sql) => mysqlAdmin(sql, database.url),
        close: () => database.drop(),
      }
    },
  }
}

function sqliteTarget(
  control: boolean,
  file: boolean,
  readers: number,
  { SqliteDialect }: ControlDialects,
): Target {
  const where = file ? 'file' : ':memory:'
  return {
    name: control ? `kysely's SqliteDialect (${where})` : `sqliteDialect (${where}, readers ${readers})`,
    engine: 'sqlite',
    control,
    sqlite: { file, readers },
    sleepSql: () => {
      throw new Error('SQLite has no sleep')
    },
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'hotpath-conformance-'))
      const filename = file ? join(dir, 'test.db') : ':memory:'
      return {
        dialect: () =>
          control
            ? (new SqliteDialect({ database: async () => new Database(filename) } as never) as Dialect)
            : sqliteDialect({ filename, readers }),
        kill: async () => {
          throw new Error('SQLite has no server session to kill')
        },
        admin: async (sql) => {
          if (!file) throw new Error(':memory: has no second connection')
          const db = new Database(filename)
          try {
            const statement = db.prepare(sql)
            return statement.reader ? statement.all() : [statement.run()]
          } finally {
            db.close()
          }
        },
        close: async () => rmSync(dir, { recursive: true, force: true }),
      }
    },
  }
}

/**
 * Every target of an engine: hotpath's dialect configurations, then Kysely's as the control
 * (`control` picks the release whose dialect classes those are).
 */
export function targetsOf(engine: Engine, control: ControlDialects = workspaceDialects): Target[] {
  if (engine === 'postgres') return [postgresTarget(false, control), postgresTarget(true, control)]
  if (engine === 'mysql') return [mysqlTarget(false, control), mysqlTarget(true, control)]
  return [
    sqliteTarget(false, true, 0, control),
    sqliteTarget(false, true, 2, control),
    sqliteTarget(false, false, 0, control),
    sqliteTarget(true, true, 0, control),
    sqliteTarget(true, false, 0, control),
  ]
}
