import { databaseUrl, faultProxy, needService, tempPgSchema } from '@hotpath/test-utils'
import { type Generated, Kysely, sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AcquireTimeoutError, ConnectionLostError, QueryAbortedError } from '../src/index'
import { postgresDialect, withQuerySignal } from '../src/kysely'
import { expectAbortedTransactionDiscarded } from './kysely-shared'

interface DB {
  items: { id: Generated<number>; name: string; qty: number }
}

describe.runIf(await needService('postgres'))('postgresDialect (real PostgreSQL)', () => {
  let schema: Awaited<ReturnType<typeof tempPgSchema>>
  let db: Kysely<DB>
  let dialect: ReturnType<typeof postgresDialect>
  const slow: { sql: string; parameters: number }[] = []

  beforeAll(async () => {
    schema = await tempPgSchema()
    dialect = postgresDialect({
      connectionString: schema.url,
      pool: { max: 5, acquireTimeout: '5s' },
      slowQuery: '150ms',
      logger: { warn: (_message, details) => slow.push(details as { sql: string; parameters: number }) },
    })
    db = new Kysely<DB>({ dialect })
    await db.schema
      .createTable('items')
      .addColumn('id', 'serial', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('qty', 'integer', (c) => c.notNull())
      .execute()
  })

  afterAll(async () => {
    await db?.destroy()
    await schema?.drop()
  })

  it('aborts a running query, cancels it server-side and destroys its connection', async () => {
    const controller = new AbortController()
    const started = performance.now()
    const running = withQuerySignal(controller.signal, () => sql`select pg_sleep(10)`.execute(db))
    setTimeout(() => controller.abort(), 200)
    await expect(running).rejects.toBeInstanceOf(QueryAbortedError)
    expect(performance.now() - started).toBeLessThan(2_000)
    // the server stopped the sleep (pg_cancel_backend)
    const admin = new pg.Client({ connectionString: databaseUrl() })
    await admin.connect()
    let sleeping = 1
    for (let i = 0; i < 20 && sleeping > 0; i++) {
      const { rows } = await admin.query(
        "select count(*)::int as n from pg_stat_activity where query like 'select pg_sleep(10)%' and state = 'active'",
      )
      sleeping = rows[0].n
      if (sleeping > 0) await new Promise((r) => setTimeout(r, 100))
    }
    await admin.end()
    expect(sleeping).toBe(0)
    expect(dialect.stats().borrowed).toBe(0)
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db)
    expect(rows[0]!.one).toBe(1)
  })

  it('an aborted statement inside a transaction rejects with QueryAbortedError and nothing is kept', () =>
    expectAbortedTransactionDiscarded(db, dialect, 'select pg_sleep(5)'))

  it('a statement refused on a connection the server ended carries the server error as cause', async () => {
    const admin = new pg.Client({ connectionString: schema.url })
    await admin.connect()
    try {
      const failure = await db
        .transaction()
        .execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)
          await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid])
          // Let the client read the server's goodbye before the next statement.
          await new Promise((resolve) => setTimeout(resolve, 300))
          await trx.selectFrom('items').selectAll().execute()
        })
        .catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(ConnectionLostError)
      expect((failure as ConnectionLostError).cause).toMatchObject({ code: '57P01' })
      expect(dialect.stats().borrowed).toBe(0)
    } finally {
      await admin.end()
    }
  })

  it('reports slow queries with the SQL and the parameter count, never values', async () => {
    slow.length = 0
    await sql`select pg_sleep(${0.2}), ${'secret-value'}::text as v`.execute(db)
    expect(slow).toHaveLength(1)
    expect(slow[0]!.sql).toMatch(/pg_sleep/)
    expect(slow[0]!.parameters).toBe(2)
    expect(JSON.stringify(slow[0])).not.toContain('secret-value')
  })

  it('create failing for 2 s through a cut proxy: waiters time out with cause, no busy loop, recovery', async () => {
    const target = new URL(databaseUrl())
    const proxy = await faultProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const url = new URL(schema.url)
    url.hostname = proxy.host
    url.port = String(proxy.port)
    let attempts = 0
    const local = postgresDialect({
      connectionString: url.toString(),
      pool: { max: 4, acquireTimeout: '800ms', createRetry: { base: '50ms', max: '500ms' }, name: 'pg-cut' },
    })
    const kdb = new Kysely<DB>({ dialect: local })
    try {
      proxy.cut()
      const started = performance.now()
      const failures: unknown[] = []
      while (performance.now() - started < 2_000) {
        const batch = await Promise.allSettled(Array.from({ length: 4 }, () => sql`select 1`.execute(kdb)))
        for (const r of batch) if (r.status === 'rejected') failures.push(r.reason)
      }
      attempts = local.stats().createErrors
      expect(failures.length).toBeGreaterThan(0)
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(AcquireTimeoutError)
        expect((failure as Error).cause).toBeInstanceOf(Error)
      }
      // one probe at a time with backoff: a handful of attempts in 2 s, not thousands
      expect(attempts).toBeGreaterThan(0)
      expect(attempts).toBeLessThan(20)
      proxy.pass()
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(kdb)
      expect(rows[0]!.one).toBe(1)
      expect(local.stats().borrowed).toBe(0)
    } finally {
      await kdb.destroy()
      await proxy.close()
    }
  })

  it('a black-holed server: creates give up after createTimeout and leave no socket behind', async () => {
    const target = new URL(databaseUrl())
    const proxy = await faultProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const url = new URL(schema.url)
    url.hostname = proxy.host
    url.port = String(proxy.port)
    const local = postgresDialect({
      connectionString: url.toString(),
      pool: { max: 2, acquireTimeout: '1s', createTimeout: '300ms', name: 'pg-hole' },
    })
    const kdb = new Kysely<DB>({ dialect: local })
    try {
      proxy.blackHole()
      const error = (await sql`select 1`.execute(kdb).catch((e: unknown) => e)) as AcquireTimeoutError
      expect(error).toBeInstanceOf(AcquireTimeoutError)
      expect((error.cause as { code?: string }).code).toBe('E_POOL_CREATE_TIMEOUT')
      for (let i = 0; i < 50 && proxy.connections > 0; i++) await new Promise((r) => setTimeout(r, 20))
      expect(proxy.connections).toBe(0)
    } finally {
      await kdb.destroy()
      await proxy.close()
    }
  })
})
