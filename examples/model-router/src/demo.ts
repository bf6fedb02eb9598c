import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readConfig } from './config'
import { countMetrics, openDatabase } from './db'
import { runLoad } from './load'
import { attributeFailures, clockTime, formatOutage, scheduleOutage } from './outage'
import { formatReport } from './report'
import { type RunningRouter, startRouter } from './server'
import { checkStoredMetrics, countCompletions } from './stored-check'

// The README's first command: start the router with its fake providers on embedded defaults,
// drive it for ~20 s with an outage of the fastest provider halfway, print the report, check that
// every completion was written, and exit 0 (1 when rows are missing).
const seconds = Number(process.env.DEMO_SECONDS ?? 20)
const OUTAGE_PROVIDER = 'alpha'

// Unless the caller names a database, the demo's SQLite files live in a directory of their own,
// removed however the process ends (the `exit` handler also runs after an uncaught error).
const ownDir =
  process.env.SQLITE_FILE || process.env.DATABASE_URL
    ? undefined
    : mkdtempSync(join(tmpdir(), 'hotpath-model-router-'))
const removeOwnDir = () => {
  if (ownDir) rmSync(ownDir, { recursive: true, force: true })
}
process.on('exit', removeOwnDir)

let running: RunningRouter | undefined
const interrupt = (signal: NodeJS.Signals) => {
  console.log(`\n${signal}: stopping the router${ownDir ? ` and removing ${ownDir}` : ''}`)
  // Bounded: a second signal, or a stop that hangs, still ends the process (and the exit hook runs).
  setTimeout(() => process.exit(130), 2_000).unref()
  void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(130))
}
process.once('SIGINT', interrupt)
process.once('SIGTERM', interrupt)

// Announcements go to stdout; on a terminal the progress bar (stderr) is cleared first so the
// line does not land in the middle of it.
const announce = (line: string) => {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K')
  console.log(line)
}

const config = readConfig({
  ...process.env,
  PORT: '0',
  SQLITE_FILE: process.env.SQLITE_FILE ?? join(ownDir ?? tmpdir(), 'router.db'),
})
running = await startRouter(config)
console.log(
  `model router on ${running.url} (${config.databaseUrl ? 'PostgreSQL' : `SQLite ${config.sqliteFile}`}${config.redisUrl ? ', Redis L2 + bus' : ', memory L1'})`,
)
console.log(`live charts: open ${running.url}/ while it runs`)
const startedAt = Date.now()
console.log(`${clockTime(startedAt)}  driving load for ${seconds} s with 32 clients...`)

// Halfway through, the fastest provider goes down for 3 s (less on short runs): the report
// shows the failover and which failures the outage caused.
const outage = scheduleOutage(running.providers.get(OUTAGE_PROVIDER)!, {
  startAfterMs: (seconds * 1000) / 2,
  durationMs: Math.min(3_000, seconds * 300),
  log: announce,
})

const result = await runLoad({
  url: running.url,
  durationMs: seconds * 1000,
  concurrency: 32,
  progress: true,
})
outage.end()
const stats = running.router.stats()
const advice = running.router.advice()
await running.stop()
const { db } = openDatabase(config)
const stored = await countMetrics(db, startedAt)
await db.destroy()

console.log()
console.log(formatReport(result, stats, advice))
console.log(formatOutage(outage.window, attributeFailures(result.responses, outage.window)))
// The router writes one metric row per completion it answered (200 or 5xx) through the batcher;
// the rows of this run must match the completions the clients counted.
const check = checkStoredMetrics(countCompletions(result.completions), stored, result.completions.error ?? 0)
console.log(`\nrequest metrics stored: ${check.message}`)
if (!check.ok) process.exitCode = 1
