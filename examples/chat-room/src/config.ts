/** Settings of the chat room, from the environment with embedded defaults. */
export interface ChatConfig {
  /** HTTP and WebSocket port; 0 picks a free one. */
  port: number
  /** Interface to listen on. */
  host: string
  /** PostgreSQL URL; when unset, SQLite at `sqliteFile` is used. */
  databaseUrl: string | undefined
  /** SQLite file. */
  sqliteFile: string
  /** Messages each user may send per minute (across all their connections). */
  rateLimitPerMinute: number
  /** Messages processed at the same time; the rest wait in the semaphore's queue. */
  processingConcurrency: number
  /** How long a message may wait for a processing slot before the sender gets `BUSY`, ms. */
  processingTimeoutMs: number
  /** Most messages per database write. */
  writeBatchSize: number
  /** Longest a message waits before its batch is written, ms. */
  writeDelayMs: number
  /** How long a cached user profile stays fresh, ms. */
  profileTtlMs: number
  /** Ping interval; a socket that has not answered the previous ping is closed, ms. */
  heartbeatMs: number
  /** Most worker threads rendering long messages. */
  renderThreads: number
  /** Messages of at least this many characters are rendered in a worker thread. */
  renderOffloadChars: number
}

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min) {
    throw new TypeError(`Expected ${name} to be an integer >= ${min}, got '${raw}'`)
  }
  return value
}

/**
 * Reads the configuration from `process.env`.
 *
 * @example
 * const config = readConfig({ ...process.env, PORT: '0' })
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ChatConfig {
  return {
    port: numberFrom(env, 'PORT', 8090, 0),
    host: env.HOST || '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    sqliteFile: env.SQLITE_FILE || 'chat-room.db',
    rateLimitPerMinute: numberFrom(env, 'RATE_LIMIT_PER_MINUTE', 10, 1),
    processingConcurrency: numberFrom(env, 'PROCESSING_CONCURRENCY', 64, 1),
    processingTimeoutMs: numberFrom(env, 'PROCESSING_TIMEOUT_MS', 2_000, 1),
    writeBatchSize: numberFrom(env, 'WRITE_BATCH_SIZE', 500, 1),
    writeDelayMs: numberFrom(env, 'WRITE_DELAY_MS', 200, 0),
    profileTtlMs: numberFrom(env, 'PROFILE_TTL_MS', 300_000, 1),
    heartbeatMs: numberFrom(env, 'HEARTBEAT_MS', 30_000, 10),
    renderThreads: numberFrom(env, 'RENDER_THREADS', 2, 1),
    renderOffloadChars: numberFrom(env, 'RENDER_OFFLOAD_CHARS', 200, 0),
  }
}
