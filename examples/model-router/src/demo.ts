import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readConfig } from './config'
import { countMetrics, openDatabase } from './db'
import { runLoad } from './load'
import { formatReport } from './report'
import { startRouter } from './server'

// The README's first command: start the router with its fake providers on embedded defaults,
// drive it for ~20 s, print the report and exit 0.
const seconds = Number(process.env.DEMO_SECONDS ?? 20)
const config = readConfig({
  ...process.env,
  PORT: '0',
  SQLITE_FILE: process.env.SQLITE_FILE ?? join(tmpdir(), `hotpath-model-router-${process.pid}.db`),
})
const running = await startRouter(config)
console.log(
  `model router on ${running.url} (${config.databaseUrl ? 'PostgreSQL' : `SQLite ${config.sqliteFile}`}${config.redisUrl ? ', Redis L2 + bus' : ', memory L1'})`,
)
console.log(`driving load for ${seconds} s with 32 clients...`)

// Halfway through, the fastest provider goes down for 3 s: the report shows the failover.
const outage = setTimeout(
  () => {
    const alpha = running.providers.get('alpha')!
    alpha.behaviour.down = true
    setTimeout(() => {
      alpha.behaviour.down = false
    }, 3_000).unref()
  },
  (seconds * 1000) / 2,
)
outage.unref()

const result = await runLoad({
  url: running.url,
  durationMs: seconds * 1000,
  concurrency: 32,
  progress: true,
})
const stats = running.router.stats()
const advice = running.router.advice()
await running.stop()
const { db } = openDatabase(config)
const stored = await countMetrics(db)
await db.destroy()

console.log()
console.log(formatReport(result, stats, advice))
// Every completion (answered 200 or 502) writes one metric row through the batcher.
const completions =
  Object.values(result.byProvider).reduce((a, b) => a + b, 0) + (result.statuses['502'] ?? 0)
console.log(
  `\nrequest metrics stored: ${stored} rows for ${completions} completions (written in batches, none lost)`,
)
