import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ChatServer, type ChatStats, startChatServer } from './chat-server'
import { readConfig } from './config'
import { countMessages, openStore } from './db'
import { runLoad } from './load'
import { formatReport } from './report'

// Drives a chat server with WebSocket clients and prints a report. With CHAT_URL it drives that
// server (`pnpm start` in another terminal); without, it starts one in this process on a
// temporary SQLite file and checks afterwards that every broadcast message reached the database.
const env = process.env
const seconds = Number(env.LOAD_SECONDS ?? 20)
const clients = Number(env.LOAD_CLIENTS ?? 50)
const rooms = Number(env.LOAD_ROOMS ?? 5)
const ratePerClient = Number(env.LOAD_RATE ?? 2)
const spammers = Number(env.LOAD_SPAMMERS ?? 2)

let server: ChatServer | undefined
let baseUrl = env.CHAT_URL
const sqliteFile = join(tmpdir(), `hotpath-chat-room-load-${process.pid}.db`)
if (baseUrl === undefined) {
  // The embedded server allows 150 messages/min per user: above the well-behaved clients' pace
  // (2/s = 120/min), below the spammers' (20/s).
  const config = readConfig({
    ...env,
    PORT: '0',
    SQLITE_FILE: env.SQLITE_FILE ?? sqliteFile,
    RATE_LIMIT_PER_MINUTE: env.RATE_LIMIT_PER_MINUTE ?? '150',
  })
  server = await startChatServer(config)
  baseUrl = server.url
  console.log(
    `chat room on ${server.url} (${config.databaseUrl ? 'PostgreSQL' : `SQLite ${config.sqliteFile}`}, ${config.rateLimitPerMinute} messages/min per user)`,
  )
}
const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/ws`
console.log(
  `driving ${wsUrl} for ${seconds} s: ${clients} clients in ${rooms} rooms at ${ratePerClient === 0 ? 'closed loop' : `${ratePerClient} msg/s each`}, ${spammers} spammers at 20 msg/s`,
)
const result = await runLoad({
  wsUrl,
  durationMs: seconds * 1000,
  clients,
  rooms,
  ratePerClient,
  spammers,
  progress: true,
})

let stats: ChatStats
let stored: number | undefined
if (server) {
  stats = server.stats({ advice: true })
  const config = server.config
  await server.close()
  stats = { ...stats, writer: server.stats().writer }
  const store = openStore(config)
  stored = await countMessages(store.db)
  await store.destroy()
  if (!config.databaseUrl && env.SQLITE_FILE === undefined) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${sqliteFile}${suffix}`, { force: true })
  }
} else {
  stats = (await (await fetch(`${baseUrl}/stats?advice`)).json()) as ChatStats
}
console.log()
console.log(formatReport(result, stats, stored))
