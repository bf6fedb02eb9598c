// Typed consumer: compiled with `tsc --noEmit` against the installed tarballs under each
// moduleResolution a TypeScript project may use. Every entry point is imported and used with
// the types an application relies on; the @ts-expect-error lines fail the build if a type
// degrades to `any`.
import { type Cache, createCache } from '@hotpath/cache'
import { kyselyStore } from '@hotpath/cache/kysely'
import { redisBus, redisStore } from '@hotpath/cache/redis'
import { RateLimiter, Semaphore } from '@hotpath/concurrency'
import { type RateLimitMiddleware, rateLimit } from '@hotpath/concurrency/http'
import { type RedisRateLimiter, redisRateLimiter } from '@hotpath/concurrency/redis'
import { createWorkerPool, type WorkerPool } from '@hotpath/concurrency/workers'
import { parseDuration } from '@hotpath/core'
import { Deque } from '@hotpath/core/internal'
import { createRegistry, type Registry } from '@hotpath/metrics'
import { otelProducer } from '@hotpath/metrics/otel'
import { poll } from '@hotpath/poller'
import { createPool, type Pool } from '@hotpath/pool'
import { mysqlDialect, postgresDialect, sqliteDialect } from '@hotpath/pool/kysely'
import type { MetricProducer } from '@opentelemetry/sdk-metrics'
import { Redis } from 'ioredis'
import { Kysely } from 'kysely'

interface Model {
  id: string
  score: number
}

interface Tables {
  models: Model
}

export async function main(): Promise<void> {
  const ms: number = parseDuration('1.5s')
  const queue = new Deque<number>()
  queue.push(ms)
  const first: number | undefined = queue.shift()
  if (first !== ms) throw new Error('Deque lost its item')

  const redis = new Redis({ enableOfflineQueue: false, lazyConnect: true })
  const models: Cache<Model> = createCache<Model>({
    l2: redisStore({ client: redis, prefix: 'app:' }),
    bus: redisBus({ client: redis }),
    ttl: ms,
  })
  const model: Model = await models.getOrSet('m1', async () => ({ id: 'm1', score: 1 }))
  // @ts-expect-error a Model needs a score
  await models.set('m2', { id: 'm2' })

  const db = new Kysely<Tables>({ dialect: sqliteDialect({ filename: ':memory:' }) })
  const sqlCache = createCache({ l2: kyselyStore({ db }) })
  const best: Model[] = await db.selectFrom('models').selectAll().where('score', '>', model.score).execute()
  // @ts-expect-error no such column
  db.selectFrom('models').select('price')
  new Kysely<Tables>({ dialect: postgresDialect({ connectionString: 'postgres://localhost/app' }) })
  new Kysely<Tables>({ dialect: mysqlDialect({ uri: 'mysql://localhost/app' }) })

  const semaphore = new Semaphore({ permits: 4 })
  const length: number = await semaphore.run(async () => best.length)
  const limit: RateLimitMiddleware = rateLimit({ limiter: new RateLimiter({ limit: 10, window: '1m' }) })
  const perUser: RedisRateLimiter = redisRateLimiter({ client: redis, limit: 10, window: '1m' })
  const allowed: boolean = (await perUser.consume('user')).allowed
  const workers: WorkerPool<{ n: number }, number> = createWorkerPool<{ n: number }, number>({
    filename: new URL('./worker.mjs', 'file:///app/'),
  })
  const sum: number = await workers.run({ n: length })
  // @ts-expect-error the task is { n: number }
  await workers.run({ n: 'ten' })

  const done: number = await poll(async () => sum, { isDone: (n) => n > 0, interval: '10ms' })
  const pool: Pool<{ id: number }> = createPool({ create: async () => ({ id: done }) })
  const id: number = await pool.use(async (resource) => resource.id)

  const registry: Registry = createRegistry()
  registry.histogram('request_duration', { unit: 'ms' }).record(id)
  const producer: MetricProducer = otelProducer(registry)
  const text: string = registry.prometheus()
  console.log(text.length, allowed, typeof limit, producer, sqlCache)
}
