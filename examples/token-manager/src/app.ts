import { type Cache, createCache } from '@hotpath/cache'
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
import { every, type Job, pollerStats } from '@hotpath/poller'
import Fastify, { type FastifyInstance } from 'fastify'
import type { TokenManagerConfig } from './config'
import { type OpenDatabase, selectAllTokens } from './db'
import { refreshTokens, testTokens } from './token-checks'
import { NoActiveTokenError, TokenStore } from './token-store'
import { VideoJobs } from './video-jobs'

/** The running token manager. */
export interface TokenManager {
  readonly app: FastifyInstance
  readonly registry: Registry
  readonly cache: Cache
  readonly tokens: TokenStore
  readonly videos: VideoJobs
  readonly refreshJob: Job
  stats(): Record<string, unknown>
  /** Recommendations from `@hotpath/metrics` on the figures collected so far. */
  advice(): Advice[]
  /** Stops the refresh job and the polls, flushes batched writes, closes the cache. */
  close(): Promise<void>
}

/**
 * Builds the token manager on an open database and a provider URL.
 *
 * @example
 * const manager = await buildTokenManager(config, openDatabase('tokens.db', 2), apiUrl)
 */
export async function buildTokenManager(
  config: TokenManagerConfig,
  database: OpenDatabase,
  apiUrl: string,
): Promise<TokenManager> {
  const { db, dialect } = database
  const registry = createRegistry()
  const cache = createCache({ namespace: 'token-manager', l1: { maxEntries: 1_000 } })
  const tokens = new TokenStore(db, cache.namespace('tokens', { ttl: config.tokenCacheTtl }))
  const videos = new VideoJobs(db, tokens, apiUrl, config.pollScale)
  // Token refresh runs in the background so that no request waits for it.
  const refreshJob = every(config.refreshEvery, ({ signal }) => refreshTokens(tokens, apiUrl, signal), {
    jitter: 0.1,
    timeout: '1m',
  })

  const collector = collect(registry, cache, tokens.lock, tokens.usage, refreshJob)
  const runtime = runtimeMetrics(registry, { interval: '5s', unref: true })

  const app = Fastify({ logger: false })
  await app.register(timingMiddleware({ registry }))

  app.get('/tokens', async () => ({ tokens: await tokens.active(), inFlight: tokens.load() }))
  app.post('/tokens', async (request, reply) => {
    const body = request.body as { name?: unknown; secret?: unknown } | undefined
    if (typeof body?.name !== 'string' || typeof body.secret !== 'string' || !body.name || !body.secret) {
      return reply
        .code(400)
        .send({ error: 'Expected a JSON body with non-empty string `name` and `secret`.' })
    }
    return reply.code(201).send(await tokens.add(body.name, body.secret))
  })
  app.post('/tokens/test', async () =>
    testTokens(tokens, await selectAllTokens(db), apiUrl, config.testConcurrency),
  )
  app.post('/tokens/refresh', async () => {
    await refreshJob.trigger()
    return refreshJob.stats()
  })
  app.post('/videos', async (request, reply) => {
    const body = request.body as { prompt?: unknown } | undefined
    if (typeof body?.prompt !== 'string' || !body.prompt) {
      return reply.code(400).send({ error: 'Expected a JSON body with a non-empty string `prompt`.' })
    }
    try {
      return reply.code(202).send(await videos.submit(body.prompt))
    } catch (error) {
      if (error instanceof NoActiveTokenError) return reply.code(503).send({ error: error.message })
      throw error
    }
  })
  app.get('/videos/:id', async (request, reply) => {
    const job = await videos.get((request.params as { id: string }).id)
    return job ?? reply.code(404).send({ error: 'No such video job.' })
  })

  const stats = () => ({
    cache: cache.stats(),
    database: dialect.stats(),
    tokenLock: tokens.lock.stats(),
    usageWrites: tokens.usage.stats(),
    refresh: refreshJob.stats(),
    videos: { active: videos.active, completed: videos.completed, failed: videos.failed },
    pollers: pollerStats(),
  })
  app.get('/stats', async () => stats())
  app.get('/advice', async () => advise(registry.snapshot()))
  app.get('/metrics', prometheusHandler(registry))

  return {
    app,
    registry,
    cache,
    tokens,
    videos,
    refreshJob,
    stats,
    advice: () => advise(registry.snapshot()),
    async close() {
      runtime.stop()
      collector.stop()
      await app.close()
      await refreshJob.stop()
      await videos.close()
      await tokens.close()
      await cache.close()
    },
  }
}
