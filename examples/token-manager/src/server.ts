import { buildTokenManager, type TokenManager } from './app'
import type { TokenManagerConfig } from './config'
import { migrate, type OpenDatabase, openDatabase } from './db'
import { type FakeVideoApi, startFakeVideoApi } from './fake-video-api'

/** The token manager with its fake provider, as `start` runs it. */
export interface RunningTokenManager {
  readonly manager: TokenManager
  readonly api: FakeVideoApi
  readonly database: OpenDatabase
  readonly url: string
  stop(): Promise<void>
}

/**
 * Starts the fake video API, opens the database, adds `initialTokens` tokens when there are none,
 * and listens.
 *
 * @example
 * const running = await startTokenManager(readConfig())
 */
export async function startTokenManager(
  config: TokenManagerConfig,
  initialTokens = 8,
): Promise<RunningTokenManager> {
  const api = await startFakeVideoApi({ jobDurationMs: 20_000 * config.pollScale * 2 })
  const database = openDatabase(config.sqliteFile, config.readers)
  await migrate(database.db)
  const manager = await buildTokenManager(config, database, api.url)
  if ((await manager.tokens.active()).length === 0) {
    for (let i = 1; i <= initialTokens; i++) await manager.tokens.add(`token-${i}`, `tok-${i}`)
  }
  const url = await manager.app.listen({ port: config.port, host: '127.0.0.1' })
  return {
    manager,
    api,
    database,
    url,
    async stop() {
      await manager.close()
      await database.db.destroy()
      await api.close()
    },
  }
}
