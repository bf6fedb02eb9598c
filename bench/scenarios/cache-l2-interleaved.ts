import { createCache } from '@hotpath/cache'
import { redisStore } from '@hotpath/cache/redis'
import { Redis } from 'ioredis'
import { SAMPLE_VALUE } from '../lib/cache-l2-fixture'
import { defineScenario } from '../lib/scenario'

const PER_ROUND = 2_000
const ROUNDS = 9

/**
 * Sequential L2 hits, raw ioredis and hotpath alternating round by round, medians compared: on a
 * shared machine this keeps both sides under the same load, which separate tinybench tasks do not.
 */
export default defineScenario(async () => {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const prefix = `hp:bench:l2i:${process.pid}:`
  const client = new Redis(url)
  const value = SAMPLE_VALUE
  const cache = createCache({
    namespace: 'bench',
    l1: false,
    l2: redisStore({ client, prefix }),
    l2Timeout: '2s',
  })
  await cache.set('k', value)
  await client.set(`${prefix}raw`, JSON.stringify(value))
  let sink: unknown
  const round = async (get: () => Promise<unknown>) => {
    const started = performance.now()
    for (let i = 0; i < PER_ROUND; i++) sink = await get()
    return ((performance.now() - started) * 1000) / PER_ROUND
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
  return {
    name: 'cache/l2-hit-interleaved',
    description: `L2 hit, L1 disabled, ~200 B JSON: ${ROUNDS} alternating rounds of ${PER_ROUND} sequential gets, median µs per get`,
    measure: async () => {
      const raw: number[] = []
      const hotpath: number[] = []
      for (let r = 0; r < ROUNDS; r++) {
        raw.push(await round(async () => JSON.parse((await client.get(`${prefix}raw`))!)))
        hotpath.push(await round(() => cache.get('k')))
      }
      const base = median(raw)
      return [
        { name: 'ioredis get + JSON.parse', 'median µs': Math.round(base * 10) / 10, 'cost vs raw': 1 },
        {
          name: 'hotpath get',
          'median µs': Math.round(median(hotpath) * 10) / 10,
          'cost vs raw': Math.round((median(hotpath) / base) * 100) / 100,
        },
      ]
    },
    teardown: async () => {
      void sink
      await client.del(`${prefix}raw`, `${prefix}bench:j1:k`)
      await cache.close()
      client.disconnect()
    },
  }
})
