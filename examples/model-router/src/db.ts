import { postgresDialect, sqliteDialect } from '@hotpath/pool/kysely'
import { type Generated, Kysely, sql } from 'kysely'
import type { ModelEntry, ProviderEntry } from './catalog'

/** Tables of the router's database. */
export interface RouterDatabase {
  models: { id: string; owned_by: string; providers: string }
  providers: { name: string; url: string }
  request_metrics: {
    id: Generated<number>
    model: string
    provider: string
    status: number
    latency_ms: number
    at: number
  }
}

/** One request's figures, written in batches. */
export interface RequestMetric {
  model: string
  provider: string
  status: number
  latencyMs: number
  at: number
}

/** The database and the stats of its connection pool(s). */
export interface RouterDb {
  db: Kysely<RouterDatabase>
  /** Pool stats of the dialect (one pool for PostgreSQL, writer + readers for SQLite). */
  poolStats(): unknown
}

/**
 * Opens the database through the pool package's dialects: PostgreSQL when `databaseUrl` is set,
 * SQLite (WAL, one writer, one reader thread) otherwise. Queries slower than 1 s are reported.
 *
 * @example
 * const { db } = openDatabase({ databaseUrl: undefined, sqliteFile: 'router.db' })
 */
export function openDatabase(options: { databaseUrl: string | undefined; sqliteFile: string }): RouterDb {
  if (options.databaseUrl) {
    const dialect = postgresDialect({
      connectionString: options.databaseUrl,
      pool: { max: 10 },
      slowQuery: '1s',
    })
    return { db: new Kysely({ dialect }), poolStats: () => dialect.stats() }
  }
  const dialect = sqliteDialect({ filename: options.sqliteFile, readers: 1, slowQuery: '1s' })
  return { db: new Kysely({ dialect }), poolStats: () => dialect.stats() }
}

/**
 * Creates the tables when missing and replaces the catalog with `models` and `providers`.
 *
 * @example
 * await migrate(db, CATALOG_MODELS, providers)
 */
export async function migrate(
  db: Kysely<RouterDatabase>,
  models: ModelEntry[],
  providers: ProviderEntry[],
): Promise<void> {
  await db.schema
    .createTable('models')
    .ifNotExists()
    .addColumn('id', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('owned_by', 'varchar(100)', (c) => c.notNull())
    .addColumn('providers', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('providers')
    .ifNotExists()
    .addColumn('name', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .execute()
  const isPostgres = db.getExecutor().adapter.constructor.name.startsWith('Postgres')
  await db.schema
    .createTable('request_metrics')
    .ifNotExists()
    .addColumn('id', isPostgres ? 'serial' : 'integer', (c) =>
      isPostgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    .addColumn('provider', 'varchar(100)', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('latency_ms', 'double precision', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute()
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('models').execute()
    await trx.deleteFrom('providers').execute()
    await trx
      .insertInto('models')
      .values(models.map((m) => ({ id: m.id, owned_by: m.ownedBy, providers: JSON.stringify(m.providers) })))
      .execute()
    await trx.insertInto('providers').values(providers).execute()
  })
}

/** Reads the model catalog. */
export async function loadModels(db: Kysely<RouterDatabase>): Promise<ModelEntry[]> {
  const rows = await db.selectFrom('models').selectAll().orderBy('id').execute()
  return rows.map((r) => ({ id: r.id, ownedBy: r.owned_by, providers: JSON.parse(r.providers) as string[] }))
}

/** Reads the provider list. */
export async function loadProviders(db: Kysely<RouterDatabase>): Promise<ProviderEntry[]> {
  return db.selectFrom('providers').selectAll().orderBy('name').execute()
}

/** Writes one batch of request metrics in a single statement. */
export async function insertMetrics(db: Kysely<RouterDatabase>, batch: RequestMetric[]): Promise<void> {
  if (batch.length === 0) return
  await db
    .insertInto('request_metrics')
    .values(
      batch.map((m) => ({
        model: m.model,
        provider: m.provider,
        status: m.status,
        latency_ms: m.latencyMs,
        at: m.at,
      })),
    )
    .execute()
}

/** Number of request metric rows stored, or only those at or after `since` (epoch ms). */
export async function countMetrics(db: Kysely<RouterDatabase>, since?: number): Promise<number> {
  let query = db.selectFrom('request_metrics').select(sql<number>`count(*)`.as('n'))
  if (since !== undefined) query = query.where('at', '>=', since)
  const row = await query.executeTakeFirstOrThrow()
  return Number(row.n)
}
