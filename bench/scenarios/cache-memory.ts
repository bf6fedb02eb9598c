import { createCache } from '@hotpath/cache'
import { LRUCache } from 'lru-cache'
import { defineScenario } from '../lib/scenario'

const DISTINCT = 1_000_000
const BOUND = 10_000

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const heapMb = () => {
  gc()
  gc()
  return Math.round((process.memoryUsage().heapUsed / 1024 / 1024) * 10) / 10
}

export default defineScenario(async () => ({
  name: 'cache/memory',
  description: `${DISTINCT.toLocaleString()} distinct keys through an L1 bounded at ${BOUND.toLocaleString()} entries`,
  measure: async () => {
    const rows = []
    for (const [name, run] of [
      [
        'hotpath getOrSet',
        async (sample: (i: number) => void) => {
          const cache = createCache({ l1: { maxEntries: BOUND }, ttl: '1h' })
          for (let i = 0; i < DISTINCT; i++) {
            await cache.getOrSet(`key:${i}`, () => ({ id: i, name: 'model' }))
            sample(i)
          }
          const { size, evictions } = cache.stats().l1
          await cache.close()
          return { size, evictions }
        },
      ],
      [
        'lru-cache set (raw)',
        async (sample: (i: number) => void) => {
          const lru = new LRUCache<string, object>({ max: BOUND })
          for (let i = 0; i < DISTINCT; i++) {
            lru.set(`key:${i}`, { id: i, name: 'model' })
            sample(i)
          }
          return { size: lru.size, evictions: DISTINCT - lru.size }
        },
      ],
    ] as const) {
      const before = heapMb()
      let at100k = 0
      const started = performance.now()
      const { size, evictions } = await run((i) => {
        if (i === 100_000) at100k = heapMb()
      })
      const seconds = (performance.now() - started) / 1000
      const after = heapMb()
      rows.push({
        name,
        'heap before MB': before,
        'heap at 100k keys MB': at100k,
        'heap at 1M keys MB': after,
        'growth 100k→1M MB': Math.round((after - at100k) * 10) / 10,
        'L1 size': size,
        evictions,
        seconds: Math.round(seconds * 100) / 100,
      })
    }
    return rows
  },
}))
