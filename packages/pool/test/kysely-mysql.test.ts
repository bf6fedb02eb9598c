import { mysqlUrl, needService, tempMysqlDatabase } from '@hotpath/test-utils'
import { type Generated, Kysely, sql } from 'kysely'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { QueryAbortedError } from '../src/index'
import { mysqlDialect, withQuerySignal } from '../src/kysely'
import { expectAbortedTransactionDiscarded } from './kysely-shared'

interface DB {
  items: { id: Generated<number>; name: string; qty: number }
}

describe.runIf(await needService('mysql'))('mysqlDialect (real MariaDB)', () => {
  let database: Awaited<ReturnType<typeof tempMysqlDatabase>>
  let db: Kysely<DB>
  let dialect: ReturnType<typeof mysqlDialect>

  beforeAll(async () => {
    database = await tempMysqlDatabase()
    dialect = mysqlDialect({ uri: database.url, pool: { max: 4, acquireTimeout: '5s' } })
    db = new Kysely<DB>({ dialect })
    await db.schema
      .createTable('items')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('qty', 'integer', (c) => c.notNull())
      .execute()
  })

  afterAll(async () => {
    await db?.destroy()
    await database?.drop()
  })

  it('aborts a running query (KILL QUERY) and destroys its connection', async () => {
    const before = dialect.stats().destroyed
    const controller = new AbortController()
    const started = performance.now()
    const running = withQuerySignal(controller.signal, () => sql`select sleep(10)`.execute(db))
    setTimeout(() => controller.abort(), 200)
    await expect(running).rejects.toBeInstanceOf(QueryAbortedError)
    expect(performance.now() - started).toBeLessThan(2_000)
    const admin = await mysql.createConnection({ uri: mysqlUrl() })
    let sleeping = 1
    for (let i = 0; i < 20 && sleeping > 0; i++) {
      const [rows] = await admin.query(
        "select count(*) as n from information_schema.processlist where info like 'select sleep(10)%'",
      )
      sleeping = Number((rows as { n: number }[])[0]!.n)
      if (sleeping > 0) await new Promise((r) => setTimeout(r, 100))
    }
    await admin.end()
    expect(sleeping).toBe(0)
    expect(dialect.stats().destroyed).toBe(before + 1)
    expect(dialect.stats().borrowed).toBe(0)
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db)
    expect(rows[0]!.one).toBe(1)
  })

  it('a queryTimeout aborts a slow query', async () => {
    const local = mysqlDialect({ uri: database.url, pool: { max: 1 }, queryTimeout: '150ms' })
    const kdb = new Kysely<DB>({ dialect: local })
    try {
      await expect(sql`select sleep(5)`.execute(kdb)).rejects.toBeInstanceOf(QueryAbortedError)
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(kdb)
      expect(rows[0]!.one).toBe(1)
    } finally {
      await kdb.destroy()
    }
  })

  it('an aborted statement inside a transaction rejects with QueryAbortedError and nothing is kept', () =>
    expectAbortedTransactionDiscarded(db, dialect, 'select sleep(5)'))
})
