import { startChatServer } from './chat-server'
import { readConfig } from './config'

const config = readConfig()
const server = await startChatServer(config)
console.log(`chat room on ${server.url} (WebSocket ${server.wsUrl}?user=<name>)`)
console.log(
  `database: ${config.databaseUrl ? 'PostgreSQL' : `SQLite ${config.sqliteFile}`}; rate limit ${config.rateLimitPerMinute} messages/min per user`,
)
console.log(`open ${server.url} in two browser tabs; stats at ${server.url}/stats`)

const shutdown = async () => {
  console.log('closing: finishing messages in flight and writing pending batches...')
  await server.close()
  const { writer } = server.stats()
  console.log(`${writer.keys} messages written in ${writer.batches} batches`)
  process.exit(0)
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
