import {
  checkBoolean,
  checkInteger,
  checkKnownOptions,
  checkOneOf,
  checkOptionsObject,
  checkString,
  getClock,
  invalidOption,
} from '@hotpath/core'
import { type Kysely, sql } from 'kysely'
import type { CacheStore, StoredValue, StoreWrite } from './store'

/**
 * SQL dialects the store knows how to write upserts and binary columns for.
 *
 * @example
 * const dialect: KyselyStoreDialect = 'postgres'
 * const store = kyselyStore({ db, dialect })
 */
export type KyselyStoreDialect = 'sqlite' | 'postgres' | 'mysql'

/**
 * Options of {@link kyselyStore}.
 *
 * @example
 * const options: KyselyStoreOptions = { db, table: 'router_cache', createTables: false, purgeEvery: 500 }
 * const cache = createCache({ l2: kyselyStore(options) })
 */
export interface KyselyStoreOptions {
  /** A Kysely instance (SQLite, PostgreSQL or MySQL). It stays yours: the store never destroys it. */
  // biome-ignore lint/suspicious/noExplicitAny: the store works on its own tables, whatever the app's schema type is
  db: Kysely<any>
  /**
   * Table of entries.
   * @default 'hotpath_cache'
   */
  table?: string
  /**
   * Table of tag version counters.
   * @default 'hotpath_cache_tags'
   */
  tagTable?: string
  /**
   * The SQL dialect; detected from the Kysely adapter when not given.
   * @default detected
   */
  dialect?: KyselyStoreDialect
  /**
   * Create the tables (if they do not exist) before the first call.
   * @default true
   */
  createTables?: boolean
  /**
   * Delete expired rows once every this many writes (no timer runs).
   * @default 1_000
   */
  purgeEvery?: number
}

/**
 * Rows per upsert statement in `setMany`: 3 parameters a row stays far below the smallest bound
 * of the three dialects (32,766 parameters in SQLite, 65,535 in PostgreSQL and MySQL), so a
 * `warm()` chunk is one statement.
 */
const ROWS_PER_STATEMENT = 5_000

/** Option names of {@link KyselyStoreOptions}. */
export const KYSELY_STORE_OPTIONS = [
  'db',
  'table',
  'tagTable',
  'dialect',
  'createTables',
  'purgeEvery',
] as const

interface Row {
  key: string
  value: Buffer | Uint8Array
  expires_at: number | string | bigint
}

function detect(db: Kysely<unknown>): KyselyStoreDialect {
  const adapter = (db.getExecutor() as unknown as { adapter?: object }).adapter
  const name = adapter?.constructor?.name ?? ''
  if (/sqlite/i.test(name)) return 'sqlite'
  if (/postgres/i.test(name)) return 'postgres'
  if (/mysql/i.test(name)) return 'mysql'
  throw invalidOption('dialect', "one of 'sqlite', 'postgres', 'mysql' (could not detect it)", undefined)
}

const toBuffer = (value: StoredValue): Buffer =>
  typeof value === 'string'
    ? Buffer.from(value)
    : Buffer.isBuffer(value)
      ? value
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength)

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&')
}

/**
 * An embedded, persistent L2 on SQL through Kysely: a file-backed SQLite (WAL) when there is no
 * Redis, or a PostgreSQL/MySQL table. Rows carry their expiry; reads ignore expired rows and writes
 * purge them now and then.
 *
 * @example
 * import Database from 'better-sqlite3'
 * import { Kysely, SqliteDialect } from 'kysely'
 * import { kyselyStore } from '@hotpath/cache/kysely'
 *
 * const db = new Kysely({ dialect: new SqliteDialect({ database: new Database('cache.db') }) })
 * const cache = createCache({ l2: kyselyStore({ db }) })
 */
export function kyselyStore(options: KyselyStoreOptions): CacheStore {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('kyselyStore()', raw, KYSELY_STORE_OPTIONS)
  if (!raw.db || typeof raw.db.selectFrom !== 'function')
    throw invalidOption('db', 'a Kysely instance', raw.db)
  const db = raw.db
  const table = checkString('table', raw.table ?? 'hotpath_cache')
  const tagTable = checkString('tagTable', raw.tagTable ?? 'hotpath_cache_tags')
  const dialect =
    raw.dialect === undefined
      ? detect(db)
      : checkOneOf('dialect', raw.dialect, ['sqlite', 'postgres', 'mysql'] as const)
  const createTables = checkBoolean('createTables', raw.createTables ?? true)
  const purgeEvery = checkInteger('purgeEvery', raw.purgeEvery ?? 1_000, { min: 1 })
  const binary = dialect === 'postgres' ? 'bytea' : dialect === 'mysql' ? 'longblob' : 'blob'
  const keyType = dialect === 'mysql' ? 'varchar(512)' : 'text'
  let schema: Promise<void> | undefined
  let writes = 0

  const ready = (): Promise<void> => {
    if (!createTables) return Promise.resolve()
    schema ??= (async () => {
      await db.schema
        .createTable(table)
        .ifNotExists()
        .addColumn('key', sql.raw(keyType), (c) => c.primaryKey())
        .addColumn('value', sql.raw(binary), (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable(tagTable)
        .ifNotExists()
        .addColumn('tag', sql.raw(keyType), (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute()
    })().catch((error: unknown) => {
      schema = undefined
      throw error
    })
    return schema
  }

  const upsert = async (rows: { key: string; value: Buffer; expires_at: number }[]) => {
    const insert = db.insertInto(table).values(rows)
    if (dialect === 'mysql') {
      await insert
        .onDuplicateKeyUpdate({ value: sql`values(value)`, expires_at: sql`values(expires_at)` })
        .execute()
    } else {
      await insert
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            value: sql`excluded.value`,
            expires_at: sql`excluded.expires_at`,
          }),
        )
        .execute()
    }
    writes += rows.length
    if (writes >= purgeEvery) {
      writes = 0
      await db.deleteFrom(table).where('expires_at', '<=', getClock().now()).execute()
    }
  }

  const fresh = (row: Row | undefined): Buffer | undefined => {
    if (row === undefined || Number(row.expires_at) <= getClock().now()) return undefined
    return Buffer.isBuffer(row.value) ? row.value : Buffer.from(row.value)
  }

  return Object.freeze({
    kind: 'kysely',
    async get(key: string) {
      await ready()
      const row = (await db.selectFrom(table).selectAll().where('key', '=', key).executeTakeFirst()) as
        | Row
        | undefined
      return fresh(row)
    },
    async getMany(keys: readonly string[]) {
      await ready()
      if (keys.length === 0) return []
      const rows = (await db
        .selectFrom(table)
        .selectAll()
        .where('key', 'in', [...keys])
        .execute()) as Row[]
      const byKey = new Map(rows.map((row) => [row.key, row]))
      return keys.map((key) => fresh(byKey.get(key)))
    },
    async set(key: string, value: StoredValue, ttl: number) {
      await ready()
      await upsert([{ key, value: toBuffer(value), expires_at: Math.ceil(getClock().now() + ttl) }])
    },
    async setMany(items: readonly StoreWrite[]) {
      await ready()
      const now = getClock().now()
      const unique = new Map(items.map((w) => [w.key, w]))
      const rows = [...unique.values()].map((w) => ({
        key: w.key,
        value: toBuffer(w.value),
        expires_at: Math.ceil(now + w.ttl),
      }))
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        await upsert(rows.slice(i, i + ROWS_PER_STATEMENT))
      }
    },
    async delete(keys: readonly string[]) {
      await ready()
      if (keys.length === 0) return
      await db
        .deleteFrom(table)
        .where('key', 'in', [...keys])
        .execute()
    },
    async clear(prefix: string) {
      await ready()
      await db
        .deleteFrom(table)
        .where(sql<boolean>`${sql.ref('key')} like ${`${escapeLike(prefix)}%`} escape ${'\\'}`)
        .execute()
    },
    async getTagVersions(tags: readonly string[]) {
      await ready()
      if (tags.length === 0) return []
      const rows = (await db
        .selectFrom(tagTable)
        .selectAll()
        .where('tag', 'in', [...tags])
        .execute()) as { tag: string; version: number | string }[]
      const byTag = new Map(rows.map((row) => [row.tag, Number(row.version)]))
      return tags.map((tag) => byTag.get(tag) ?? 0)
    },
    async bumpTagVersions(tags: readonly string[]) {
      await ready()
      return db.transaction().execute(async (trx) => {
        const out: number[] = []
        for (const tag of tags) {
          const insert = trx.insertInto(tagTable).values({ tag, version: 1 })
          if (dialect === 'mysql') {
            await insert.onDuplicateKeyUpdate({ version: sql`version + 1` }).execute()
          } else {
            await insert
              .onConflict((oc) =>
                oc.column('tag').doUpdateSet({ version: sql`${sql.ref(`${tagTable}.version`)} + 1` }),
              )
              .execute()
          }
          const row = (await trx
            .selectFrom(tagTable)
            .select('version')
            .where('tag', '=', tag)
            .executeTakeFirst()) as { version: number | string } | undefined
          out.push(Number(row?.version ?? 1))
        }
        return out
      })
    },
  } satisfies CacheStore)
}
