import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteDialect } from '@hotpath/pool/kysely'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { defineScenario } from '../lib/scenario'

// 16 concurrent reads, each an aggregate over 40,000 rows (a few ms each): Kysely's stock
// SqliteDialect runs them one after the other on the main thread; readers: 4 runs them on 4
// worker threads. The two contenders alternate batch by batch (ROUNDS rounds) so that load from
// other processes on the machine hits both alike; the table shows medians.
const ROWS = 40_000
const CONCURRENT = 16
const ROUNDS = 15
const BATCHES_PER_ROUND = 6

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

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
  const contenders = {
    'hotpath sqliteDialect readers: 4': hotpath,
    'kysely SqliteDialect': stock,
  }

  return {
    name: 'pool/sqlite-readers',
    description: `${CONCURRENT} concurrent aggregate reads over ${ROWS.toLocaleString('en')} rows, interleaved rounds (medians)`,
    measure: async () => {
      for (const db of Object.values(contenders)) await Promise.all(moduli.map((m) => query(m).execute(db)))
      const t0 = performance.now()
      for (let i = 0; i < 5; i++) await query(3).execute(stock)
      const singleMs = (performance.now() - t0) / 5
      const rates: Record<string, number[]> = {}
      const stalls: Record<string, number[]> = {}
      for (const name of Object.keys(contenders)) {
        rates[name] = []
        stalls[name] = []
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, db] of Object.entries(contenders)) {
          // longest gap between two runs of a 1 ms interval: how long the loop was unavailable
          let last = performance.now()
          let stall = 0
          const ticker = setInterval(() => {
            const now = performance.now()
            stall = Math.max(stall, now - last)
            last = now
          }, 1)
          const started = performance.now()
          for (let b = 0; b < BATCHES_PER_ROUND; b++)
            await Promise.all(moduli.map((m) => query(m).execute(db)))
          const elapsed = performance.now() - started
          clearInterval(ticker)
          stall = Math.max(stall, performance.now() - last)
          rates[name]!.push((BATCHES_PER_ROUND * CONCURRENT * 1_000) / elapsed)
          stalls[name]!.push(stall)
        }
      }
      const base = median(rates['kysely SqliteDialect']!)
      return Object.keys(contenders).map((name) => ({
        name,
        'reads/s (median)': Math.round(median(rates[name]!)),
        'vs kysely SqliteDialect': Number((median(rates[name]!) / base).toFixed(2)),
        'longest event-loop stall ms (median)': Number(median(stalls[name]!).toFixed(1)),
        'single read ms': Number(singleMs.toFixed(2)),
      }))
    },
    teardown: async () => {
      await hotpath.destroy()
      await stock.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})
