import { faultProxy } from '@hotpath/test-utils'
import type { CompiledQuery, Migration } from 'kysely'
import { expect } from 'vitest'
import { ConnectionLostError, QueryOutcomeUnknownError } from '../../src/index'
import { mysqlDialect, postgresDialect, sqliteDialect } from '../../src/kysely'
import {
  type AnyDb,
  type Capabilities,
  createItems,
  failure,
  hotpathOnly,
  migrationTables,
  migratorSkip,
  names,
  type Scenario,
  serverOnly,
  sleep,
} from './kit'
import { resultScenarios } from './results'
import type { Target } from './targets'

function migrations(delayMs: number): Record<string, Migration> {
  const step = (table: string): Migration => ({
    async up(db) {
      await db.schema.createTable(table).addColumn('id', 'integer').execute()
      await sleep(delayMs)
    },
  })
  return { migration1: step('m_one'), migration2: step('m_two') }
}

/** The first word of each statement Kysely logged, lower-cased. */
const verbs = (queries: CompiledQuery[]) => queries.map((q) => q.sql.trim().split(/\s+/)[0]!.toLowerCase())

const needsControlledTransactions = (_target: Target, capabilities: Capabilities) =>
  capabilities.controlledTransactions
    ? undefined
    : `${capabilities.label} has no db.startTransaction() (added in 0.28)`

export const scenarios: Scenario[] = [
  {
    name: 'commits a transaction and rolls back one that throws',
    async run({ target, kysely }) {
      const db = kysely()
      await createItems(db, target)
      await db.transaction().execute(async (tx) => {
        await tx.insertInto('items').values({ name: 'kept' }).execute()
        expect(await names(tx)).toEqual(['kept'])
      })
      const undone = db.transaction().execute(async (tx) => {
        await tx.insertInto('items').values({ name: 'undone' }).execute()
        throw new Error('undo')
      })
      await expect(undone).rejects.toThrow('undo')
      expect(await names(db)).toEqual(['kept'])
    },
  },
  {
    name: 'many transactions in parallel: the committed ones are kept, the failed ones leave nothing',
    async run({ target, kysely }) {
      const db = kysely()
      await createItems(db, target)
      const fails = (i: number) => i % 3 === 0
      const outcomes = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) =>
          db.transaction().execute(async (tx) => {
            await tx
              .insertInto('items')
              .values({ name: `p${i}`, qty: 1 })
              .execute()
            await tx.updateTable('items').set({ qty: 2 }).where('name', '=', `p${i}`).execute()
            if (fails(i)) throw new Error(`fail ${i}`)
          }),
        ),
      )
      const stored = new Set(await names(db))
      outcomes.forEach((outcome, i) => {
        expect(outcome.status).toBe(fails(i) ? 'rejected' : 'fulfilled')
        expect(stored.has(`p${i}`)).toBe(!fails(i))
      })
    },
  },
  {
    name: 'a transaction runs on a connection taken with db.connection()',
    async run({ target, kysely }) {
      const db = kysely()
      await createItems(db, target)
      await db.connection().execute(async (connection) => {
        await connection
          .transaction()
          .execute((tx) => tx.insertInto('items').values({ name: 'inner' }).execute())
        expect(await names(connection)).toEqual(['inner'])
      })
      expect(await names(db)).toEqual(['inner'])
    },
  },
  {
    name: 'transactions take an isolation level',
    async run({ target, kysely }) {
      const db = kysely()
      await createItems(db, target)
      await db
        .transaction()
        .setIsolationLevel('serializable')
        .execute((tx) => tx.insertInto('items').values({ name: 'serializable' }).execute())
      expect(await names(db)).toEqual(['serializable'])
    },
  },
  {
    name: 'a read-only transaction refuses writes',
    skip: (target, capabilities) =>
      !capabilities.accessMode
        ? `${capabilities.label} has no setAccessMode (added in 0.28)`
        : target.engine === 'sqlite'
          ? 'SQLite has no read-only transactions'
          : undefined,
    async run({ target, kysely }) {
      const db = kysely()
      await createItems(db, target)
      await db.insertInto('items').values({ name: 'before' }).execute()
      const readOnly = db
        .transaction()
        .setAccessMode('read only')
        .execute((tx) => tx.insertInto('items').values({ name: 'refused' }).execute())
      await expect(readOnly).rejects.toThrow(/read.only/i)
      expect(await names(db)).toEqual(['before'])
      // reads are allowed, and the connection is usable afterwards
      const read = await db
        .transaction()
        .setAccessMode('read only')
        .execute((tx) => names(tx))
      expect(read).toEqual(['before'])
    },
  },
  {
    name: 'a SQL error rejects with the driver error and the connection keeps working',
    async run({ kysely, sql }) {
      const db = kysely({ max: 1 })
      await expect(sql`select * from no_such_table`.execute(db)).rejects.toThrow(/no_such_table/)
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db)
      expect(Number(rows[0]!.one)).toBe(1)
    },
  },
  {
    name: "a driver error's stack reaches the code that ran the query",
    async run({ kysely, sql }) {
      const db = kysely()
      const error = (await failure(sql`select * from no_such_table`.execute(db))) as Error
      // The scenario's own file is among the frames, not only the socket's read callback.
      expect(error.stack).toContain('scenarios.ts')
      // Inside a transaction Kysely adds a dozen frames of its own: look past V8's default 10.
      const limit = Error.stackTraceLimit
      Error.stackTraceLimit = 50
      try {
        const inTransaction = (await failure(
          db.transaction().execute((tx) => sql`select * from no_such_table`.execute(tx)),
        )) as Error
        expect(inTransaction.stack).toContain('scenarios.ts')
      } finally {
        Error.stackTraceLimit = limit
      }
    },
  },
  {
    name: 'controlled transaction: savepoints roll back and release, then commit',
    skip: needsControlledTransactions,
    async run({ target, kysely }) {
      const db = kysely()
      await createItems(db, target)
      const trx = await db.startTransaction().execute()
      await trx.insertInto('items').values({ name: 'a' }).execute()
      const sp1 = await trx.savepoint('sp1').execute()
      await sp1.insertInto('items').values({ name: 'b' }).execute()
      const back = await sp1.rollbackToSavepoint('sp1').execute()
      const sp2 = await back.savepoint('sp2').execute()
      await sp2.insertInto('items').values({ name: 'c' }).execute()
      const released = await sp2.releaseSavepoint('sp2').execute()
      await released.commit().execute()
      expect(await names(db)).toEqual(['a', 'c'])
    },
  },
  {
    name: 'controlled transaction: rolling back to a savepoint recovers from a failed statement',
    skip: needsControlledTransactions,
    async run({ target, kysely, sql }) {
      const db = kysely()
      await createItems(db, target)
      const trx = await db.startTransaction().execute()
      await trx.insertInto('items').values({ name: 'before' }).execute()
      const risky = await trx.savepoint('risky').execute()
      await expect(sql`select * from no_such_table`.execute(risky)).rejects.toThrow(/no_such_table/)
      const recovered = await risky.rollbackToSavepoint('risky').execute()
      await recovered.insertInto('items').values({ name: 'after' }).execute()
      await recovered.commit().execute()
      expect(await names(db)).toEqual(['after', 'before'])
    },
  },
  {
    name: 'controlled transaction: a failed statement then rollback keeps nothing and leaves no transaction open',
    skip: needsControlledTransactions,
    async run({ target, kysely, sql }) {
      const db = kysely({ max: 1 })
      await createItems(db, target)
      const trx = await db.startTransaction().execute()
      await trx.insertInto('items').values({ name: 'gone' }).execute()
      await expect(sql`select * from no_such_table`.execute(trx)).rejects.toThrow(/no_such_table/)
      await trx.rollback().execute()
      expect(await names(db)).toEqual([])
      // DDL on the table needs every lock on it released.
      await db.schema.dropTable('items').execute()
    },
  },
  {
    name: 'a connection released with its transaction open is rolled back or destroyed, never reused open',
    skip: hotpathOnly("Kysely's drivers release what they are given"),
    async run({ target, fixture, sql, Kysely }) {
      const dialect = fixture.dialect({ max: 1 })
      const db = new Kysely<unknown>({ dialect }) as AnyDb
      try {
        await createItems(db, target)
        const driver = dialect.createDriver()
        await driver.init()
        const connection = await driver.acquireConnection()
        await driver.beginTransaction(connection, {})
        await connection.executeQuery(sql`insert into items (name) values ('open')`.compile(db))
        // released without COMMIT or ROLLBACK, as after a failed COMMIT
        await driver.releaseConnection(connection)
        await driver.destroy()
        expect(await names(db)).toEqual([])
        await db.schema.dropTable('items').execute()
      } finally {
        await db.destroy()
      }
    },
  },
  {
    name: 'Kysely log sees BEGIN, the statement and COMMIT or ROLLBACK of a transaction',
    async run({ target, kysely }) {
      const queries: CompiledQuery[] = []
      const db = kysely({ log: (event) => queries.push(event.query) })
      await createItems(db, target)
      queries.length = 0
      await db.transaction().execute((tx) => tx.insertInto('items').values({ name: 'logged' }).execute())
      expect(verbs(queries)).toEqual(['begin', 'insert', 'commit'])
      queries.length = 0
      await expect(
        db.transaction().execute(async (tx) => {
          await tx.insertInto('items').values({ name: 'unlogged' }).execute()
          throw new Error('undo')
        }),
      ).rejects.toThrow('undo')
      expect(verbs(queries)).toEqual(['begin', 'insert', 'rollback'])
    },
  },
  {
    name: 'streams a select in chunks',
    async run({ target, kysely }) {
      const db = kysely()
      await createItems(db, target)
      await db
        .insertInto('items')
        .values(Array.from({ length: 25 }, (_, i) => ({ name: `s${String(i).padStart(2, '0')}`, qty: i })))
        .execute()
      const seen: string[] = []
      for await (const row of db.selectFrom('items').select('name').orderBy('name').stream(10))
        seen.push(String(row.name))
      expect(seen).toHaveLength(25)
      expect(seen[0]).toBe('s00')
      expect(seen[24]).toBe('s24')
    },
  },
  {
    name: 'introspection lists the created tables and their columns',
    async run({ target, kysely }) {
      const db = kysely()
      await createItems(db, target)
      const tables = await db.introspection.getTables()
      const items = tables.find((t) => t.name === 'items')
      expect(items?.columns.map((c) => c.name).sort()).toEqual(['id', 'name', 'qty'])
    },
  },
  {
    name: 'concurrent migrators on one Kysely instance apply each migration once',
    skip: (target, capabilities) => migratorSkip(target.engine, capabilities),
    async run({ kysely, Migrator }) {
      const db = kysely()
      const provider = { getMigrations: async () => migrations(5) }
      const tables = migrationTables()
      const runs = await Promise.all(
        Array.from({ length: 8 }, () => new Migrator({ db, provider, ...tables }).migrateToLatest()),
      )
      for (const run of runs) expect(run.error).toBeUndefined()
      const applied = runs.flatMap((run) => run.results ?? []).filter((r) => r.status === 'Success')
      expect(applied.map((r) => r.migrationName).sort()).toEqual(['migration1', 'migration2'])
      const rows = await db.selectFrom(tables.migrationTableName).select('name').orderBy('name').execute()
      expect(rows.map((r) => r.name)).toEqual(['migration1', 'migration2'])
    },
  },
  {
    name: 'db.connection() holds the single SQLite connection for its whole callback',
    skip: (target) =>
      target.engine !== 'sqlite'
        ? 'a server pool lends each db.connection() its own connection'
        : (target.sqlite?.readers ?? 0) > 0
          ? 'with readers, a connection holds the writer from its first write (documented difference)'
          : undefined,
    async run({ kysely, sql }) {
      const db = kysely()
      const order: string[] = []
      const block = (label: string) =>
        db.connection().execute(async (connection) => {
          order.push(`${label}:start`)
          await sql`select 1`.execute(connection)
          await sleep(20)
          await sql`select 2`.execute(connection)
          order.push(`${label}:end`)
        })
      await Promise.all([block('A'), block('B')])
      expect(order).toEqual(['A:start', 'A:end', 'B:start', 'B:end'])
    },
  },
  {
    name: 'MySQL insertId is undefined when no auto-increment value was generated',
    skip: (target) => (target.engine !== 'mysql' ? 'insertId of MySQL' : undefined),
    async run({ target, kysely, sql }) {
      const db = kysely()
      await createItems(db, target)
      const first = await db.insertInto('items').values({ name: 'x' }).executeTakeFirstOrThrow()
      expect(first.insertId).toBe(1n)
      const ignored = await db.insertInto('items').ignore().values({ name: 'x' }).executeTakeFirstOrThrow()
      expect(ignored.insertId).toBeUndefined()
      await sql`create table plain (k varchar(8) primary key)`.execute(db)
      const plain = await db.insertInto('plain').values({ k: 'a' }).executeTakeFirstOrThrow()
      expect(plain.insertId).toBeUndefined()
    },
  },
  {
    name: 'one dialect object serves several Kysely instances; destroying one leaves the others working',
    async run({ fixture, kysely, Kysely, sql }) {
      const dialect = fixture.dialect()
      const first = new Kysely<unknown>({ dialect }) as AnyDb
      const second = kysely({ dialect })
      const one = async (db: AnyDb) =>
        Number((await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]!.one)
      expect(await one(first)).toBe(1)
      expect(await one(second)).toBe(1)
      await first.destroy()
      expect(await one(second)).toBe(1)
      // a Kysely instance never used, destroyed: nothing to close, nothing broken
      await new Kysely<unknown>({ dialect }).destroy()
      expect(await one(second)).toBe(1)
      // once every instance is destroyed, a new one on the same dialect object still works
      await second.destroy()
      expect(await one(kysely({ dialect }))).toBe(1)
    },
  },
  {
    name: 'a session ended by the server: the statement in flight rejects with QueryOutcomeUnknownError, the next with ConnectionLostError',
    skip: (target) =>
      serverOnly(target) ?? hotpathOnly("Kysely's drivers reject with the driver's error")(target),
    async run({ target, fixture, kysely, sql }) {
      const db = kysely({ max: 1 })
      const { rows } = await sql.raw<{ id: number }>(target.sessionIdSql!).execute(db)
      const idle = Number(rows[0]!.id)
      // An idle connection ended by the server is skipped: the pool lends a new one.
      await fixture.kill(idle)
      await sleep(100)
      const again = await sql.raw<{ id: number }>(target.sessionIdSql!).execute(db)
      expect(Number(again.rows[0]!.id)).not.toBe(idle)

      let inFlight: unknown
      let next: unknown
      const transaction = db.transaction().execute(async (tx) => {
        const session = Number((await sql.raw<{ id: number }>(target.sessionIdSql!).execute(tx)).rows[0]!.id)
        const sleeping = failure(sql.raw(target.sleepSql(5)).execute(tx))
        await sleep(200)
        await fixture.kill(session)
        inFlight = await sleeping
        next = await failure(sql`select 1`.execute(tx))
      })
      await expect(transaction).rejects.toBeInstanceOf(ConnectionLostError)
      expect(inFlight).toBeInstanceOf(QueryOutcomeUnknownError)
      expect((inFlight as Error).cause).toBeInstanceOf(Error)
      expect(next).toBeInstanceOf(ConnectionLostError)
      const { rows: after } = await sql<{ one: number }>`select 1 as one`.execute(db)
      expect(Number(after[0]!.one)).toBe(1)
    },
  },
  {
    name: 'an autocommit insert whose reply is lost rejects with QueryOutcomeUnknownError, yet the server commits it',
    skip: (target) =>
      serverOnly(target) ?? hotpathOnly("Kysely's drivers reject with the driver's error")(target),
    async run({ target, fixture, kysely, sql }) {
      const server = new URL(fixture.url!)
      const proxy = await faultProxy({
        host: server.hostname,
        port: Number(server.port || (target.engine === 'postgres' ? 5432 : 3306)),
      })
      try {
        const direct = kysely()
        await createItems(direct, target)
        const db = kysely({ dialect: fixture.dialect({ max: 1, via: proxy }) })
        const slow =
          target.engine === 'postgres'
            ? sql`insert into items (name) select 'late' from pg_sleep(0.5)`
            : sql`insert into items (name) select 'late' from (select sleep(0.5)) as s`
        const pending = failure(slow.execute(db))
        // the statement has reached the server; the client's connection is cut before the reply
        await sleep(150)
        proxy.cut()
        const error = await pending
        expect(error).toBeInstanceOf(QueryOutcomeUnknownError)
        expect((error as Error).cause).toBeInstanceOf(Error)
        let stored: string[] = []
        for (let i = 0; i < 40 && stored.length === 0; i++) {
          await sleep(50)
          stored = await names(direct)
        }
        // the server ran the autocommit insert to the end: "outcome unknown" here means committed
        expect(stored).toEqual(['late'])
      } finally {
        await proxy.close()
      }
    },
  },
  {
    name: 'sessions ended under write load: failures are typed, a ConnectionLostError write never ran, an outcome-unknown one may have',
    skip: (target) =>
      serverOnly(target) ?? hotpathOnly("Kysely's drivers reject with the driver's error")(target),
    async run({ target, fixture, kysely }) {
      const db = kysely({ max: 8 })
      await createItems(db, target)
      // One attempt writes its rows atomically: one autocommit insert, or two in a transaction.
      const attempts: { rows: string[]; outcome: 'ok' | 'not sent' | 'unknown' }[] = []
      const untyped: unknown[] = []
      let stop = false
      const worker = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const inTransaction = w % 2 === 1
          const rows = inTransaction ? [`w${w}-${i}a`, `w${w}-${i}b`] : [`w${w}-${i}`]
          try {
            if (!inTransaction) await db.insertInto('items').values({ name: rows[0]!, qty: w }).execute()
            else
              await db.transaction().execute(async (tx) => {
                await tx.insertInto('items').values({ name: rows[0]!, qty: w }).execute()
                // idle in the transaction for a moment, so some kills land between statements
                await sleep(5)
                await tx.insertInto('items').values({ name: rows[1]!, qty: w }).execute()
              })
            attempts.push({ rows, outcome: 'ok' })
          } catch (error) {
            if (error instanceof ConnectionLostError) attempts.push({ rows, outcome: 'not sent' })
            else if (error instanceof QueryOutcomeUnknownError) attempts.push({ rows, outcome: 'unknown' })
            else untyped.push(error)
          }
        }
      }
      const killer = async () => {
        for (let round = 0; round < 4; round++) {
          await sleep(80)
          if (target.engine === 'postgres') {
            // One round trip: the admin connection ends every session whose last statement was an
            // insert: running, idle in a transaction, or idle in the pool.
            await fixture.admin(
              "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query like 'insert into%'",
            )
            continue
          }
          // every other session on the database: running, idle in a transaction, or idle in the pool
          const sessions = (await fixture.admin(
            'select id from information_schema.processlist where db = database() and id <> connection_id()',
          )) as { id: number }[]
          for (const { id } of sessions) await fixture.kill(Number(id)).catch(() => {})
        }
        stop = true
      }
      await Promise.all([killer(), ...Array.from({ length: 50 }, (_, w) => worker(w))])
      expect(untyped).toEqual([])
      const count = (outcome: string) => attempts.filter((a) => a.outcome === outcome).length
      expect(count('not sent') + count('unknown')).toBeGreaterThan(0)
      const stored = new Set(await names(db))
      let kept = 0
      for (const { rows, outcome } of attempts) {
        const present = rows.filter((name) => stored.has(name)).length
        // an attempt is all or nothing
        expect([0, rows.length]).toContain(present)
        if (outcome === 'ok') expect(present).toBe(rows.length)
        // "not sent" is a promise: nothing of it was kept
        if (outcome === 'not sent') expect(present).toBe(0)
        // "outcome unknown" promises nothing: it may have been committed or not
        if (outcome === 'unknown' && present > 0) kept++
      }
      // every row in the table is one of an attempt that succeeded or whose outcome was unknown
      const tried = new Set(attempts.filter((a) => a.outcome !== 'not sent').flatMap((a) => a.rows))
      for (const name of stored) expect(tried.has(name)).toBe(true)
      console.info(
        `${target.name} under kills: ${count('ok')} writes committed, ${count('not sent')} not sent (none kept), ` +
          `${count('unknown')} outcome unknown (${kept} kept, ${count('unknown') - kept} not)`,
      )
    },
  },
  {
    name: 'option errors are synchronous TypeErrors; SQLite busyTimeout is clamped to its maximum',
    skip: hotpathOnly('options of the hotpath factories'),
    async run({ target, kysely, sql }) {
      const factories = {
        postgres: (options: object) => postgresDialect(options),
        mysql: (options: object) => mysqlDialect(options),
        sqlite: (options: object) => sqliteDialect({ filename: ':memory:', ...options }),
      }
      const make = factories[target.engine]
      expect(() => make({ slowQery: '1s' })).toThrow(
        new TypeError(
          `Expected \`slowQery\` to be a known option of ${target.engine}Dialect() (did you mean \`slowQuery\`?), got \`'1s'\` (string)`,
        ),
      )
      // pool options are checked when the dialect is built, not on the first query
      expect(() => make({ pool: { acquireTimeout: 'soon' } })).toThrow(TypeError)
      if (target.engine !== 'sqlite') {
        expect(() => make({ connection: 'host=db' })).toThrow(TypeError)
        return
      }
      expect(() => sqliteDialect({ filename: ':memory:', pragmas: 'x=1' as never })).toThrow(TypeError)
      expect(() => sqliteDialect({ filename: ':memory:', pragmas: ['x=1; drop table t'] })).toThrow(TypeError)
      const db = kysely({ dialect: sqliteDialect({ filename: ':memory:', busyTimeout: '30d' }) })
      const { rows } = await sql<{ timeout: number }>`pragma busy_timeout`.execute(db)
      expect(Object.values(rows[0]!)[0]).toBe(2 ** 31 - 1)
    },
  },
  ...resultScenarios,
]
