import { type Cache, createCache } from '@hotpath/cache'
import { redisStore } from '@hotpath/cache/redis'
import { BentoCache, bentostore } from 'bentocache'
import { redisDriver } from 'bentocache/drivers/redis'
import { Redis } from 'ioredis'

/** The ~200 B JSON value every L2 scenario reads. */
export const SAMPLE_VALUE = {
  id: 42,
  model: 'gpt-4o-mini',
  provider: 'openai',
  endpoint: 'https://api.example.com/v1/chat/completions',
  latencyMs: 412,
  successRate: 0.997,
  tags: ['chat', 'fast', 'cheap'],
  updatedAt: '2026-11-22T00:00:00.000Z',
}

/** Contenders reading the same keys from the same Redis, L1 disabled. */
export interface L2Fixture {
  /** The next key, round-robin over the pre-written keys. */
  pick(): string
  /** Raw ioredis GET + JSON.parse (the floor). */
  rawGet(key: string): Promise<unknown>
  /** The same on an auto-pipelining connection. */
  rawPipelinedGet(key: string): Promise<unknown>
  hotpath: Cache
  /** hotpath over an auto-pipelining connection. */
  hotpathPipelined: Cache
  bento: BentoCache<{ redis: ReturnType<typeof bentostore> }>
  /** Deletes the keys and closes every client. */
  close(): Promise<void>
}

/**
 * Writes `count` keys for each contender and returns them ready to read.
 *
 * @example
 * const fixture = await openL2Fixture('seq', 1_000)
 */
export async function openL2Fixture(label: string, count: number): Promise<L2Fixture> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const prefix = `hp:bench:${label}:${process.pid}:`
  const client = new Redis(url, { enableOfflineQueue: true })
  const pipelined = new Redis(url, { enableAutoPipelining: true })
  const bentoClient = new Redis(url)
  const keys = Array.from({ length: count }, (_, i) => `item:${i}`)
  const options = { namespace: 'bench', l1: false, l2Timeout: '1s', ttl: '1h' } as const
  const hotpath = createCache({ ...options, l2: redisStore({ client, prefix }) })
  const hotpathPipelined = createCache({ ...options, l2: redisStore({ client: pipelined, prefix }) })
  const bento = new BentoCache({
    default: 'redis',
    stores: {
      redis: bentostore().useL2Layer(redisDriver({ connection: bentoClient, prefix: `${prefix}bento` })),
    },
  })
  await hotpath.setMany(keys.map((key) => ({ key, value: SAMPLE_VALUE })))
  for (const key of keys) {
    await client.set(`${prefix}raw:${key}`, JSON.stringify(SAMPLE_VALUE))
    await bento.set({ key, value: SAMPLE_VALUE, ttl: '1h' })
  }
  let cursor = 0
  return {
    pick: () => keys[cursor++ % count]!,
    rawGet: async (key) => JSON.parse((await client.get(`${prefix}raw:${key}`))!),
    rawPipelinedGet: async (key) => JSON.parse((await pipelined.get(`${prefix}raw:${key}`))!),
    hotpath,
    hotpathPipelined,
    bento,
    async close() {
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
}
