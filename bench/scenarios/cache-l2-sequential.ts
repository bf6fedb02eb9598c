import { createCache } from '@hotpath/cache'
import { redisStore } from '@hotpath/cache/redis'
import { BentoCache, bentostore } from 'bentocache'
import { redisDriver } from 'bentocache/drivers/redis'
import { Redis } from 'ioredis'
import { defineScenario } from '../lib/scenario'

const KEYS = 1_000
const SEQUENTIAL = 200

export default defineScenario(async () => {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const prefix = `hp:bench:l2:${process.pid}:`
  const client = new Redis(url, { enableOfflineQueue: true })
  const pipelined = new Redis(url, { enableAutoPipelining: true })
  const bentoClient = new Redis(url)
  // ~200 B of JSON
  const value = {
    id: 42,
    model: 'gpt-4o-mini',
    provider: 'openai',
    endpoint: 'https://api.example.com/v1/chat/completions',
    latencyMs: 412,
    successRate: 0.997,
    tags: ['chat', 'fast', 'cheap'],
    updatedAt: '2026-11-22T00:00:00.000Z',
  }
  const keys = Array.from({ length: KEYS }, (_, i) => `item:${i}`)
  const hotpath = createCache({
    namespace: 'bench',
    l1: false,
    l2: redisStore({ client, prefix }),
    l2Timeout: '1s',
    ttl: '1h',
  })
  const hotpathPipelined = createCache({
    namespace: 'bench',
    l1: false,
    l2: redisStore({ client: pipelined, prefix }),
    l2Timeout: '1s',
    ttl: '1h',
  })
  const bento = new BentoCache({
    default: 'redis',
    stores: {
      redis: bentostore().useL2Layer(redisDriver({ connection: bentoClient, prefix: `${prefix}bento` })),
    },
  })
  await hotpath.setMany(keys.map((key) => ({ key, value })))
  for (const key of keys) {
    await client.set(`${prefix}raw:${key}`, JSON.stringify(value))
    await bento.set({ key, value, ttl: '1h' })
  }
  let sink: unknown
  let cursor = 0
  const pick = () => keys[cursor++ % KEYS]!
  const rawGet = async (key: string) => JSON.parse((await client.get(`${prefix}raw:${key}`))!)

  return {
    name: 'cache/l2-hit-sequential',
    description: `L2 hit with L1 disabled, ~200 B JSON, ${SEQUENTIAL} sequential gets per run`,
    baseline: 'ioredis get + JSON.parse, sequential',
    opsPerRun: SEQUENTIAL,
    time: 2_000,
    tasks: {
      'ioredis get + JSON.parse, sequential': async () => {
        for (let i = 0; i < SEQUENTIAL; i++) sink = await rawGet(pick())
      },
      'hotpath get, sequential': async () => {
        for (let i = 0; i < SEQUENTIAL; i++) sink = await hotpath.get(pick())
      },
      'bentocache get, sequential': async () => {
        for (let i = 0; i < SEQUENTIAL; i++) sink = await bento.get({ key: pick() })
      },
    },
    teardown: async () => {
      void sink
      await hotpath.clear().catch(() => {})
      let c = '0'
      do {
        const [next, found] = await client.scan(c, 'MATCH', `${prefix}*`, 'COUNT', 1000)
        c = next
        if (found.length) await client.unlink(...found)
      } while (c !== '0')
      await hotpath.close()
      await hotpathPipelined.close()
      await bento.disconnectAll()
      client.disconnect()
      pipelined.disconnect()
      bentoClient.disconnect()
    },
  }
})
