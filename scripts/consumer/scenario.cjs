// One real call through every entry point of the published packages, as an installed user makes
// it. smoke.mjs (import) and smoke.cjs (require) load the packages and their peers each in their
// own module format and hand them to run(); nothing here imports a hotpath package itself.
const assert = require('node:assert/strict')
const http = require('node:http')
const { join } = require('node:path')

const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379'
const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
const mysqlUrl = process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/test'

/** Prints one line per check so the runner can see how far a failing program got. */
function ok(format, what) {
  console.log(`ok ${format} ${what}`)
}

async function listen(handler) {
  const server = http.createServer(handler)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${server.address().port}` }
}

async function redisKeys(client, prefix) {
  const keys = []
  let cursor = '0'
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return keys
}

/**
 * @param {Record<string, any>} m the packages (`core`, `cache`, `cacheRedis`, ...) and peers
 * @param {{ format: string, dir: string, workerFile: string, versions: Record<string, string>, readManifest: (name: string) => any }} ctx
 */
async function run(m, ctx) {
  const { format } = ctx
  const prefix = `hotpath-consumer:${format}:${process.pid}:${Date.now()}:`

  // ./package.json of every package resolves and is the one that was packed.
  for (const [name, version] of Object.entries(ctx.versions)) {
    assert.equal(ctx.readManifest(name).version, version, `${name}/package.json`)
  }
  ok(format, 'package.json subpaths')

  // @hotpath/core
  assert.equal(m.core.parseDuration('1.5s'), 1500)
  ok(format, '@hotpath/core parseDuration')

  // @hotpath/core/internal: shared structures the other packages load at run time.
  const deque = new m.coreInternal.Deque()
  deque.push(1)
  deque.push(2)
  assert.equal(deque.shift(), 1)
  assert.equal(deque.size, 1)
  ok(format, '@hotpath/core/internal Deque')

  // @hotpath/concurrency
  const semaphore = new m.concurrency.Semaphore({ permits: 2, name: 'smoke' })
  assert.equal(await semaphore.run(async () => 42), 42)
  ok(format, '@hotpath/concurrency Semaphore.run')

  // @hotpath/concurrency/http: the middleware on a real node:http server.
  const limit = m.concurrencyHttp.rateLimit({
    limiter: new m.concurrency.RateLimiter({ limit: 1, window: '1m' }),
  })
  const { server, url } = await listen((req, res) =>
    limit(req, res, (error) => {
      res.statusCode = error ? 500 : 200
      res.end(error ? String(error) : 'hello')
    }),
  )
  try {
    const first = await fetch(url)
    assert.equal(first.status, 200)
    assert.equal(await first.text(), 'hello')
    assert.equal(first.headers.get('ratelimit-policy'), '"default";q=1;w=60')
    const second = await fetch(url)
    assert.equal(second.status, 429)
    assert.ok(Number(second.headers.get('retry-after')) >= 1)
    await second.text()
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
  ok(format, '@hotpath/concurrency/http rateLimit (200 then 429)')

  // @hotpath/concurrency/workers: left open on purpose, an idle pool must not keep the process alive.
  const workers = m.concurrencyWorkers.createWorkerPool({
    filename: ctx.workerFile,
    maxThreads: 1,
    name: 'smoke',
  })
  assert.equal(await workers.run({ n: 100 }), 5050)
  ok(format, '@hotpath/concurrency/workers createWorkerPool.run')

  // @hotpath/poller
  let checks = 0
  const polled = await m.poller.poll(async () => ++checks, { isDone: (n) => n >= 3, interval: '10ms' })
  assert.equal(polled, 3)
  ok(format, '@hotpath/poller poll')

  // @hotpath/pool
  let created = 0
  const pool = m.pool.createPool({ create: async () => ({ id: ++created }), max: 2, name: 'smoke' })
  assert.equal(await pool.use(async (resource) => resource.id), 1)
  assert.deepEqual(await pool.drain({ timeout: '1s' }), { drained: true, outstanding: 0 })
  ok(format, '@hotpath/pool createPool.use')

  // @hotpath/pool/kysely: one query through each dialect.
  const { Kysely, sql } = m.kysely
  const dialects = {
    postgres: m.poolKysely.postgresDialect({ connectionString: databaseUrl, pool: { max: 2 } }),
    mysql: m.poolKysely.mysqlDialect({ uri: mysqlUrl, pool: { max: 2 } }),
    sqlite: m.poolKysely.sqliteDialect({ filename: join(ctx.dir, `smoke-${format}.db`), readers: 1 }),
  }
  for (const [name, dialect] of Object.entries(dialects)) {
    const db = new Kysely({ dialect })
    try {
      const { rows } = await sql`select 1 + 1 as two`.execute(db)
      assert.equal(Number(rows[0].two), 2, name)
    } finally {
      await db.destroy()
    }
    ok(format, `@hotpath/pool/kysely ${name}Dialect query`)
  }

  // @hotpath/cache/kysely: SQLite (through the pool's dialect) as L2, no L1, so reads hit the table.
  const sqlite = new Kysely({
    dialect: m.poolKysely.sqliteDialect({ filename: join(ctx.dir, `cache-${format}.db`) }),
  })
  try {
    // The first query starts the dialect's reader thread, which can take longer than the default
    // 200 ms l2Timeout on a loaded machine; a miss from a timed-out read is not what is checked.
    const sqlCache = m.cache.createCache({
      l1: false,
      l2: m.cacheKysely.kyselyStore({ db: sqlite }),
      l2Timeout: '10s',
    })
    await sqlCache.set('answer', { value: 42 })
    assert.deepEqual(await sqlCache.get('answer'), { value: 42 })
    assert.equal(sqlCache.stats().l2.hits, 1)
    await sqlCache.close()
  } finally {
    await sqlite.destroy()
  }
  ok(format, '@hotpath/cache/kysely kyselyStore set/get')

  // @hotpath/cache with @hotpath/cache/redis: L2 and bus on Redis; a second instance (empty L1)
  // reads what the first one loaded.
  const client = new m.Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  })
  await client.connect()
  try {
    const options = () => ({
      namespace: 'smoke',
      l2: m.cacheRedis.redisStore({ client, prefix }),
      bus: m.cacheRedis.redisBus({ client, channel: `${prefix}bus` }),
      ttl: '1m',
    })
    const first = m.cache.createCache(options())
    const second = m.cache.createCache(options())
    let loads = 0
    const loaded = await first.getOrSet('model', async () => ({ id: 'gpt', n: ++loads }))
    assert.deepEqual(loaded, { id: 'gpt', n: 1 })
    assert.deepEqual(await second.get('model'), { id: 'gpt', n: 1 })
    assert.equal(loads, 1)
    assert.equal(second.stats().l2.hits, 1)
    assert.ok((await redisKeys(client, prefix)).length > 0, 'the value is stored in Redis')
    await first.clear()
    await Promise.all([first.close(), second.close()])
    ok(format, '@hotpath/cache + /redis getOrSet through Redis L2')

    // @hotpath/concurrency/redis
    const limiter = m.concurrencyRedis.redisRateLimiter({
      client,
      limit: 1,
      window: '1m',
      prefix: `${prefix}rl:`,
    })
    const admitted = await limiter.consume('user')
    const refused = await limiter.consume('user')
    assert.deepEqual([admitted.allowed, admitted.source, refused.allowed], [true, 'redis', false])
    ok(format, '@hotpath/concurrency/redis redisRateLimiter.consume')

    const left = await redisKeys(client, prefix)
    if (left.length > 0) await client.unlink(...left)
  } finally {
    await client.quit()
  }

  // @hotpath/metrics: Prometheus text, with a hotpath primitive collected.
  const registry = m.metrics.createRegistry()
  const latency = registry.histogram('smoke_duration', { unit: 'ms', help: 'Smoke call time' })
  latency.record(12)
  latency.record(30)
  registry.collect(semaphore)
  const text = registry.prometheus()
  assert.match(text, /^smoke_duration_seconds_count 2$/m)
  assert.match(text, /^# TYPE smoke_duration_seconds histogram$/m)
  assert.match(text, /semaphore/)
  ok(format, '@hotpath/metrics registry.prometheus()')

  // @hotpath/metrics/otel: a real SDK reader collecting through the producer.
  const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } =
    m.otelSdk
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    metricProducers: [m.metricsOtel.otelProducer(registry)],
    exportIntervalMillis: 60_000,
  })
  const provider = new MeterProvider({ readers: [reader] })
  const { resourceMetrics } = await reader.collect()
  const exported = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)
  const histogram = exported.find((metric) => metric.descriptor.name === 'smoke_duration')
  assert.ok(histogram, 'smoke_duration exported')
  assert.equal(histogram.dataPoints[0].value.count, 2)
  await provider.shutdown()
  ok(format, '@hotpath/metrics/otel otelProducer through a MeterProvider')

  ok(format, 'all checks passed')
}

module.exports = { run }
