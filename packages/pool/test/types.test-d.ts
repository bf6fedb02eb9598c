import { Kysely } from 'kysely'
import { describe, expectTypeOf, it } from 'vitest'
import {
  type AcquireOptions,
  createPool,
  type DrainResult,
  type Lease,
  Pool,
  type PoolAdvice,
  type PoolOptions,
  type PoolStats,
} from '../src/index'
import {
  insertMany,
  type PooledDialect,
  postgresDialect,
  type SqliteDialect,
  sqliteDialect,
  updateMany,
  withQuerySignal,
} from '../src/kysely'

interface Connection {
  query(sql: string): Promise<{ rows: unknown[] }>
  close(): Promise<void>
}
declare const connect: () => Promise<Connection>
declare const signal: AbortSignal

describe('Pool<T>', () => {
  it('createPool infers the resource type from create', () => {
    const pool = createPool({ create: connect, destroy: (conn) => conn.close(), max: 4 })
    expectTypeOf(pool).toEqualTypeOf<Pool<Connection>>()
    const sync = createPool({ create: () => ({ socket: 1 }) })
    expectTypeOf(sync).toEqualTypeOf<Pool<{ socket: number }>>()
    expectTypeOf(new Pool({ create: connect })).toEqualTypeOf<Pool<Connection>>()
  })

  it('acquire lends a typed lease; release takes an optional error', async () => {
    const pool = createPool({ create: connect })
    const lease = await pool.acquire({ timeout: '2s', signal, priority: 1 })
    expectTypeOf(lease).toEqualTypeOf<Lease<Connection>>()
    expectTypeOf(lease.resource).toEqualTypeOf<Connection>()
    expectTypeOf(lease.release).toEqualTypeOf<(error?: unknown) => void>()
    expectTypeOf(lease.destroy()).toEqualTypeOf<void>()
    // @ts-expect-error misspelled option
    void pool.acquire({ timout: 10 })
    // @ts-expect-error a duration
    void pool.acquire({ timeout: 'two seconds' })
  })

  it('use resolves with what the function returns', () => {
    const pool = createPool({ create: connect })
    expectTypeOf(pool.use((conn) => conn.query('select 1'))).toEqualTypeOf<Promise<{ rows: unknown[] }>>()
    expectTypeOf(pool.use(() => 1)).toEqualTypeOf<Promise<number>>()
    // A thenable that is not a native promise is awaited like one.
    expectTypeOf(pool.use(() => ({}) as PromiseLike<string>)).toEqualTypeOf<Promise<string>>()
  })

  it('stats, advice, drain', () => {
    const pool = createPool({ create: connect })
    expectTypeOf(pool.stats()).toEqualTypeOf<PoolStats>()
    expectTypeOf(pool.advise()).toEqualTypeOf<PoolAdvice>()
    expectTypeOf(pool.drain({ timeout: '5s' })).toEqualTypeOf<Promise<DrainResult>>()
    expectTypeOf<AcquireOptions['priority']>().toEqualTypeOf<number | undefined>()
  })

  it('options are tied to the resource type', () => {
    // @ts-expect-error destroy takes the created resource
    void createPool({ create: connect, destroy: (conn: { id: number }) => void conn.id })
    // @ts-expect-error validate returns a boolean
    void createPool({ create: connect, validate: () => 'yes' })
    // @ts-expect-error misspelled option
    void createPool({ create: connect, maxSize: 4 })
    // @ts-expect-error `create` is required
    void createPool<Connection>({ max: 4 })
    expectTypeOf<PoolOptions<Connection>['create']>().returns.toEqualTypeOf<
      Connection | Promise<Connection>
    >()
  })
})

describe('kysely subpath', () => {
  interface Database {
    users: { id: number; name: string }
  }

  it('dialects plug into Kysely', () => {
    const pg = postgresDialect({ connectionString: 'postgres://localhost/db', pool: { max: 10 } })
    expectTypeOf(pg).toEqualTypeOf<PooledDialect>()
    expectTypeOf(pg.stats()).toEqualTypeOf<PoolStats>()
    const sqlite = sqliteDialect({ filename: ':memory:' })
    expectTypeOf(sqlite).toEqualTypeOf<SqliteDialect>()
    expectTypeOf(new Kysely<Database>({ dialect: pg })).toEqualTypeOf<Kysely<Database>>()
    expectTypeOf(new Kysely<Database>({ dialect: sqlite })).toEqualTypeOf<Kysely<Database>>()
    // @ts-expect-error `filename` is required
    void sqliteDialect({})
    // @ts-expect-error misspelled option
    void postgresDialect({ connectionUrl: 'postgres://localhost/db' })
  })

  it('batch helpers take the database tables', () => {
    const db = new Kysely<Database>({ dialect: sqliteDialect({ filename: ':memory:' }) })
    expectTypeOf(insertMany(db, 'users', [{ id: 1, name: 'a' }])).toEqualTypeOf<Promise<number>>()
    expectTypeOf(updateMany(db, 'users', [{ id: 1, name: 'b' }], { key: 'id' })).toEqualTypeOf<
      Promise<number>
    >()
    // @ts-expect-error not a table of the database
    void insertMany(db, 'accounts', [])
    // @ts-expect-error `key` is required
    void updateMany(db, 'users', [], {})
  })

  it('withQuerySignal returns what the function returns', () => {
    expectTypeOf(withQuerySignal(signal, async () => [1])).toEqualTypeOf<Promise<number[]>>()
  })
})
