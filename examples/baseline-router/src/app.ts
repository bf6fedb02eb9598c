import Fastify, { type FastifyInstance } from 'fastify'
import Redis from 'ioredis'
import type { ModelEntry, ProviderEntry } from 'model-router/src/catalog'
import { BAD_CHAT_REQUEST, isChatRequest } from 'model-router/src/chat-request'
import pg from 'pg'

/** Settings of the baseline router. */
export interface BaselineConfig {
  /** PostgreSQL URL (the catalog tables and `request_metrics`, as the model router creates them). */
  databaseUrl: string
  /** Redis URL, the shared cache tier. */
  redisUrl: string
  /** Key prefix in Redis. */
  redisPrefix: string
  /** Upstream call timeout, ms. */
  upstreamTimeoutMs: number
}

/** The running baseline: the Fastify app and what `close()` releases. */
export interface BaselineRouter {
  readonly app: FastifyInstance
  stats(): Record<string, unknown>
  close(): Promise<void>
}

const TTL_SECONDS = 300

/**
 * The router's routes written the way a first version usually is: a Map in memory in front of
 * Redis GET/SET in front of the database (no single-flight, so every miss in a burst queries; no
 * grace, so an expired entry blocks its callers), providers tried in catalog order with no
 * per-provider limit, one INSERT per request awaited in the request, a `pg.Pool` of default size,
 * timing kept by hand in an array. It exists to be measured against the model router.
 *
 * @example
 * const baseline = await buildBaseline({ databaseUrl, redisUrl, redisPrefix: 'baseline:', upstreamTimeoutMs: 2_000 })
 * await baseline.app.listen({ port: 8081 })
 */
export async function buildBaseline(config: BaselineConfig): Promise<BaselineRouter> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl })
  const redis = new Redis(config.redisUrl)
  const memory = new Map<string, { value: unknown; expires: number }>()
  const timings: number[] = []
  let requests = 0

  async function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = memory.get(key)
    if (hit && hit.expires > Date.now()) return hit.value as T
    const remote = await redis.get(config.redisPrefix + key)
    let value: T
    if (remote !== null) value = JSON.parse(remote) as T
    else {
      value = await load()
      await redis.set(config.redisPrefix + key, JSON.stringify(value), 'EX', TTL_SECONDS)
    }
    memory.set(key, { value, expires: Date.now() + TTL_SECONDS * 1000 })
    return value
  }

  const listModels = () =>
    cached<ModelEntry[]>('models', async () => {
      const { rows } = await pool.query('select id, owned_by, providers from models order by id')
      return rows.map((r) => ({ id: r.id, ownedBy: r.owned_by, providers: JSON.parse(r.providers) }))
    })
  const listProviders = () =>
    cached<ProviderEntry[]>('providers', async () => {
      const { rows } = await pool.query('select name, url from providers order by name')
      return rows as ProviderEntry[]
    })

  const app = Fastify({ logger: false })
  app.addHook('onRequest', async (request) => {
    ;(request as unknown as { startedAt: number }).startedAt = Date.now()
  })
  app.addHook('onResponse', async (request) => {
    requests++
    timings.push(Date.now() - (request as unknown as { startedAt: number }).startedAt)
    if (timings.length > 10_000) timings.shift()
  })

  app.get('/v1/models', async () => {
    const list = await listModels()
    return {
      object: 'list',
      data: list.map((m) => ({ id: m.id, object: 'model', owned_by: m.ownedBy, providers: m.providers })),
    }
  })

  app.post('/v1/chat/completions', async (request, reply) => {
    const body = request.body
    if (!isChatRequest(body)) return reply.code(400).send({ error: { message: BAD_CHAT_REQUEST } })
    const model = (await listModels()).find((m) => m.id === body.model)
    if (!model) return reply.code(404).send({ error: { message: `Unknown model '${body.model}'.` } })
    const candidates = (await listProviders()).filter((p) => model.providers.includes(p.name))
    const started = Date.now()
    for (const provider of candidates) {
      try {
        const response = await fetch(`${provider.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(config.upstreamTimeoutMs),
        })
        const answer = await response.json()
        if (!response.ok) continue
        await pool.query(
          'insert into request_metrics (model, provider, status, latency_ms, at) values ($1, $2, $3, $4, $5)',
          [model.id, provider.name, 200, Date.now() - started, Date.now()],
        )
        reply.header('x-provider', provider.name)
        return answer
      } catch {
        // next provider
      }
    }
    await pool.query(
      'insert into request_metrics (model, provider, status, latency_ms, at) values ($1, $2, $3, $4, $5)',
      [model.id, 'none', 502, 0, Date.now()],
    )
    return reply.code(502).send({ error: { message: `Every provider for '${model.id}' failed.` } })
  })

  app.get('/stats', async () => {
    const sorted = [...timings].sort((a, b) => a - b)
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
    return {
      requests,
      latency: { p50: at(0.5), p95: at(0.95), p99: at(0.99) },
      pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
      memoryEntries: memory.size,
    }
  })

  return {
    app,
    stats: () => ({ requests, memoryEntries: memory.size }),
    async close() {
      await app.close()
      redis.disconnect()
      await pool.end()
    },
  }
}
