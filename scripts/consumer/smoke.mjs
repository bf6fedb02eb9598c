// ES module consumer: imports every entry point of the packed packages (and their peers) the way
// an application does, then runs the shared checks. It must exit 0 on its own.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as cache from '@hotpath/cache'
import * as cacheKysely from '@hotpath/cache/kysely'
import * as cacheRedis from '@hotpath/cache/redis'
import * as concurrency from '@hotpath/concurrency'
import * as concurrencyHttp from '@hotpath/concurrency/http'
import * as concurrencyRedis from '@hotpath/concurrency/redis'
import * as concurrencyWorkers from '@hotpath/concurrency/workers'
import * as core from '@hotpath/core'
import * as coreInternal from '@hotpath/core/internal'
import * as metrics from '@hotpath/metrics'
import * as metricsOtel from '@hotpath/metrics/otel'
import * as poller from '@hotpath/poller'
import * as pool from '@hotpath/pool'
import * as poolKysely from '@hotpath/pool/kysely'
import * as otelSdk from '@opentelemetry/sdk-metrics'
import { Redis } from 'ioredis'
import * as kysely from 'kysely'
import scenario from './scenario.cjs'

const manifests = {
  '@hotpath/cache': import.meta.resolve('@hotpath/cache/package.json'),
  '@hotpath/concurrency': import.meta.resolve('@hotpath/concurrency/package.json'),
  '@hotpath/core': import.meta.resolve('@hotpath/core/package.json'),
  '@hotpath/metrics': import.meta.resolve('@hotpath/metrics/package.json'),
  '@hotpath/poller': import.meta.resolve('@hotpath/poller/package.json'),
  '@hotpath/pool': import.meta.resolve('@hotpath/pool/package.json'),
}

await scenario.run(
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
    format: 'esm',
    dir: fileURLToPath(new URL('.', import.meta.url)),
    workerFile: new URL('./worker.mjs', import.meta.url),
    versions: JSON.parse(process.env.HOTPATH_VERSIONS ?? '{}'),
    readManifest: (name) => JSON.parse(readFileSync(fileURLToPath(manifests[name]), 'utf8')),
  },
)
