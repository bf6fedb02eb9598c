import { type SqliteDialect, sqliteDialect } from '@hotpath/pool/kysely'
import { type Generated, Kysely, sql } from 'kysely'

/** Tables of the token manager. */
export interface TokenDatabase {
  tokens: {
    id: Generated<number>
    name: string
    secret: string
    status: 'active' | 'disabled'
    usage_count: number
    last_tested_at: number | null
    last_test_ok: number | null
    refreshed_at: number | null
  }
  videos: {
    id: string
    token_id: number
    prompt: string
    status: string
    progress: number
    url: string | null
    polls: number
    created_at: number
    finished_at: number | null
  }
  usage_log: { id: Generated<number>; token_id: number; kind: string; at: number }
}

/** A token row as the app uses it. */
export interface Token {
  id: number
  name: string
  secret: string
  status: 'active' | 'disabled'
  usageCount: number
}

/** The database and its dialect (for pool stats). */
export interface OpenDatabase {
  db: Kysely<TokenDatabase>
  dialect: SqliteDialect
}

/**
 * Opens the SQLite database through the read/write split dialect: WAL, one writer connection
 * serialising writes and transactions, `readers` reader threads for selects.
 *
 * @example
 * const { db, dialect } = openDatabase('tokens.db', 2)
 */
export function openDatabase(filename: string, readers: number): OpenDatabase {
  const dialect = sqliteDialect({ filename, readers, slowQuery: '1s' })
  return { db: new Kysely<TokenDatabase>({ dialect }), dialect }
}

/** Creates the tables when missing. */
export async function migrate(db: Kysely<TokenDatabase>): Promise<void> {
  await db.schema
    .createTable('tokens')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('usage_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_tested_at', 'integer')
    .addColumn('last_test_ok', 'integer')
    .addColumn('refreshed_at', 'integer')
    .execute()
  await db.schema
    .createTable('videos')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_id', 'integer', (c) => c.notNull())
    .addColumn('prompt', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('progress', 'integer', (c) => c.notNull())
    .addColumn('url', 'text')
    .addColumn('polls', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('finished_at', 'integer')
    .execute()
  await db.schema
    .createTable('usage_log')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('token_id', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('at', 'integer', (c) => c.notNull())
    .execute()
}

/** Reads the active tokens (a select: served by a reader thread). */
export async function selectActiveTokens(db: Kysely<TokenDatabase>): Promise<Token[]> {
  const rows = await db
    .selectFrom('tokens')
    .selectAll()
    .where('status', '=', 'active')
    .orderBy('id')
    .execute()
  return rows.map(toToken)
}

/** Reads every token. */
export async function selectAllTokens(db: Kysely<TokenDatabase>): Promise<Token[]> {
  const rows = await db.selectFrom('tokens').selectAll().orderBy('id').execute()
  return rows.map(toToken)
}

/** Number of rows in `usage_log`. */
export async function countUsage(db: Kysely<TokenDatabase>): Promise<number> {
  const row = await db.selectFrom('usage_log').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

function toToken(row: {
  id: number
  name: string
  secret: string
  status: 'active' | 'disabled'
  usage_count: number
}): Token {
  return { id: row.id, name: row.name, secret: row.secret, status: row.status, usageCount: row.usage_count }
}
