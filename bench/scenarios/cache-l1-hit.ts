import { createCache } from '@hotpath/cache'
import { createCache as createDedupe } from 'async-cache-dedupe'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { createCache as createCacheManager } from 'cache-manager'
import { Cacheable } from 'cacheable'
import { LRUCache } from 'lru-cache'
import { defineScenario } from '../lib/scenario'

const KEYS = 10_000
const OPS = 1_000

/** Zipf(s = 1) over `n` ranks, sampled by inverse CDF. */
function zipfKeys(n: number, samples: number): string[] {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1)
  const out: string[] = []
  let seed = 42
  for (let j = 0; j < samples; j++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    const target = (seed / 2_147_483_648) * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < target) lo = mid + 1
      else hi = mid
    }
    out.push(`key:${lo}`)
  }
  return out
}

export default defineScenario(async () => {
  const keys = zipfKeys(KEYS, 100_000)
  const value = { id: 1, name: 'gpt-4o', provider: 'openai', latencyMs: 420 }
  const all = Array.from({ length: KEYS }, (_, i) => `key:${i}`)

  const lru = new LRUCache<string, object>({ max: KEYS })
  const hotpath = createCache({ l1: { maxEntries: KEYS }, ttl: '1h' })
  const bento = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: KEYS })) },
  })
  const cacheable = new Cacheable()
  const manager = createCacheManager()
  const dedupe = createDedupe({ ttl: 3600, storage: { type: 'memory', options: { size: KEYS } } }).define(
    'load',
    async (key: string) => ({ ...value, key }),
  )
  for (const key of all) {
    lru.set(key, value)
    await hotpath.set(key, value)
    await bento.set({ key, value, ttl: '1h' })
    await cacheable.set(key, value, '1h')
    await manager.set(key, value, 3_600_000)
    await dedupe.load(key)
  }
  const loader = () => value
  let sink: unknown
  let offset = 0
  const next = () => {
    offset = (offset + OPS) % (keys.length - OPS)
    return offset
  }

  return {
    name: 'cache/l1-hit',
    description: `L1 hit, ${KEYS.toLocaleString()} keys, Zipf-distributed pre-generated keys (${OPS} per run)`,
    baseline: 'lru-cache get (raw)',
    opsPerRun: OPS,
    tasks: {
      'lru-cache get (raw)': () => {
        const start = next()
        for (let i = start; i < start + OPS; i++) sink = lru.get(keys[i]!)
      },
      // What any promise-returning API pays on top of the raw lookup: one await per call.
      'lru-cache get + await (floor of an async get)': async () => {
        const start = next()
        for (let i = start; i < start + OPS; i++) sink = await lru.get(keys[i]!)
      },
      'hotpath get': async () => {
        const start = next()
        for (let i = start; i < start + OPS; i++) sink = await hotpath.get(keys[i]!)
      },
      // The synchronous L1-only read, for code that cannot await.
      'hotpath peek (sync, L1 only)': () => {
        const start = next()
        for (let i = start; i < start + OPS; i++) sink = hotpath.peek(keys[i]!)
      },
      'hotpath getOrSet': async () => {
        const start = next()
        for (let i = start; i < start + OPS; i++) sink = await hotpath.getOrSet(keys[i]!, loader)
      },
      'bentocache get': async () => {
        const start = next()
        for (let i = start; i < start + OPS; i++) sink = await bento.get({ key: keys[i]! })
      },
      'bentocache getOrSet': async () => {
        const start = next()
        for (let i = start; i < start + OPS; i++)
          sink = await bento.getOrSet({ key: keys[i]!, factory: loader })
      },
      'cacheable get': async () => {
        const start = next()
        for (let i = start; i < start + OPS; i++) sink = await cacheable.get(keys[i]!)
      },
      'cache-manager get': async () => {
        const start = next()
        for (let i = start; i < start + OPS; i++) sink = await manager.get(keys[i]!)
      },
      'async-cache-dedupe fetch': async () => {
        const start = next()
        for (let i = start; i < start + OPS; i++) sink = await dedupe.load(keys[i]!)
      },
    },
    teardown: async () => {
      void sink
      await hotpath.close()
      await bento.disconnectAll()
    },
  }
})
