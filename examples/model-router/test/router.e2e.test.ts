import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dropRedisPrefix, needService, redisUrl, tempPgSchema, uniquePrefix } from '@hotpath/test-utils'
import Redis from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { countMetrics, openDatabase } from '../src/db'
import { runLoad } from '../src/load'
import { roundStats } from '../src/round-stats'
import { type RunningRouter, startRouter } from '../src/server'

const started: RunningRouter[] = []
afterEach(async () => {
  for (const running of started.splice(0)) await running.stop().catch(() => {})
})

let fileCounter = 0
function testConfig(env: Record<string, string> = {}) {
  const file = join(tmpdir(), `hotpath-router-test-${process.pid}-${++fileCounter}.db`)
  return readConfig({ PORT: '0', SQLITE_FILE: file, UPSTREAM_TIMEOUT_MS: '1000', ...env })
}

async function start(env: Record<string, string> = {}) {
  const config = testConfig(env)
  const running = await startRouter(config)
  started.push(running)
  return { running, config }
}

function complete(url: string, model: string, headers: Record<string, string> = {}) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
  })
}

describe('model router over HTTP', () => {
  it('lists models and answers completions through a provider', async () => {
    const { running } = await start()
    for (const p of running.providers.values()) p.behaviour.errorRate = 0
    const models = (await (await fetch(`${running.url}/v1/models`)).json()) as { data: { id: string }[] }
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini')

    const response = await complete(running.url, 'gpt-4o-mini')
    expect(response.status).toBe(200)
    const body = (await response.json()) as { choices: { message: { content: string } }[]; provider: string }
    expect(body.choices[0]!.message.content).toContain('echo: hello')
    expect(['alpha', 'beta', 'gamma']).toContain(response.headers.get('x-provider'))
    expect(response.headers.get('server-timing')).toMatch(/total;dur=/)
  })

  it('rejects bad bodies and unknown models with clear errors', async () => {
    const { running } = await start()
    const bad = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o' }),
    })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/messages/)
    const unknown = await complete(running.url, 'no-such-model')
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain(
      "'no-such-model'",
    )
  })

  it('fails over when a provider goes down', async () => {
    const { running } = await start()
    for (const p of running.providers.values()) p.behaviour.errorRate = 0
    running.providers.get('alpha')!.behaviour.down = true
    // Ranking weighs latency against success rate, so how often the failing provider is retried
    // depends on the healthy one's latency: a steady 150 ms keeps alpha ranked first until it
    // trips (with gamma's own 80 ms ± 30%, a fast run tried alpha only twice).
    Object.assign(running.providers.get('gamma')!.behaviour, { latencyMs: 150, jitter: 0 })
    const served = new Set<string>()
    for (let i = 0; i < 10; i++) {
      const response = await complete(running.url, 'llama-3-70b') // served by alpha and gamma
      expect(response.status).toBe(200)
      served.add(response.headers.get('x-provider')!)
      await response.arrayBuffer()
    }
    expect(served).toEqual(new Set(['gamma']))
    // alpha is tried until it has failed 3 times in a row, then ranked last while it cools down
    const alpha = running.router.scores.snapshot().find((s) => s.name === 'alpha')!
    expect(alpha.consecutiveFailures).toBe(3)
    expect(alpha.calls).toBe(3)

    running.providers.get('gamma')!.behaviour.down = true
    const none = await complete(running.url, 'llama-3-70b')
    expect(none.status).toBe(502)
  })

  it('gives up on a provider that hangs past the upstream timeout and fails over', async () => {
    const { running } = await start({ UPSTREAM_TIMEOUT_MS: '300' })
    // gamma's catalog error rate (5 %) would turn the failover into a 502 now and then
    for (const p of running.providers.values()) p.behaviour.errorRate = 0
    Object.assign(running.providers.get('alpha')!.behaviour, { latencyMs: 60_000, jitter: 0 })
    const started = performance.now()
    const response = await complete(running.url, 'llama-3-70b') // alpha ranks first, then gamma
    const elapsed = performance.now() - started
    expect(response.status).toBe(200)
    expect(response.headers.get('x-provider')).toBe('gamma')
    expect(((await response.json()) as { provider: string }).provider).toBe('gamma')
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(5_000)
    const alpha = running.router.scores.snapshot().find((s) => s.name === 'alpha')!
    expect(alpha).toMatchObject({ calls: 1, failures: 1 })
  })

  it('answers 429 with Retry-After once a client exceeds its limit', async () => {
    const { running } = await start({ RATE_LIMIT_PER_MINUTE: '3' })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      const response = await complete(running.url, 'gpt-4o', { authorization: 'Bearer client-a' })
      statuses.push(response.status)
      if (response.status === 429) {
        const retryAfter = Number(response.headers.get('retry-after'))
        expect(retryAfter).toBeGreaterThan(0)
        // The IETF RateLimit field names the same second as Retry-After.
        expect(response.headers.get('ratelimit')).toBe(`"per-client";r=0;t=${retryAfter}`)
      } else expect(response.headers.get('ratelimit')).toMatch(/^"per-client";r=[0-2];t=\d+$/)
      await response.arrayBuffer()
    }
    expect(statuses.filter((s) => s === 429)).toHaveLength(2)
    const other = await complete(running.url, 'gpt-4o', { authorization: 'Bearer client-b' })
    expect(other.status).not.toBe(429)
  })

  it('caches the catalogs: repeated requests hit L1 and load each list once', async () => {
    const { running } = await start()
    for (let i = 0; i < 10; i++) await (await fetch(`${running.url}/v1/models`)).arrayBuffer()
    const stats = (await (await fetch(`${running.url}/stats`)).json()) as {
      cache: { loads: number; hitRate: number }
    }
    expect(stats.cache.loads).toBe(1)
    expect(stats.cache.hitRate).toBeGreaterThan(0.8)
    await (await complete(running.url, 'gpt-4o')).arrayBuffer()
    const metrics = await (await fetch(`${running.url}/metrics`)).text()
    expect(metrics).toMatch(/http_request_duration/)
    // collect() recognised the real primitives by their stats() (a renamed field would drop these)
    expect(metrics).toMatch(/^hotpath_cache_hit_ratio\{[^}]*\} 0\.\d+/m)
    expect(metrics).toMatch(/^hotpath_semaphore_permits\{[^}]*\} 32$/m)
    expect(metrics).toMatch(/^hotpath_rate_limiter_allowed\S*\{[^}]*\} [1-9]/m)
    expect(metrics).toMatch(/^hotpath_batcher_batches\S*\{[^}]*\} \d+/m)
  })

  it('/stats rounds its figures: ratios to 3 decimals, durations to 0.1 ms (1 µs below 1 ms)', async () => {
    const { running } = await start()
    // Long enough for at least one whole interval of the live figures.
    await runLoad({ url: running.url, durationMs: 1_500, concurrency: 4 })
    const stats = (await (await fetch(`${running.url}/stats`)).json()) as Record<string, unknown>
    const decimals = (value: number) => String(value).split('.')[1]?.length ?? 0
    /** Paths of the numbers with more decimals than their kind allows. */
    const tooPrecise = (value: unknown, path = 'stats', key = ''): string[] => {
      if (typeof value === 'number') {
        const limit = /rate$|ratio$/i.test(key) || Math.abs(value) < 1 ? 3 : 1
        return decimals(value) > limit ? [`${path} = ${value}`] : []
      }
      if (!value || typeof value !== 'object') return []
      return Object.entries(value).flatMap(([k, v]) =>
        tooPrecise(v, `${path}.${k}`, Array.isArray(value) ? key : k),
      )
    }
    expect(tooPrecise(stats)).toEqual([])
    // The same figures straight from the packages' stats() are not rounded: the endpoint does it.
    expect(tooPrecise(running.router.stats()).length).toBeGreaterThan(0)
    const live = stats.live as { seq: number; completions: number; throughput: number }
    expect(live.seq).toBeGreaterThan(0)
    expect(live.completions).toBeGreaterThan(0)
    expect(live.throughput).toBeGreaterThan(0)
  })

  it('roundStats rounds by kind of figure and keeps everything else', () => {
    expect(
      roundStats({
        hitRate: 0.9924812,
        name: 'x',
        ok: true,
        count: 12,
        holdTime: { p50: 5.54703, p99: 0.712889, max: 219.71748 },
        providers: [{ successRate: 0.81234, latencyMs: 47.44 }],
      }),
    ).toEqual({
      hitRate: 0.992,
      name: 'x',
      ok: true,
      count: 12,
      holdTime: { p50: 5.5, p99: 0.713, max: 219.7 },
      providers: [{ successRate: 0.812, latencyMs: 47.4 }],
    })
  })

  it('writes every request metric in batches; nothing is lost at shutdown', async () => {
    const { running, config } = await start()
    for (const p of running.providers.values()) p.behaviour.errorRate = 0
    const total = 120
    const responses = await Promise.all(
      Array.from({ length: total }, () => complete(running.url, 'gpt-4o-mini')),
    )
    expect(responses.every((r) => r.status === 200)).toBe(true)
    const { batches, keys, pending } = running.router.writer.stats()
    expect(keys + pending).toBe(total)
    expect(batches).toBeLessThan(total / 2)
    started.splice(started.indexOf(running), 1)
    await running.stop()
    const { db } = openDatabase(config)
    expect(await countMetrics(db)).toBe(total)
    await db.destroy()
  })
})

describe.runIf(await needService('postgres'))('model router on PostgreSQL', () => {
  it('stores batched metrics in PostgreSQL when DATABASE_URL is set', async () => {
    const schema = await tempPgSchema()
    try {
      const { running } = await start({ DATABASE_URL: schema.url })
      for (const p of running.providers.values()) p.behaviour.errorRate = 0
      const responses = await Promise.all(Array.from({ length: 30 }, () => complete(running.url, 'gpt-4o')))
      expect(responses.every((r) => r.status === 200)).toBe(true)
      const stats = running.router.stats() as { database: { acquired: number } }
      expect(stats.database.acquired).toBeGreaterThan(0)
      started.splice(started.indexOf(running), 1)
      await running.stop()
      const { db } = openDatabase({ databaseUrl: schema.url, sqliteFile: '' })
      expect(await countMetrics(db)).toBe(30)
      await db.destroy()
    } finally {
      await schema.drop()
    }
  })
})

describe.runIf(await needService('redis'))('model router with Redis', () => {
  it('uses Redis as L2: a second instance reads the catalog from Redis instead of the database', async () => {
    const prefix = uniquePrefix('router')
    const env = { REDIS_URL: redisUrl(), REDIS_PREFIX: prefix }
    const client = new Redis(redisUrl())
    try {
      const { running: first } = await start(env)
      await (await fetch(`${first.url}/v1/models`)).arrayBuffer()
      expect(first.router.cache.stats().loads).toBe(1)
      // L2 writes may complete in the background: wait (bounded) until the entry is in Redis
      let keys: string[] = []
      for (let i = 0; i < 50 && keys.length === 0; i++) {
        keys = await client.keys(`${prefix}*`)
        if (keys.length === 0) await new Promise((r) => setTimeout(r, 20))
      }
      expect(keys.length).toBeGreaterThan(0)

      const { running: second } = await start(env)
      const models = (await (await fetch(`${second.url}/v1/models`)).json()) as { data: unknown[] }
      expect(models.data.length).toBeGreaterThan(0)
      const stats = second.router.cache.stats()
      expect(stats.loads).toBe(0)
      expect(stats.l2.hits).toBeGreaterThan(0)
    } finally {
      await dropRedisPrefix(client, prefix)
      client.disconnect()
    }
  })
})
