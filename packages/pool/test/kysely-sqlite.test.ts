import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import { type Generated, Kysely, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectionLostError, QueryAbortedError } from '../src/index'
import { insertMany, SqliteError, sqliteDialect, updateMany, withQuerySignal } from '../src/kysely'

interface DB {
  items: { id: Generated<number>; name: string; qty: number }
}

const heavy = (rows: number) =>
  sql<{
    n: number
  }>`with recursive c(x) as (select 1 union all select x + 1 from c where x < ${rows}) select count(*) as n from c`

describe('sqliteDialect (real SQLite, read/write split)', () => {
  let dir: string
  let db: Kysely<DB>
  let dialect: ReturnType<typeof sqliteDialect>

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-sqlite-'))
    dialect = sqliteDialect({ filename: join(dir, 'test.db'), readers: 4 })
    db = new Kysely<DB>({ dialect })
    await db.schema
      .createTable('items')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('qty', 'integer', (c) => c.notNull())
      .execute()
  })

  afterAll(async () => {
    await db?.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  it('sets WAL and the pragmas, on the writer and the readers', async () => {
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db)
    expect(mode.rows[0]!.journal_mode).toBe('wal')
    const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(db)
    expect(sync.rows[0]!.synchronous).toBe(1) // NORMAL
    const temp = await db.selectNoFrom(sql<number>`1`.as('x')).execute()
    expect(temp).toEqual([{ x: 1 }])
  })

  it('routes reads to readers and writes to the writer', async () => {
    const before = dialect.stats()
    const insert = await db.insertInto('items').values({ name: 'a', qty: 1 }).executeTakeFirstOrThrow()
    expect(insert.insertId).toBe(1n)
    const rows = await db.selectFrom('items').selectAll().execute()
    expect(rows).toEqual([{ id: 1, name: 'a', qty: 1 }])
    const after = dialect.stats()
    expect(after.writer.acquired - before.writer.acquired).toBe(1)
    expect(after.readers!.acquired - (before.readers?.acquired ?? 0)).toBe(1)
  })

  it('commits and rolls back; a transaction runs entirely on the writer', async () => {
    const before = dialect.stats()
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('items').values({ name: 'tx', qty: 2 }).execute()
      // read-your-writes inside the transaction: this select must run on the writer
      const inside = await tx.selectFrom('items').select('name').where('name', '=', 'tx').execute()
      expect(inside).toHaveLength(1)
    })
    await expect(
      db.transaction().execute(async (tx) => {
        await tx.insertInto('items').values({ name: 'gone', qty: 3 }).execute()
        throw new Error('undo')
      }),
    ).rejects.toThrow('undo')
    const names = (await db.selectFrom('items').select('name').execute()).map((r) => r.name)
    expect(names).toContain('tx')
    expect(names).not.toContain('gone')
    const after = dialect.stats()
    expect(after.writer.acquired - before.writer.acquired).toBe(2)
    expect(after.readers!.acquired - before.readers!.acquired).toBe(1)
    expect(after.writer.borrowed).toBe(0)
  })

  it('surfaces SQLite errors with their code and keeps the connection', async () => {
    const before = dialect.stats().writer.destroyed
    const error = await db
      .insertInto('items')
      .values({ name: 'a', qty: 1 })
      .execute()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SqliteError)
    expect((error as SqliteError).code).toBe('SQLITE_CONSTRAINT_UNIQUE')
    expect(dialect.stats().writer.destroyed).toBe(before)
  })

  it('reads on 4 readers overlap while the writer holds a long write transaction', async () => {
    const rows = 60_000
    // a single read's duration on this machine, for reference
    const t0 = performance.now()
    await heavy(rows).execute(db)
    expect(performance.now() - t0).toBeGreaterThan(0)

    // open the 4 reader workers first
    await Promise.all(Array.from({ length: 4 }, () => heavy(10_000).execute(db)))
    for (let i = 0; i < 100 && dialect.stats().readers!.size < 4; i++)
      await new Promise((r) => setTimeout(r, 20))
    expect(dialect.stats().readers!.size).toBe(4)

    let readsDoneWhileTxOpen = 0
    let txOpen = false
    const spans: [number, number][] = []
    let readsDone!: () => void
    const allRead = new Promise<void>((resolve) => {
      readsDone = resolve
    })
    const tx = db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'long-tx', qty: 1 }).execute()
      txOpen = true
      // the write transaction stays open until every read finished (or 10 s)
      await Promise.race([allRead, new Promise((resolve) => setTimeout(resolve, 10_000))])
      txOpen = false
    })
    while (!txOpen) await new Promise((resolve) => setTimeout(resolve, 5))
    const wallStart = performance.now()
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const start = performance.now()
        const result = await heavy(rows).execute(db)
        spans.push([start, performance.now()])
        expect(result.rows[0]!.n).toBe(rows)
        if (txOpen) readsDoneWhileTxOpen++
        const uncommitted = await db
          .selectFrom('items')
          .select('name')
          .where('name', '=', 'long-tx')
          .execute()
        expect(uncommitted).toHaveLength(0)
      }),
    )
    readsDone()
    const wall = performance.now() - wallStart
    await tx
    const busy = spans.reduce((sum, [s, e]) => sum + (e - s), 0)
    // Sum of read durations over the wall time: 1 when serialised, up to 4 when fully parallel.
    const overlap = busy / wall
    expect(readsDoneWhileTxOpen).toBe(4)
    expect(overlap).toBeGreaterThan(1.5)
    // the readers did not see the uncommitted row, then the committed one is visible
    const visible = await db.selectFrom('items').select('name').where('name', '=', 'long-tx').execute()
    expect(visible).toHaveLength(1)
  })

  it('keeps the event loop responsive during a 200 ms read', async () => {
    // calibrate a read of about 200 ms
    let rows = 100_000
    let took = 0
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now()
      await heavy(rows).execute(db)
      took = performance.now() - t0
      if (took >= 200) break
      rows = Math.round((rows * 260) / Math.max(took, 1))
    }
    const histogram = monitorEventLoopDelay({ resolution: 10 })
    histogram.enable()
    const t0 = performance.now()
    await heavy(rows).execute(db)
    const duration = performance.now() - t0
    histogram.disable()
    expect(duration).toBeGreaterThanOrEqual(100)
    // A read on the main thread would stall the loop for the whole query.
    expect(histogram.max / 1e6).toBeLessThan(duration / 2)
  })

  it('insertMany and updateMany batch rows in one transaction', async () => {
    const rows = Array.from({ length: 1_234 }, (_, i) => ({ name: `bulk-${i}`, qty: i }))
    const inserted = await insertMany(db, 'items', rows, { chunkSize: 200 })
    expect(inserted).toBe(1_234)
    const ids = await db.selectFrom('items').select(['id', 'name']).where('name', 'like', 'bulk-%').execute()
    const updated = await updateMany(
      db,
      'items',
      ids.map((r) => ({ id: r.id, qty: 7 })),
      { key: 'id', chunkSize: 300 },
    )
    expect(updated).toBe(1_234)
    const check = await db
      .selectFrom('items')
      .select(sql<number>`count(*)`.as('n'))
      .where('name', 'like', 'bulk-%')
      .where('qty', '=', 7)
      .executeTakeFirstOrThrow()
    expect(check.n).toBe(1_234)
    // a failing chunk rolls the whole batch back
    await expect(
      insertMany(db, 'items', [{ name: 'fresh-1', qty: 1 }, ...rows.slice(0, 2)], { chunkSize: 1 }),
    ).rejects.toBeInstanceOf(SqliteError)
    const fresh = await db.selectFrom('items').select('name').where('name', '=', 'fresh-1').execute()
    expect(fresh).toHaveLength(0)
  })

  it('readers: 0 and :memory: run everything on the writer', async () => {
    const memory = sqliteDialect({ filename: ':memory:', readers: 4 })
    const mdb = new Kysely<DB>({ dialect: memory })
    try {
      await sql`create table items (id integer primary key, name text not null, qty integer not null)`.execute(
        mdb,
      )
      await mdb.insertInto('items').values({ name: 'm', qty: 1 }).execute()
      expect(await mdb.selectFrom('items').select('name').execute()).toEqual([{ name: 'm' }])
      expect(memory.stats().readers).toBeUndefined()
    } finally {
      await mdb.destroy()
    }
  })

  it('aborts a running read at once: the reader worker is terminated and replaced', async () => {
    const controller = new AbortController()
    const started = performance.now()
    const running = withQuerySignal(controller.signal, () => heavy(2_000_000).execute(db))
    setTimeout(() => controller.abort(), 100)
    await expect(running).rejects.toBeInstanceOf(QueryAbortedError)
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(dialect.stats().readers!.borrowed).toBe(0)
    const rows = await db.selectFrom('items').select('name').execute()
    expect(rows.length).toBeGreaterThan(0)
  })

  /** Runs `body` on a fresh writer-only database `file` holding an empty `items` table. */
  const onWriterOnly = async (
    file: string,
    body: (ldb: Kysely<DB>, local: ReturnType<typeof sqliteDialect>) => Promise<void>,
  ) => {
    const local = sqliteDialect({ filename: join(dir, file), readers: 0 })
    const ldb = new Kysely<DB>({ dialect: local })
    try {
      await sql`create table items (id integer primary key, name text not null, qty integer not null)`.execute(
        ldb,
      )
      await body(ldb, local)
    } finally {
      await ldb.destroy()
    }
  }

  it('an aborted statement inside a transaction rejects with QueryAbortedError and the writer is replaced', () =>
    onWriterOnly('aborted.db', async (ldb, local) => {
      const before = local.stats().writer.destroyed
      const transaction = ldb.transaction().execute(async (tx) => {
        await tx.insertInto('items').values({ name: 'tx-aborted', qty: 1 }).execute()
        await withQuerySignal(AbortSignal.timeout(50), () => heavy(2_000_000).execute(tx))
      })
      // no ROLLBACK is sent on the broken writer to replace the caller's error
      await expect(transaction).rejects.toBeInstanceOf(QueryAbortedError)
      expect(local.stats().writer.destroyed).toBe(before + 1)
      expect(local.stats().writer.borrowed).toBe(0)
      expect(await ldb.selectFrom('items').select('name').execute()).toEqual([])
    }))

  it('a writer broken inside a transaction refuses the next statement and the commit unsent', () =>
    onWriterOnly('lost.db', async (ldb, local) => {
      let refused: unknown
      const transaction = ldb.transaction().execute(async (tx) => {
        await tx.insertInto('items').values({ name: 'tx-lost', qty: 1 }).execute()
        const aborted = withQuerySignal(AbortSignal.timeout(50), () => heavy(2_000_000).execute(tx))
        await expect(aborted).rejects.toBeInstanceOf(QueryAbortedError)
        refused = await sql`select 1`.execute(tx).then(
          () => undefined,
          (error: unknown) => error,
        )
      })
      await expect(transaction).rejects.toBeInstanceOf(ConnectionLostError)
      expect(refused).toBeInstanceOf(ConnectionLostError)
      expect(local.stats().writer.borrowed).toBe(0)
      expect(await ldb.selectFrom('items').select('name').execute()).toEqual([])
    }))

  it('a BEGIN refused with SQLITE_BUSY leaves the writer healthy and in the pool', async () => {
    const file = join(dir, 'busy.db')
    const local = sqliteDialect({ filename: file, readers: 0, busyTimeout: '50ms' })
    const ldb = new Kysely<DB>({ dialect: local })
    const other = new Database(file)
    try {
      await sql`create table items (id integer primary key, name text not null, qty integer not null)`.execute(
        ldb,
      )
      other.exec('begin immediate')
      const refused = ldb
        .transaction()
        .execute((tx) => tx.insertInto('items').values({ name: 'x', qty: 1 }).execute())
      await expect(refused).rejects.toMatchObject({ code: 'SQLITE_BUSY' })
      other.exec('rollback')
      expect(local.stats().writer.destroyed).toBe(0)
      await ldb.transaction().execute((tx) => tx.insertInto('items').values({ name: 'y', qty: 1 }).execute())
      expect(await ldb.selectFrom('items').select('name').execute()).toEqual([{ name: 'y' }])
    } finally {
      other.close()
      await ldb.destroy()
    }
  })
})
