import { type Cache, createCache } from '@hotpath/cache'
import { Batcher, RateLimiter } from '@hotpath/concurrency'
import { rateLimit } from '@hotpath/concurrency/http'
import {
  type Advice,
  advise,
  collect,
  createRegistry,
  prometheusHandler,
  type Registry,
  runtimeMetrics,
  timingMiddleware,
} from '@hotpath/metrics'
import Fastify, { type FastifyInstance } from 'fastify'
import type { ModelEntry, ProviderEntry } from './catalog'
import { BAD_CHAT_REQUEST, isChatRequest } from './chat-request'
import type { RouterConfig } from './config'
import { insertMetrics, loadModels, loadProviders, type RequestMetric, type RouterDb } from './db'
import { LiveWindow } from './live-window'
import { ProviderScores } from './provider-scores'
import { openRedisTier, type RedisTier } from './redis-tier'
import { roundStats } from './round-stats'
import { loadStaticFiles } from './static-files'
import { AllProvidersFailedError, type ChatRequest, Upstream } from './upstream'

/** The running router: the Fastify app and the pieces `/stats` and the load report read. */
export interface Router {
  readonly app: FastifyInstance
  readonly registry: Registry
  readonly cache: Cache
  readonly scores: ProviderScores
  readonly upstream: Upstream
  readonly writer: Batcher<RequestMetric, void>
  /** Everything `/stats` returns (unrounded; the endpoint rounds it for reading). */
  stats(): Record<string, unknown>
  /** Recommendations from `@hotpath/metrics` on the figures collected so far. */
  advice(): Advice[]
  /** Flushes pending metric writes and closes every resource (the database is the caller's). */
  close(): Promise<void>
}

/**
 * Builds the router on an open database.
 *
 * @example
 * const router = await buildRouter(config, openDatabase(config))
 * await router.app.listen({ port: 8080 })
 */
export async function buildRouter(config: RouterConfig, database: RouterDb): Promise<Router> {
  const { db } = database
  const registry = createRegistry()
  const redis: RedisTier | undefined = config.redisUrl
    ? openRedisTier(config.redisUrl, config.redisPrefix)
    : undefined
  const cache = createCache({
    namespace: 'router',
    l1: { maxEntries: 10_000 },
    ttl: '5m',
    grace: '1h',
    ...(redis ? { l2: redis.store, bus: redis.bus } : {}),
  })
  // Per-kind TTLs: models 5 min, providers 10 min, health 1 min.
  const models = cache.namespace('models', { ttl: '5m' })
  const providers = cache.namespace('providers', { ttl: '10m' })
  const providerNames = (await loadProviders(db)).map((p) => p.name)
  const scores = new ProviderScores(providerNames)
  const upstream = new Upstream(scores, providerNames, {
    concurrency: config.providerConcurrency,
    timeoutMs: config.upstreamTimeoutMs,
  })
  const writer = new Batcher<RequestMetric, void>((batch) => insertMetrics(db, batch), {
    maxBatchSize: 500,
    maxDelay: '200ms',
    dedupe: false,
  })
  // Per-client limit, as an API gateway's per-IP limits: keyed by API key, else by address.
  const limiter = new RateLimiter({
    limit: config.rateLimitPerMinute,
    window: '1m',
    algorithm: 'sliding-window',
  })
  const completions = registry.counter('router_completions', {
    help: 'Chat completions by model, provider and outcome',
    labels: ['model', 'provider', 'status'],
  })

  const listModels = () => models.getOrSet('all', () => loadModels(db)) as Promise<ModelEntry[]>
  const listProviders = () => providers.getOrSet('all', () => loadProviders(db)) as Promise<ProviderEntry[]>

  // Cache, semaphores, limiter and batch writer become metrics; the runtime adds event-loop and heap.
  const live = new LiveWindow(cache)
  const collector = collect(registry, cache, limiter, writer, ...upstream.limits.values())
  const runtime = runtimeMetrics(registry, { interval: '5s', unref: true })

  const app = Fastify({ logger: false })
  await app.register(timingMiddleware({ registry }))

  app.get('/v1/models', async () => {
    const list = await listModels()
    return {
      object: 'list',
      data: list.map((m) => ({ id: m.id, object: 'model', owned_by: m.ownedBy, providers: m.providers })),
    }
  })

  // Only the completions route is limited: the plugin's hook applies to the context that
  // registers it, and it answers 429 before the body is even parsed.
  const perClient = rateLimit({
    limiter,
    key: (req) => req.headers.authorization ?? req.socket.remoteAddress ?? '',
    policy: 'per-client',
    message: {
      error: { message: `Rate limit of ${config.rateLimitPerMinute} requests per minute reached.` },
    },
  })
  await app.register(async (limited) => {
    await limited.register(perClient.fastify)
    limited.post('/v1/chat/completions', async (request, reply) => {
      const body = request.body
      if (!isChatRequest(body)) return reply.code(400).send({ error: { message: BAD_CHAT_REQUEST } })
      const model = (await listModels()).find((m) => m.id === body.model)
      if (!model)
        return reply
          .code(404)
          .send({ error: { message: `Unknown model '${body.model}'. See GET /v1/models.` } })
      const candidates = (await listProviders()).filter((p) => model.providers.includes(p.name))
      const timed = live.start()
      try {
        const routed = await upstream.complete(body as ChatRequest, candidates)
        completions.with({ model: model.id, provider: routed.provider, status: '200' }).inc()
        void writer
          .add({
            model: model.id,
            provider: routed.provider,
            status: 200,
            latencyMs: routed.latencyMs,
            at: Date.now(),
          })
          .catch(() => {})
        reply.header('x-provider', routed.provider)
        timed(200)
        return routed.body
      } catch (error) {
        const status = error instanceof AllProvidersFailedError ? 502 : 500
        completions.with({ model: model.id, provider: 'none', status: String(status) }).inc()
        void writer
          .add({ model: model.id, provider: 'none', status, latencyMs: 0, at: Date.now() })
          .catch(() => {})
        timed(status)
        return reply.code(status).send({ error: { message: (error as Error).message } })
      }
    })
  })

  const stats = () => ({
    cache: cache.stats(),
    providers: scores.snapshot(),
    upstream: Object.fromEntries([...upstream.limits].map(([name, sem]) => [name, sem.stats()])),
    writer: writer.stats(),
    limiter: limiter.stats(),
    database: database.poolStats(),
    live: live.figures(),
  })
  app.get('/stats', async () => roundStats(stats()))
  // The live page: static files polling /stats, no build step.
  for (const file of loadStaticFiles()) {
    app.get(file.path, async (_request, reply) => reply.type(file.contentType).send(file.body))
  }
  app.get('/advice', async () => advise(registry.snapshot()))
  app.get('/metrics', prometheusHandler(registry))

  return {
    app,
    registry,
    cache,
    scores,
    upstream,
    writer,
    stats,
    advice: () => advise(registry.snapshot()),
    async close() {
      runtime.stop()
      collector.stop()
      live.close()
      await app.close()
      upstream.close()
      await writer.close()
      await cache.close()
      await redis?.close()
    },
  }
}
