import { needService } from '@hotpath/test-utils'
import { type Dialect, Kysely, sql } from 'kysely029'
import { type Migration, Migrator } from 'kysely029/migration'
import { describe, expect, it } from 'vitest'
import { runConformance } from './conformance/runner'
import { type Engine, targetsOf } from './conformance/targets'

// hotpath's dialects on Kysely 0.29's `Kysely` class (the workspace's own Kysely is 0.28).
const release = {
  label: 'Kysely 0.29',
  Kysely,
  scenarios: [
    'commits a transaction and rolls back one that throws',
    'a transaction runs on a connection taken with db.connection()',
    'controlled transaction: savepoints roll back and release, then commit',
    'streams a select in chunks',
    'introspection lists the created tables and their columns',
  ],
}

await runConformance('postgres', release)
await runConformance('sqlite', release)

const migrations: Record<string, Migration> = {
  '001_items': {
    async up(db) {
      await db.schema
        .createTable('m_items')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .execute()
    },
    async down(db) {
      await db.schema.dropTable('m_items').execute()
    },
  },
  '002_name': {
    async up(db) {
      await db.schema.alterTable('m_items').addColumn('name', 'varchar(64)').execute()
    },
    async down(db) {
      await db.schema.alterTable('m_items').dropColumn('name').execute()
    },
  },
}

for (const engine of ['postgres', 'sqlite'] as Engine[]) {
  const available = engine === 'sqlite' || (await needService(engine))
  const target = targetsOf(engine).find((t) => !t.control)!
  describe.runIf(available)(`Kysely 0.29 Migrator and queries on ${target.name}`, () => {
    it('migrates to latest and down one step; a query and a sql template run', async () => {
      const fixture = await target.open()
      // biome-ignore lint/suspicious/noExplicitAny: the table is created by the migrations
      const db = new Kysely<any>({
        // The dialect is typed by the workspace's Kysely 0.28; only the types differ by release.
        dialect: fixture.dialect() as unknown as Dialect,
      })
      try {
        const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } })
        const up = await migrator.migrateToLatest()
        expect(up.error).toBeUndefined()
        expect(up.results?.map((r) => [r.migrationName, r.status])).toEqual([
          ['001_items', 'Success'],
          ['002_name', 'Success'],
        ])
        await db.insertInto('m_items').values({ id: 1, name: 'one' }).execute()
        expect(await db.selectFrom('m_items').selectAll().execute()).toEqual([{ id: 1, name: 'one' }])
        const { rows } = await sql<{ n: number }>`select count(*) as n from m_items`.execute(db)
        expect(Number(rows[0]!.n)).toBe(1)
        const down = await migrator.migrateDown()
        expect(down.error).toBeUndefined()
        expect(down.results?.map((r) => [r.migrationName, r.status])).toEqual([['002_name', 'Success']])
        const applied = await db.selectFrom('kysely_migration').select('name').execute()
        expect(applied.map((r) => r.name)).toEqual(['001_items'])
        expect(await db.selectFrom('m_items').selectAll().execute()).toEqual([{ id: 1 }])
      } finally {
        await db.destroy()
        await fixture.close()
      }
    })
  })
}
