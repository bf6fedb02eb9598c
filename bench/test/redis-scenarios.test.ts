import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { needService } from '@hotpath/test-utils'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const benchDir = fileURLToPath(new URL('..', import.meta.url))

/** A throughput row has `task` and `opsPerSec`; a measure row has `name` and its columns. */
interface Row {
  task?: string
  name?: string
  [column: string]: number | string | undefined
}

/** Runs scenarios with `--quick` as `pnpm bench` does and returns their rows from latest.json. */
async function quickRun(...filters: string[]): Promise<Record<string, { date: string; rows: Row[] }>> {
  const started = new Date().toISOString()
  await run(
    process.execPath,
    ['--conditions=@hotpath/source', '--expose-gc', '--import', 'tsx', 'run.ts', '--quick', ...filters],
    { cwd: benchDir, timeout: 120_000 },
  )
  const latest = JSON.parse(await readFile(`${benchDir}/results/latest.json`, 'utf8'))
  const all: Record<string, { date: string; rows: Row[] }> = latest.scenarios
  // Only what this run wrote: latest.json also keeps scenarios of earlier runs.
  return Object.fromEntries(Object.entries(all).filter(([, scenario]) => scenario.date >= started))
}

const row = (rows: Row[], name: string) => {
  const found = rows.find((r) => (r.task ?? r.name) === name)
  if (found === undefined)
    throw new Error(`no row named ${name}: ${rows.map((r) => r.task ?? r.name).join(', ')}`)
  return found
}

// The Redis scale-out scenarios run in CI as a smoke test (`--quick`: figures not comparable);
// their full figures are in docs/benchmarks.md.
describe.runIf(await needService('redis'))('Redis bench scenarios (--quick)', () => {
  it('cache-l2-64-in-flight and concurrency-redis-semaphore-wake run and report every row', async () => {
    const scenarios = await quickRun('cache-l2-64-in-flight', 'concurrency-redis-semaphore-wake')
    const l2 = scenarios['cache/l2-hit-64-in-flight']
    expect(l2, 'cache/l2-hit-64-in-flight was not written by this run').toBeDefined()
    for (const name of [
      'ioredis, 64 in flight',
      'hotpath get, 64 in flight',
      'bentocache get, 64 in flight',
    ]) {
      expect(Number(row(l2!.rows, name).opsPerSec)).toBeGreaterThan(0)
    }
    const wake = scenarios['concurrency/redis-semaphore-wake']
    expect(wake, 'concurrency/redis-semaphore-wake was not written by this run').toBeDefined()
    const polled = row(wake!.rows, 'poll only (wakeOnRelease: false)')
    const woken = row(wake!.rows, 'wake-ups over pub/sub (wakeOnRelease: true)')
    for (const r of [polled, woken]) {
      expect(Number(r['wake p50 ms'])).toBeGreaterThan(0)
      expect(Number(r['scripts per acquire'])).toBeGreaterThanOrEqual(1)
    }
  }, 150_000)
})
