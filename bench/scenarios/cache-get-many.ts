import { createCache } from '@hotpath/cache'
import { redisStore } from '@hotpath/cache/redis'
import { Redis } from 'ioredis'
import { defineScenario } from '../lib/scenario'

const BATCH = 100

export default defineScenario(async () => {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const prefix = `hp:bench:many:${process.pid}:`
  const client = new Redis(url)
  const cache = createCache({
    namespace: 'bench',
    l1: false,
    l2: redisStore({ client, prefix }),
    l2Timeout: '1s',
    ttl: '1h',
  })
  const keys = Array.from({ length: BATCH }, (_, i) => `item:${i}`)
  await cache.setMany(keys.map((key) => ({ key, value: { id: key, score: 0.5, tags: ['a', 'b'] } })))
  let sink: unknown
  return {
    name: 'cache/get-many',
    description: `${BATCH} keys from L2 (L1 disabled): one getMany (one MGET) vs ${BATCH} sequential gets`,
    baseline: `${BATCH} sequential get`,
    time: 2_000,
    tasks: {
      [`${BATCH} sequential get`]: async () => {
        for (const key of keys) sink = await cache.get(key)
      },
      [`getMany(${BATCH})`]: async () => {
        sink = await cache.getMany(keys)
      },
    },
    teardown: async () => {
      void sink
      await cache.clear().catch(() => {})
      await cache.close()
      client.disconnect()
    },
  }
})
