import type { Dialect, Kysely, LogEvent, Migrator, sql } from 'kysely'
import type { Fixture, Target } from './targets'

// biome-ignore lint/suspicious/noExplicitAny: scenarios work on tables they create themselves
export type AnyDb = Kysely<any>

/** What the Kysely release under test offers; a scenario that needs more is skipped, saying why. */
export interface Capabilities {
  /** The release, e.g. `Kysely 0.27`. */
  label: string
  /** `db.startTransaction()` and savepoints (0.28 on). */
  controlledTransactions: boolean
  /** `db.transaction().setAccessMode()` (0.28 on). */
  accessMode: boolean
}

/**
 * What a scenario gets: its target, a fresh database, Kysely instances destroyed after it, and the
 * `Kysely`, `Migrator` and `sql` of the release under test (typed as the workspace's).
 */
export interface ScenarioContext {
  target: Target
  fixture: Fixture
  /** A Kysely instance on a new dialect object (or on `dialect`), destroyed after the scenario. */
  kysely(options?: { dialect?: Dialect; max?: number; log?: (event: LogEvent) => void }): AnyDb
  Kysely: typeof Kysely
  Migrator: typeof Migrator
  sql: typeof sql
}

/** One behaviour, checked the same way on every target. */
export interface Scenario {
  name: string
  /** Why this scenario does not apply to `target` (or to the release under test), if it does not. */
  skip?(target: Target, capabilities: Capabilities): string | undefined
  run(context: ScenarioContext): Promise<void>
}

export const serverOnly = (target: Target) =>
  target.engine === 'sqlite' ? 'needs a database server' : undefined
export const hotpathOnly = (why: string) => (target: Target) =>
  target.control ? `a guarantee of hotpath's dialects beyond Kysely's: ${why}` : undefined

/** Creates `items (id auto-increment primary key, name unique, qty)`. */
export async function createItems(db: AnyDb, target: Target, table = 'items'): Promise<void> {
  let builder = db.schema.createTable(table)
  if (target.engine === 'postgres') builder = builder.addColumn('id', 'serial', (c) => c.primaryKey())
  else builder = builder.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
  await builder
    .addColumn('name', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('qty', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
}

export async function names(db: AnyDb, table = 'items'): Promise<string[]> {
  const rows = await db.selectFrom(table).select('name').orderBy('name').execute()
  return rows.map((row) => String(row.name))
}

/** The rejection of `promise` (which must reject). */
export const failure = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let migrationRuns = 0

/**
 * Migration table names of their own for one Migrator run. Kysely's PostgreSQL introspector lists
 * the tables of every schema, so a Migrator that finds another test file's `kysely_migration_lock`
 * (in that file's schema) skips creating its own and then fails to read it; test files run in
 * parallel, so each run names its tables.
 */
export function migrationTables(): { migrationTableName: string; migrationLockTableName: string } {
  const id = `${process.pid}_${++migrationRuns}`
  return {
    migrationTableName: `kysely_migration_${id}`,
    migrationLockTableName: `kysely_migration_lock_${id}`,
  }
}

/**
 * Why the Migrator is not run on `engine` with this release, if it is not: Kysely 0.27's Migrator
 * takes a migration table of any schema for its own on PostgreSQL (it does not compare schemas),
 * so another schema's tables in the same database make it fail, with default or renamed tables.
 */
export function migratorSkip(engine: string, capabilities: Capabilities): string | undefined {
  return engine === 'postgres' && capabilities.label.startsWith('Kysely 0.27')
    ? "Kysely 0.27's Migrator on PostgreSQL takes another schema's migration tables for its own"
    : undefined
}
