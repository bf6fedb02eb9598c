// CommonJS consumer: requires every entry point of the packed packages (and their peers) the way
// an application does, then runs the shared checks. It must exit 0 on its own.
const { join } = require('node:path')
const cache = require('@hotpath/cache')
const cacheKysely = require('@hotpath/cache/kysely')
const cacheRedis = require('@hotpath/cache/redis')
const concurrency = require('@hotpath/concurrency')
const concurrencyHttp = require('@hotpath/concurrency/http')
const concurrencyRedis = require('@hotpath/concurrency/redis')
const concurrencyWorkers = require('@hotpath/concurrency/workers')
const core = require('@hotpath/core')
const coreInternal = require('@hotpath/core/internal')
const metrics = require('@hotpath/metrics')
const metricsOtel = require('@hotpath/metrics/otel')
const poller = require('@hotpath/poller')
const pool = require('@hotpath/pool')
const poolKysely = require('@hotpath/pool/kysely')
const otelSdk = require('@opentelemetry/sdk-metrics')
const { Redis } = require('ioredis')
const kysely = require('kysely')
const scenario = require('./scenario.cjs')

const manifests = {
  '@hotpath/cache': require('@hotpath/cache/package.json'),
  '@hotpath/concurrency': require('@hotpath/concurrency/package.json'),
  '@hotpath/core': require('@hotpath/core/package.json'),
  '@hotpath/metrics': require('@hotpath/metrics/package.json'),
  '@hotpath/poller': require('@hotpath/poller/package.json'),
  '@hotpath/pool': require('@hotpath/pool/package.json'),
}

scenario
  .run(
    {
      cache,
      cacheKysely,
      cacheRedis,
      concurrency,
      concurrencyHttp,
      concurrencyRedis,
      concurrencyWorkers,
      core,
      coreInternal,
      metrics,
      metricsOtel,
      poller,
      pool,
      poolKysely,
      otelSdk,
      Redis,
      kysely,
    },
    {
      format: 'cjs',
      dir: __dirname,
      workerFile: join(__dirname, 'worker.cjs'),
      versions: JSON.parse(process.env.HOTPATH_VERSIONS ?? '{}'),
      readManifest: (name) => manifests[name],
    },
  )
  .catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
