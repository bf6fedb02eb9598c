import { CATALOG_MODELS, FAKE_PROVIDERS } from 'model-router/src/catalog'
import { migrate, openDatabase } from 'model-router/src/db'
import { startFakeProvider } from 'model-router/src/fake-provider'
import { buildBaseline } from './app'

// Starts the baseline with the model router's fake providers, for trying it by hand.
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const providers = await Promise.all(
  FAKE_PROVIDERS.map((p) => startFakeProvider(p.name, { latencyMs: p.latencyMs, errorRate: p.errorRate })),
)
const database = openDatabase({ databaseUrl, sqliteFile: '' })
await migrate(
  database.db,
  CATALOG_MODELS,
  providers.map((p) => ({ name: p.name, url: p.url })),
)
await database.db.destroy()
const baseline = await buildBaseline({
  databaseUrl,
  redisUrl,
  redisPrefix: 'baseline-router:',
  upstreamTimeoutMs: 2_000,
})
const url = await baseline.app.listen({ port: Number(process.env.PORT ?? 8081), host: '127.0.0.1' })
console.log(`baseline router listening on ${url}`)

const shutdown = async () => {
  await baseline.close()
  await Promise.all(providers.map((p) => p.close()))
  process.exit(0)
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
