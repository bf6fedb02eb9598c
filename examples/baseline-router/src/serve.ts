import { buildRouter } from 'model-router/src/app'
import { CATALOG_MODELS, type ProviderEntry } from 'model-router/src/catalog'
import { readConfig } from 'model-router/src/config'
import { migrate, openDatabase } from 'model-router/src/db'
import { buildBaseline } from './app'

// One server under test, in its own process so its CPU time is its own: `serve.ts router|baseline`,
// driven by compare.ts over IPC. Environment: DATABASE_URL (a schema of its own), REDIS_URL,
// REDIS_PREFIX, PROVIDERS (JSON [{ name, url }] of fake providers running in the parent).
const kind = process.argv[2]
const providers = JSON.parse(process.env.PROVIDERS ?? '[]') as ProviderEntry[]
const config = readConfig({
  PORT: '0',
  DATABASE_URL: process.env.DATABASE_URL,
  REDIS_URL: process.env.REDIS_URL,
  REDIS_PREFIX: process.env.REDIS_PREFIX,
  // One load generator is one client: the per-client limit would cap the run.
  RATE_LIMIT_PER_MINUTE: '1000000000',
})
const database = openDatabase(config)
await migrate(database.db, CATALOG_MODELS, providers)

let close: () => Promise<void>
let url: string
if (kind === 'router') {
  const router = await buildRouter(config, database)
  url = await router.app.listen({ port: 0, host: '127.0.0.1' })
  close = async () => {
    await router.close()
    await database.db.destroy()
  }
} else {
  await database.db.destroy()
  const baseline = await buildBaseline({
    databaseUrl: config.databaseUrl!,
    redisUrl: config.redisUrl!,
    redisPrefix: config.redisPrefix,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
  })
  url = await baseline.app.listen({ port: 0, host: '127.0.0.1' })
  close = () => baseline.close()
}

process.on('message', async (message: { type: string }) => {
  if (message.type === 'usage') {
    process.send!({ type: 'usage', cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() })
  } else if (message.type === 'stop') {
    await close()
    process.send!({ type: 'stopped' })
    process.disconnect()
  }
})
process.send!({ type: 'ready', url })
