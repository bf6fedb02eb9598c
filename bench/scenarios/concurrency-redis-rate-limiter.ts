import { redisRateLimiter } from '@hotpath/concurrency/redis'
import { Redis } from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import { defineScenario } from '../lib/scenario'

const OPS = 2_000
const IN_FLIGHT = 50
const KEYS = 1_000

async function drive(consume: (key: string) => Promise<unknown>, keys: string[]): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < OPS) await consume(keys[next++ % KEYS]!)
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
}

export default defineScenario(async () => {
  const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  await client.ping()
  const run = `${process.pid}-${Date.now()}`
  const keys = Array.from({ length: KEYS }, (_, i) => `client-${i}`)
  const limit = 1_000_000_000
  const options = { client, limit, window: '1m', timeout: '1s' } as const
  const sliding = redisRateLimiter({ ...options, algorithm: 'sliding-window', prefix: `hp:bench:${run}:sw:` })
  const gcra = redisRateLimiter({ ...options, algorithm: 'gcra', prefix: `hp:bench:${run}:gcra:` })
  const bucket = redisRateLimiter({ ...options, algorithm: 'token-bucket', prefix: `hp:bench:${run}:tb:` })
  const flexible = new RateLimiterRedis({
    storeClient: client,
    points: limit,
    duration: 60,
    keyPrefix: `hp:bench:${run}:rlf`,
  })
  return {
    name: 'concurrency/rate-limiter-redis',
    description: 'consume on the local Redis, 50 in flight, 1,000 keys (per-consume figures)',
    baseline: 'rate-limiter-flexible RateLimiterRedis',
    opsPerRun: OPS,
    time: 2_000,
    tasks: {
      'hotpath redisRateLimiter gcra': () => drive((k) => gcra.consume(k), keys),
      'hotpath redisRateLimiter token-bucket': () => drive((k) => bucket.consume(k), keys),
      'hotpath redisRateLimiter sliding-window': () => drive((k) => sliding.consume(k), keys),
      'rate-limiter-flexible RateLimiterRedis': () => drive((k) => flexible.consume(k), keys),
    },
    teardown: async () => {
      // Keys expire within a minute; drop them now anyway (own prefix only, never FLUSHDB).
      let cursor = '0'
      do {
        const [nextCursor, found] = await client.scan(cursor, 'MATCH', `hp:bench:${run}:*`, 'COUNT', 1000)
        cursor = nextCursor
        if (found.length > 0) await client.unlink(...found)
      } while (cursor !== '0')
      client.disconnect()
    },
  }
})
