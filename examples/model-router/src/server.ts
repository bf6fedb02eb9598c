import { buildRouter, type Router } from './app'
import { CATALOG_MODELS, FAKE_PROVIDERS } from './catalog'
import type { RouterConfig } from './config'
import { migrate, openDatabase, type RouterDb } from './db'
import { type FakeProvider, startFakeProvider } from './fake-provider'

/** The router with its fake upstream providers and database, as `start` and `demo` run it. */
export interface RunningRouter {
  readonly router: Router
  readonly providers: Map<string, FakeProvider>
  readonly url: string
  /** Stops the app, flushes batched writes, closes the database and the fake providers. */
  stop(): Promise<void>
  /** The database, for checks after a run. */
  readonly database: RouterDb
}

/**
 * Starts fake providers, opens the database, writes the catalog into it, and listens on `config.port`.
 *
 * @example
 * const running = await startRouter(readConfig())
 * console.log(running.url)
 */
export async function startRouter(config: RouterConfig): Promise<RunningRouter> {
  const providers = new Map<string, FakeProvider>()
  for (const fake of FAKE_PROVIDERS) {
    providers.set(
      fake.name,
      await startFakeProvider(fake.name, { latencyMs: fake.latencyMs, errorRate: fake.errorRate }),
    )
  }
  const database = openDatabase(config)
  await migrate(
    database.db,
    CATALOG_MODELS,
    [...providers.values()].map((p) => ({ name: p.name, url: p.url })),
  )
  const router = await buildRouter(config, database)
  const address = await router.app.listen({ port: config.port, host: '127.0.0.1' })
  return {
    router,
    providers,
    database,
    url: address,
    async stop() {
      await router.close()
      await database.db.destroy()
      await Promise.all([...providers.values()].map((p) => p.close()))
    },
  }
}
