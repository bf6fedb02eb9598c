import { insertMany, postgresDialect, sqliteDialect } from '@hotpath/pool/kysely'
import { type Generated, Kysely, sql } from 'kysely'

/** Tables of the chat database. */
export interface ChatDatabase {
  users: { id: string; name: string; color: string; created_at: number }
  messages: {
    id: Generated<number>
    room: string
    user_id: string
    body: string
    at: number
  }
}

/** A user profile as the server caches it. */
export interface Profile {
  id: string
  name: string
  color: string
}

/** One chat message on its way to the database. */
export interface StoredMessage {
  room: string
  userId: string
  body: string
  at: number
}

/** The open database and the stats of its connection pool(s). */
export interface ChatStore {
  readonly db: Kysely<ChatDatabase>
  readonly kind: 'sqlite' | 'postgres'
  /** Pool stats of the dialect (writer/readers for SQLite, one pool for PostgreSQL). */
  stats(): unknown
  /** Closes every connection. */
  destroy(): Promise<void>
}

/**
 * Opens the database through `@hotpath/pool/kysely`: PostgreSQL when `databaseUrl` is set,
 * SQLite (WAL, one writer, one reader, each on a worker thread) otherwise.
 *
 * @example
 * const store = openStore({ databaseUrl: undefined, sqliteFile: 'chat-room.db' })
 */
export function openStore(options: { databaseUrl: string | undefined; sqliteFile: string }): ChatStore {
  if (options.databaseUrl) {
    const dialect = postgresDialect({ connectionString: options.databaseUrl, pool: { max: 5 } })
    const db = new Kysely<ChatDatabase>({ dialect })
    return { db, kind: 'postgres', stats: () => dialect.stats(), destroy: () => db.destroy() }
  }
  const dialect = sqliteDialect({ filename: options.sqliteFile, readers: 1 })
  const db = new Kysely<ChatDatabase>({ dialect })
  return { db, kind: 'sqlite', stats: () => dialect.stats(), destroy: () => db.destroy() }
}

/**
 * Creates the tables when missing.
 *
 * @example
 * await migrate(store)
 */
export async function migrate(store: ChatStore): Promise<void> {
  const { db, kind } = store
  await db.schema
    .createTable('users')
    .ifNotExists()
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('color', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('messages')
    .ifNotExists()
    .addColumn('id', kind === 'postgres' ? 'serial' : 'integer', (c) =>
      kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('room', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('messages_room_at')
    .ifNotExists()
    .on('messages')
    .columns(['room', 'at'])
    .execute()
}

const COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324']

function colorOf(id: string): string {
  let hash = 0
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0
  return COLORS[Math.abs(hash) % COLORS.length]!
}

/**
 * Creates the user's profile on first connection (a no-op afterwards).
 *
 * @example
 * await ensureUser(db, 'alice')
 */
export async function ensureUser(db: Kysely<ChatDatabase>, id: string): Promise<void> {
  await db
    .insertInto('users')
    .values({ id, name: id, color: colorOf(id), created_at: Date.now() })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute()
}

/**
 * Reads one profile (the cache's loader).
 *
 * @example
 * const profile = await loadProfile(db, 'alice')
 */
export async function loadProfile(db: Kysely<ChatDatabase>, id: string): Promise<Profile | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'name', 'color'])
    .where('id', '=', id)
    .executeTakeFirst()
  return row ? { id: row.id, name: row.name, color: row.color } : undefined
}

/**
 * Writes one batch of messages: multi-row INSERTs in one transaction.
 *
 * @example
 * await insertMessages(db, batch)
 */
export async function insertMessages(db: Kysely<ChatDatabase>, batch: StoredMessage[]): Promise<void> {
  await insertMany(
    db,
    'messages',
    batch.map((m) => ({ room: m.room, user_id: m.userId, body: m.body, at: m.at })),
  )
}

/**
 * Number of stored messages (all rooms, or one).
 *
 * @example
 * const n = await countMessages(db, 'lobby')
 */
export async function countMessages(db: Kysely<ChatDatabase>, room?: string): Promise<number> {
  let query = db.selectFrom('messages').select(sql<number>`count(*)`.as('n'))
  if (room !== undefined) query = query.where('room', '=', room)
  const row = await query.executeTakeFirstOrThrow()
  return Number(row.n)
}

/**
 * The last `limit` stored messages of a room, oldest first.
 *
 * @example
 * const history = await recentMessages(db, 'lobby', 20)
 */
export async function recentMessages(
  db: Kysely<ChatDatabase>,
  room: string,
  limit: number,
): Promise<StoredMessage[]> {
  const rows = await db
    .selectFrom('messages')
    .select(['room', 'user_id', 'body', 'at', 'id'])
    .where('room', '=', room)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
  return rows.reverse().map((r) => ({ room: r.room, userId: r.user_id, body: r.body, at: Number(r.at) }))
}
