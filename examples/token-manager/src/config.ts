import { parseDuration } from '@hotpath/core'

/** Settings of the token manager, from the environment with embedded defaults. */
export interface TokenManagerConfig {
  /** HTTP port; 0 picks a free one. */
  port: number
  /** SQLite file (WAL, one writer + `readers` reader threads). */
  sqliteFile: string
  /** Reader threads of the SQLite read/write split. */
  readers: number
  /** How long the active-token list stays cached, ms (30 s by default; writes patch it meanwhile). */
  tokenCacheTtl: number
  /** Background refresh period, ms (5 minutes by default: refresh at most that often). */
  refreshEvery: number
  /** Batch token tests in flight at once (5 by default, to stay under the provider's rate limit). */
  testConcurrency: number
  /** Multiplies the poll schedule (1 = 5 s / 3 s / 2 s by progress, capped at 10 s). */
  pollScale: number
}

/**
 * Reads the configuration from `process.env`.
 *
 * @example
 * const config = readConfig({ PORT: '0', POLL_SCALE: '0.01' })
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): TokenManagerConfig {
  return {
    port: Number(env.PORT ?? 8081),
    sqliteFile: env.SQLITE_FILE ?? 'token-manager.db',
    readers: Number(env.SQLITE_READERS ?? 2),
    tokenCacheTtl: parseDuration(env.TOKEN_CACHE_TTL ?? '30s', 'TOKEN_CACHE_TTL'),
    refreshEvery: parseDuration(env.REFRESH_EVERY ?? '5m', 'REFRESH_EVERY'),
    testConcurrency: Number(env.TEST_CONCURRENCY ?? 5),
    pollScale: Number(env.POLL_SCALE ?? 1),
  }
}
