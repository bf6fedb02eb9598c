import { createCache } from '@hotpath/cache'
import { LRUCache } from 'lru-cache'
import { defineScenario } from '../lib/scenario'

const KEYS = 10_000
const PER_ROUND = 100_000
const ROUNDS = 9

/**
 * L1 hits, raw lru-cache and hotpath alternating round by round (same Zipf keys), medians compared:
 * on a shared machine this keeps every row under the same load.
 */
export default defineScenario(async () => {
  const cdf = new Float64Array(KEYS)
  let sum = 0
  for (let i = 0; i < KEYS; i++) cdf[i] = sum += 1 / (i + 1)
  const keys: string[] = []
  let seed = 7
  for (let j = 0; j < PER_ROUND; j++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    const target = (seed / 2_147_483_648) * sum
    let lo = 0
    let hi = KEYS - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < target) lo = mid + 1
      else hi = mid
    }
    keys.push(`key:${lo}`)
  }
  const value = { id: 1, name: 'gpt-4o' }
  const lru = new LRUCache<string, object>({ max: KEYS })
  const cache = createCache({ l1: { maxEntries: KEYS }, ttl: '1h' })
  for (let i = 0; i < KEYS; i++) {
    lru.set(`key:${i}`, value)
    await cache.set(`key:${i}`, value)
  }
  // The least any promise-returning get over lru-cache can do: look up, hand back a promise kept
  // with the value. No expiry, tag or namespace check, no counter.
  const settled = new LRUCache<string, { value: unknown; promise: Promise<unknown> | undefined }>({
    max: KEYS,
  })
  for (let i = 0; i < KEYS; i++) settled.set(`key:${i}`, { value, promise: undefined })
  const minimalGet = (key: string) => {
    const slot = settled.get(key)
    if (slot === undefined) return Promise.resolve(undefined)
    // biome-ignore lint/suspicious/noAssignInExpressions: created once per key
    return (slot.promise ??= Promise.resolve(slot.value))
  }
  const loader = () => value
  let sink: unknown
  const rows: [string, () => unknown][] = [
    [
      'lru-cache get (raw, sync)',
      () => {
        for (let i = 0; i < PER_ROUND; i++) sink = lru.get(keys[i]!)
      },
    ],
    [
      'lru-cache get + await',
      async () => {
        for (let i = 0; i < PER_ROUND; i++) sink = await lru.get(keys[i]!)
      },
    ],
    [
      'minimal async get (lookup + kept promise, no checks)',
      async () => {
        for (let i = 0; i < PER_ROUND; i++) sink = await minimalGet(keys[i]!)
      },
    ],
    [
      'hotpath get',
      async () => {
        for (let i = 0; i < PER_ROUND; i++) sink = await cache.get(keys[i]!)
      },
    ],
    [
      'hotpath peek (sync, L1 only)',
      () => {
        for (let i = 0; i < PER_ROUND; i++) sink = cache.peek(keys[i]!)
      },
    ],
    [
      'hotpath getOrSet',
      async () => {
        for (let i = 0; i < PER_ROUND; i++) sink = await cache.getOrSet(keys[i]!, loader)
      },
    ],
  ]
  return {
    name: 'cache/l1-hit-interleaved',
    description: `L1 hit, ${KEYS.toLocaleString()} keys, Zipf keys: ${ROUNDS} alternating rounds of ${PER_ROUND.toLocaleString()} gets per row, median ns per get`,
    measure: async () => {
      const times = rows.map(() => [] as number[])
      for (let r = 0; r < ROUNDS; r++) {
        // Each round starts one row later, so no row always follows the same neighbour (and
        // pays for its garbage).
        for (let k = 0; k < rows.length; k++) {
          const index = (r + k) % rows.length
          const started = performance.now()
          await rows[index]![1]()
          times[index]!.push(((performance.now() - started) * 1e6) / PER_ROUND)
        }
      }
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
      const base = median(times[0]!)
      return rows.map(([name], index) => ({
        name,
        'median ns': Math.round(median(times[index]!)),
        'cost vs raw sync get': Math.round((median(times[index]!) / base) * 100) / 100,
      }))
    },
    teardown: async () => {
      void sink
      await cache.close()
    },
  }
})
