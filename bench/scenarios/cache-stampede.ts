import { createCache } from '@hotpath/cache'
import { createCache as createDedupe } from 'async-cache-dedupe'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { createCache as createCacheManager } from 'cache-manager'
import { defineScenario } from '../lib/scenario'

const CALLERS = 1_000
const LOADER_MS = 20
const ROUNDS = 20

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export default defineScenario(async () => {
  const hotpath = createCache({ ttl: '1h' })
  const bento = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({})) },
  })
  const manager = createCacheManager()
  let dedupeLoads = 0
  const dedupe = createDedupe({ ttl: 3600, storage: { type: 'memory' } }).define(
    'load',
    async (key: string) => {
      dedupeLoads++
      await sleep(LOADER_MS)
      return key
    },
  )
  let round = 0

  async function measure(name: string, stampede: (key: string, loads: () => void) => Promise<unknown>) {
    const overs: number[] = []
    let loads = 0
    for (let r = 0; r < ROUNDS; r++) {
      const key = `cold:${name}:${round++}`
      const started = performance.now()
      await stampede(key, () => loads++)
      overs.push(performance.now() - started - LOADER_MS)
    }
    overs.sort((a, b) => a - b)
    return {
      name,
      'median ms over loader': Math.round(overs[Math.floor(ROUNDS / 2)]! * 100) / 100,
      'max ms over loader': Math.round(overs[ROUNDS - 1]! * 100) / 100,
      'loader calls per stampede': loads / ROUNDS,
    }
  }

  return {
    name: 'cache/stampede',
    description: `${CALLERS.toLocaleString()} concurrent callers on a cold key, ${LOADER_MS} ms loader (${ROUNDS} rounds)`,
    measure: async () => [
      // The floor of any single-flight: 1,000 callers awaiting one shared loader promise, no cache.
      // What it shows over the loader is the timer's own lateness and the 1,000 resolutions.
      await measure('floor: one shared promise, no cache', (key, counted) => {
        let shared: Promise<string> | undefined
        return Promise.all(
          Array.from({ length: CALLERS }, () => {
            shared ??= (async () => {
              counted()
              await sleep(LOADER_MS)
              return key
            })()
            return shared
          }),
        )
      }),
      await measure('hotpath getOrSet', (key, counted) =>
        Promise.all(
          Array.from({ length: CALLERS }, () =>
            hotpath.getOrSet(key, async () => {
              counted()
              await sleep(LOADER_MS)
              return key
            }),
          ),
        ),
      ),
      await measure('bentocache getOrSet', (key, counted) =>
        Promise.all(
          Array.from({ length: CALLERS }, () =>
            bento.getOrSet({
              key,
              factory: async () => {
                counted()
                await sleep(LOADER_MS)
                return key
              },
            }),
          ),
        ),
      ),
      await measure('cache-manager wrap', (key, counted) =>
        Promise.all(
          Array.from({ length: CALLERS }, () =>
            manager.wrap(key, async () => {
              counted()
              await sleep(LOADER_MS)
              return key
            }),
          ),
        ),
      ),
      await measure('async-cache-dedupe', async (key, counted) => {
        const before = dedupeLoads
        await Promise.all(Array.from({ length: CALLERS }, () => dedupe.load(key)))
        for (let i = before; i < dedupeLoads; i++) counted()
      }),
    ],
    teardown: async () => {
      await hotpath.close()
      await bento.disconnectAll()
    },
  }
})
