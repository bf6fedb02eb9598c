import Database from 'better-sqlite3'
import pg from 'pg'
import { expect } from 'vitest'
import { SqliteError } from '../../src/kysely'
import { type AnyDb, createItems, failure, type Scenario } from './kit'
import type { Target } from './targets'

/** An upsert of `name` setting `qty`, in the engine's own syntax. */
function upsert(db: AnyDb, target: Target, name: string, qty: number) {
  const insert = db.insertInto('items').values({ name, qty })
  return target.engine === 'mysql'
    ? insert.onDuplicateKeyUpdate({ qty })
    : insert.onConflict((conflict) => conflict.column('name').doUpdateSet({ qty }))
}

/** What writes report and return, and how values and errors come back from each driver. */
export const resultScenarios: Scenario[] = [
  {
    name: 'writes report affected rows: numInsertedOrUpdatedRows, numUpdatedRows, numDeletedRows',
    async run({ target, kysely }) {
      const db = kysely()
      await createItems(db, target)
      const inserted = await db
        .insertInto('items')
        .values([
          { name: 'a', qty: 1 },
          { name: 'b', qty: 2 },
          { name: 'c', qty: 3 },
        ])
        .executeTakeFirstOrThrow()
      expect(inserted.numInsertedOrUpdatedRows).toBe(3n)
      const updated = await db
        .updateTable('items')
        .set({ qty: 10 })
        .where('qty', '>=', 2)
        .executeTakeFirstOrThrow()
      expect(updated.numUpdatedRows).toBe(2n)
      const none = await db
        .updateTable('items')
        .set({ qty: 0 })
        .where('name', '=', 'zzz')
        .executeTakeFirstOrThrow()
      expect(none.numUpdatedRows).toBe(0n)
      const deleted = await db
        .deleteFrom('items')
        .where('name', 'in', ['a', 'b', 'zzz'])
        .executeTakeFirstOrThrow()
      expect(deleted.numDeletedRows).toBe(2n)
      // An upsert that updates: MySQL counts an updated row twice (its affectedRows), the others once.
      const upserted = await upsert(db, target, 'c', 7).executeTakeFirstOrThrow()
      expect(upserted.numInsertedOrUpdatedRows).toBe(target.engine === 'mysql' ? 2n : 1n)
      const fresh = await upsert(db, target, 'd', 1).executeTakeFirstOrThrow()
      expect(fresh.numInsertedOrUpdatedRows).toBe(1n)
      // inside a transaction the counts are the same
      await db.transaction().execute(async (tx) => {
        const all = await tx.updateTable('items').set({ qty: 7 }).executeTakeFirstOrThrow()
        // MySQL reports matched rows (mysql2 connects with FOUND_ROWS), and numChangedRows apart
        expect(all.numUpdatedRows).toBe(2n)
        if (target.engine === 'mysql') expect(all.numChangedRows).toBe(1n)
        const gone = await tx.deleteFrom('items').executeTakeFirstOrThrow()
        expect(gone.numDeletedRows).toBe(2n)
      })
    },
  },
  {
    name: 'returning() gives back the inserted, updated and deleted rows',
    skip: (target) => (target.engine === 'mysql' ? 'MySQL has no RETURNING' : undefined),
    async run({ target, kysely, sql }) {
      const db = kysely()
      await createItems(db, target)
      const inserted = await db
        .insertInto('items')
        .values([
          { name: 'a', qty: 1 },
          { name: 'b', qty: 2 },
        ])
        .returning(['id', 'name'])
        .execute()
      expect(inserted).toEqual([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ])
      const updated = await db
        .updateTable('items')
        .set({ qty: sql`qty + 10` })
        .where('name', '=', 'b')
        .returning(['name', 'qty'])
        .execute()
      expect(updated).toEqual([{ name: 'b', qty: 12 }])
      const nothing = await db
        .updateTable('items')
        .set({ qty: 0 })
        .where('name', '=', 'zzz')
        .returning('id')
        .execute()
      expect(nothing).toEqual([])
      const upserted = await upsert(db, target, 'a', 5).returning(['name', 'qty']).executeTakeFirstOrThrow()
      expect(upserted).toEqual({ name: 'a', qty: 5 })
      // in a transaction, and rolled back: the returned row is not kept
      await expect(
        db.transaction().execute(async (tx) => {
          const row = await tx
            .insertInto('items')
            .values({ name: 'c', qty: 3 })
            .returningAll()
            .executeTakeFirstOrThrow()
          // the id is the next one the engine hands out (the upsert above may have used one up)
          expect(row).toEqual({ id: expect.any(Number), name: 'c', qty: 3 })
          expect(row.id).toBeGreaterThan(2)
          throw new Error('undo')
        }),
      ).rejects.toThrow('undo')
      const deleted = await db.deleteFrom('items').where('name', '=', 'a').returningAll().execute()
      expect(deleted).toEqual([{ id: 1, name: 'a', qty: 5 }])
      const left = await db.selectFrom('items').select(['id', 'name', 'qty']).execute()
      expect(left).toEqual([{ id: 2, name: 'b', qty: 12 }])
    },
  },
  {
    name: "a BLOB round-trips: a Buffer from pg, mysql2 and Kysely's SqliteDialect, a Uint8Array (not a Buffer) from hotpath's sqliteDialect",
    async run({ target, kysely }) {
      const db = kysely()
      const type = target.engine === 'postgres' ? 'bytea' : 'blob'
      await db.schema
        .createTable('blobs')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('data', type)
        .execute()
      const bytes = [0, 1, 2, 127, 128, 250, 255]
      await db
        .insertInto('blobs')
        .values({ id: 1, data: Buffer.from(bytes) })
        .execute()
      const { data } = await db.selectFrom('blobs').select('data').executeTakeFirstOrThrow()
      expect(data).toBeInstanceOf(Uint8Array)
      expect(Array.from(data as Uint8Array)).toEqual(bytes)
      // documented difference: rows cross from the worker thread by structured clone
      const buffer = target.engine !== 'sqlite' || target.control
      expect(Buffer.isBuffer(data)).toBe(buffer)
    },
  },
  {
    name: "a unique violation rejects with the driver's error class and code (hotpath's SqliteError on its SQLite dialect)",
    async run({ target, kysely }) {
      const db = kysely({ max: 1 })
      await createItems(db, target)
      await db.insertInto('items').values({ name: 'dup' }).execute()
      const error = (await failure(db.insertInto('items').values({ name: 'dup' }).execute())) as Error & {
        code?: string
      }
      if (target.engine === 'postgres') {
        expect(error).toBeInstanceOf(pg.DatabaseError)
        expect(error.code).toBe('23505')
      } else if (target.engine === 'mysql') {
        expect(error.code).toBe('ER_DUP_ENTRY')
        expect((error as { errno?: number }).errno).toBe(1062)
      } else {
        // documented difference: hotpath's SqliteError (better-sqlite3's code) instead of better-sqlite3's class
        expect(error).toBeInstanceOf(target.control ? Database.SqliteError : SqliteError)
        expect(error).not.toBeInstanceOf(target.control ? SqliteError : Database.SqliteError)
        expect(error.name).toBe('SqliteError')
        expect(error.code).toBe('SQLITE_CONSTRAINT_UNIQUE')
      }
      expect(error.message).toMatch(/unique|duplicate/i)
      // the connection that failed keeps working
      await db.insertInto('items').values({ name: 'next' }).execute()
      const rows = await db.selectFrom('items').select('name').orderBy('name').execute()
      expect(rows.map((row) => row.name)).toEqual(['dup', 'next'])
    },
  },
]
