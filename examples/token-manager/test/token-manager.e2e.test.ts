import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { countUsage, openDatabase } from '../src/db'
import { runLoad } from '../src/load'
import { formatReport } from '../src/report'
import { type RunningTokenManager, startTokenManager } from '../src/server'

const started: RunningTokenManager[] = []
afterEach(async () => {
  for (const running of started.splice(0)) await running.stop().catch(() => {})
})

let counter = 0
async function start(env: Record<string, string> = {}, initialTokens = 8) {
  const config = readConfig({
    PORT: '0',
    SQLITE_FILE: join(tmpdir(), `hotpath-tokens-${process.pid}-${++counter}.db`),
    POLL_SCALE: '0.01', // 50 ms / 30 ms / 20 ms, capped at 100 ms
    ...env,
  })
  const running = await startTokenManager(config, initialTokens)
  started.push(running)
  return { running, config }
}

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('token manager over HTTP', () => {
  it('caches the active list and updates it on writes without reloading', async () => {
    const { running } = await start()
    const first = (await (await fetch(`${running.url}/tokens`)).json()) as { tokens: { name: string }[] }
    expect(first.tokens).toHaveLength(8)
    const loadsBefore = running.manager.cache.stats().loads
    const created = await fetch(`${running.url}/tokens`, json({ name: 'extra', secret: 'tok-extra' }))
    expect(created.status).toBe(201)
    const after = (await (await fetch(`${running.url}/tokens`)).json()) as { tokens: { name: string }[] }
    expect(after.tokens.map((t) => t.name)).toContain('extra')
    expect(running.manager.cache.stats().loads).toBe(loadsBefore)
    expect(running.manager.tokens.lock.stats().acquired).toBeGreaterThan(8)
  })

  it('validates input with clear errors', async () => {
    const { running } = await start()
    const bad = await fetch(`${running.url}/tokens`, json({ name: '' }))
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toContain('`name`')
    const noJob = await fetch(`${running.url}/videos/nope`)
    expect(noJob.status).toBe(404)
  })

  it('tests every token at most 5 at a time and disables the invalid ones', async () => {
    const { running } = await start({}, 12)
    running.api.options.invalidTokens.add('tok-3')
    running.api.options.invalidTokens.add('tok-7')
    // Long enough that five requests overlap at the server even on a loaded machine.
    running.api.options.testLatencyMs = 300
    const report = (await (await fetch(`${running.url}/tokens/test`, { method: 'POST' })).json()) as {
      tested: number
      failed: number
    }
    expect(report).toMatchObject({ tested: 12, failed: 2 })
    expect(running.api.maxConcurrentTests).toBe(5)
    const active = (await (await fetch(`${running.url}/tokens`)).json()) as { tokens: { secret: string }[] }
    expect(active.tokens.map((t) => t.secret)).not.toContain('tok-3')
    expect(active.tokens).toHaveLength(10)
  })

  it('spreads jobs over the least-loaded tokens and polls each to completion', async () => {
    const { running } = await start({}, 4)
    running.api.options.jobDurationMs = 300
    running.api.options.stallRate = 0
    const jobs = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const response = await fetch(`${running.url}/videos`, json({ prompt: `clip ${i}` }))
        expect(response.status).toBe(202)
        return (await response.json()) as { id: string; tokenId: number }
      }),
    )
    const perToken = new Map<number, number>()
    for (const job of jobs) perToken.set(job.tokenId, (perToken.get(job.tokenId) ?? 0) + 1)
    expect([...perToken.values()]).toEqual([2, 2, 2, 2])

    await running.manager.videos.settle()
    for (const job of jobs) {
      const final = (await (await fetch(`${running.url}/videos/${job.id}`)).json()) as {
        status: string
        progress: number
        url: string
        polls: number
      }
      expect(final).toMatchObject({ status: 'succeeded', progress: 100 })
      expect(final.url).toContain(job.id)
      expect(final.polls).toBeGreaterThan(0)
    }
    expect(running.manager.tokens.load()).toEqual({ 1: 0, 2: 0, 3: 0, 4: 0 })
  })

  it('answers 503 when no token is active', async () => {
    const { running } = await start({}, 2)
    running.api.options.invalidTokens.add('tok-1')
    running.api.options.invalidTokens.add('tok-2')
    await fetch(`${running.url}/tokens/test`, { method: 'POST' })
    const response = await fetch(`${running.url}/videos`, json({ prompt: 'x' }))
    expect(response.status).toBe(503)
    expect(((await response.json()) as { error: string }).error).toContain('No active token')
  })

  it('refreshes tokens in the background job, on demand too', async () => {
    const { running } = await start({}, 3)
    const stats = (await (await fetch(`${running.url}/tokens/refresh`, { method: 'POST' })).json()) as {
      runs: number
    }
    expect(stats.runs).toBe(1)
    const rows = await running.database.db.selectFrom('tokens').select('refreshed_at').execute()
    expect(rows.every((r) => typeof r.refreshed_at === 'number')).toBe(true)
  })

  it('keeps every batched usage row after shutdown, and the load report has its figures', async () => {
    const { running, config } = await start()
    running.api.options.jobDurationMs = 200
    const result = await runLoad({ url: running.url, durationMs: 1_500, readers: 4, jobsPerSecond: 20 })
    expect(result.jobsSubmitted).toBeGreaterThan(10)
    expect(result.statuses['202']).toBe(result.jobsSubmitted)
    const report = formatReport(result, running.manager.stats(), running.manager.advice())
    expect(report).toMatch(/p99\s+\d+\.\d ms/)
    expect(report).toContain('Advice (@hotpath/metrics)')
    expect(report).toMatch(/hit rate\s+\d+\.\d%/)
    started.splice(started.indexOf(running), 1)
    await running.stop()
    const { db } = openDatabase(config.sqliteFile, 0)
    expect(await countUsage(db)).toBe(result.jobsSubmitted)
    await db.destroy()
  })
})
