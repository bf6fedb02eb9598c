import { needService } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'
import { migrationTables, migratorSkip } from './kit'
import { capabilitiesOf, type KyselyRelease, runConformance } from './runner'
import { type Engine, targetsOf } from './targets'

// biome-ignore lint/suspicious/noExplicitAny: each release has its own types; these tests check run-time behaviour
type Loose = any

const migrations = {
  '001_items': {
    async up(db: Loose) {
      await db.schema
        .createTable('m_items')
        .addColumn('id', 'integer', (c: Loose) => c.primaryKey())
        .execute()
    },
    async down(db: Loose) {
      await db.schema.dropTable('m_items').execute()
    },
  },
  '002_name': {
    async up(db: Loose) {
      await db.schema.alterTable('m_items').addColumn('name', 'varchar(64)').execute()
    },
    async down(db: Loose) {
      await db.schema.alterTable('m_items').dropColumn('name').execute()
    },
  },
}

/**
 * Every conformance scenario under another Kysely release (what the release lacks is skipped,
 * naming why), on hotpath's dialects and on that release's own as the control; then, on
 * hotpath's dialects, a Migrator up and down, a query and a `sql` template.
 */
export async function runKyselyRelease(release: KyselyRelease): Promise<void> {
  const engines: Engine[] = ['postgres', 'mysql', 'sqlite']
  for (const engine of engines) await runConformance(engine, release)
  const { Kysely, Migrator } = release as Loose
  const sql = release.sql as Loose
  for (const engine of engines) {
    const available = engine === 'sqlite' || (await needService(engine))
    const target = targetsOf(engine).find((t) => !t.control)!
    const skipped = migratorSkip(engine, capabilitiesOf(release))
    describe.runIf(available)(`${release.label} Migrator and queries on ${target.name}`, () => {
      const title = 'migrates to latest and down one step; a query and a sql template run'
      // The reason is part of the name, so the report says why the test did not run.
      it.skipIf(skipped !== undefined)(skipped ? `${title} (${skipped})` : title, async () => {
        const fixture = await target.open()
        const db = new Kysely({ dialect: fixture.dialect() })
        try {
          const tables = migrationTables()
          const migrator = new Migrator({
            db,
            provider: { getMigrations: async () => migrations },
            ...tables,
          })
          const up = await migrator.migrateToLatest()
          expect(up.error).toBeUndefined()
          expect(up.results?.map((r: Loose) => [r.migrationName, r.status])).toEqual([
            ['001_items', 'Success'],
            ['002_name', 'Success'],
          ])
          await db.insertInto('m_items').values({ id: 1, name: 'one' }).execute()
          expect(await db.selectFrom('m_items').selectAll().execute()).toEqual([{ id: 1, name: 'one' }])
          const { rows } = await sql`select count(*) as n from m_items`.execute(db)
          expect(Number(rows[0].n)).toBe(1)
          const down = await migrator.migrateDown()
          expect(down.error).toBeUndefined()
          expect(down.results?.map((r: Loose) => [r.migrationName, r.status])).toEqual([
            ['002_name', 'Success'],
          ])
          const applied = await db.selectFrom(tables.migrationTableName).select('name').execute()
          expect(applied.map((r: Loose) => r.name)).toEqual(['001_items'])
          expect(await db.selectFrom('m_items').selectAll().execute()).toEqual([{ id: 1 }])
        } finally {
          await db.destroy()
          await fixture.close()
        }
      })
    })
  }
}
