/** Settings of the model router, from the environment with embedded defaults. */
export interface RouterConfig {
  /** HTTP port; 0 picks a free one. */
  port: number
  /** PostgreSQL URL; when unset, SQLite at `sqliteFile` is used. */
  databaseUrl: string | undefined
  /** SQLite file (`:memory:` works too). */
  sqliteFile: string
  /** Redis URL; when set, Redis is the cache's L2 and invalidation bus. */
  redisUrl: string | undefined
  /** Key prefix of the cache in Redis. */
  redisPrefix: string
  /** Most concurrent upstream calls per provider. */
  providerConcurrency: number
  /** Upstream call timeout, ms. */
  upstreamTimeoutMs: number
  /** Completions each client (API key or IP) may send per minute. */
  rateLimitPerMinute: number
}

/**
 * Reads the configuration from `process.env`.
 *
 * @example
 * const config = readConfig({ ...process.env, PORT: '0' })
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): RouterConfig {
  return {
    port: Number(env.PORT ?? 8080),
    databaseUrl: env.DATABASE_URL || undefined,
    sqliteFile: env.SQLITE_FILE ?? 'model-router.db',
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.REDIS_PREFIX ?? 'model-router:',
    providerConcurrency: Number(env.PROVIDER_CONCURRENCY ?? 32),
    upstreamTimeoutMs: Number(env.UPSTREAM_TIMEOUT_MS ?? 2_000),
    rateLimitPerMinute: Number(env.RATE_LIMIT_PER_MINUTE ?? 60_000),
  }
}
