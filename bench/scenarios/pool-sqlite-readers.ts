import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteDialect } from '@hotpath/pool/kysely'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { defineScenario } from '../lib/scenario'

// 16 concurrent reads, each an aggregate over 40,000 rows (about 2-3 ms on this machine):
// Kysely's stock SqliteDialect runs them one after the other on the main thread; readers: 4 runs
// them on 4 worker threads.
const ROWS = 40_000
const CONCURRENT = 16

export default defineScenario(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-bench-sqlite-'))
  const filename = join(dir, 'bench.db')
  const seed = new Database(filename)
  seed.pragma('journal_mode = WAL')
  seed.exec('create table t (id integer primary key, v integer not null, s text not null)')
  const insert = seed.prepare('insert into t (v, s) values (?, ?)')
  seed.transaction(() => {
    for (let i = 0; i < ROWS; i++) insert.run(i, `row-${i}`)
  })()
  seed.close()

  const hotpath = new Kysely<unknown>({ dialect: sqliteDialect({ filename, readers: 4 }) })
  const stock = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(filename) }) })
  const query = (m: number) =>
    sql<{ n: number }>`select count(*) as n, sum(length(s)) as l from t where v % ${m} = 0 and s like '%9%'`
  const moduli = Array.from({ length: CONCURRENT }, (_, i) => 2 + (i % 7))
  // warm both (statement caches, reader workers)
  await Promise.all(moduli.map((m) => query(m).execute(hotpath)))
  await Promise.all(moduli.map((m) => query(m).execute(stock)))
  const t0 = performance.now()
  await query(3).execute(stock)
  const single = performance.now() - t0

  return {
    name: 'pool/sqlite-readers',
    description: `${CONCURRENT} concurrent reads of ~${single.toFixed(1)} ms each: sqliteDialect readers: 4 vs Kysely SqliteDialect`,
    baseline: 'kysely SqliteDialect',
    opsPerRun: CONCURRENT,
    time: 3_000,
    tasks: {
      'hotpath sqliteDialect readers: 4': () => Promise.all(moduli.map((m) => query(m).execute(hotpath))),
      'kysely SqliteDialect': () => Promise.all(moduli.map((m) => query(m).execute(stock))),
    },
    teardown: async () => {
      await hotpath.destroy()
      await stock.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})
