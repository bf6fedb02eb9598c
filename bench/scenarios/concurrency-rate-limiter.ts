import { RateLimiter } from '@hotpath/concurrency'
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { defineScenario } from '../lib/scenario'

const OPS = 10_000
const KEYS = 1_000

export default defineScenario(() => {
  const keys = Array.from({ length: KEYS }, (_, i) => `10.0.${i >> 8}.${i & 255}`)
  // A limit high enough that every call is admitted: rate-limiter-flexible rejects its promise on
  // a refusal, which would measure exception cost instead of limiter cost.
  const limit = 1_000_000_000
  const sliding = new RateLimiter({ limit, window: '1m', algorithm: 'sliding-window', maxKeys: KEYS * 2 })
  const bucket = new RateLimiter({ limit, window: '1m', algorithm: 'token-bucket', maxKeys: KEYS * 2 })
  const gcra = new RateLimiter({ limit, window: '1m', algorithm: 'gcra', maxKeys: KEYS * 2 })
  const flexible = new RateLimiterMemory({ points: limit, duration: 60 })
  return {
    name: 'concurrency/rate-limiter-memory',
    description: 'in-memory consume over 1,000 client keys, all admitted (per-consume figures)',
    baseline: 'rate-limiter-flexible RateLimiterMemory',
    opsPerRun: OPS,
    tasks: {
      'hotpath RateLimiter sliding-window': () => {
        for (let i = 0; i < OPS; i++) sliding.consume(keys[i % KEYS]!)
      },
      'hotpath RateLimiter token-bucket': () => {
        for (let i = 0; i < OPS; i++) bucket.consume(keys[i % KEYS]!)
      },
      'hotpath RateLimiter gcra': () => {
        for (let i = 0; i < OPS; i++) gcra.consume(keys[i % KEYS]!)
      },
      'hotpath RateLimiter gcra (awaited)': async () => {
        for (let i = 0; i < OPS; i++) await gcra.consume(keys[i % KEYS]!)
      },
      'rate-limiter-flexible RateLimiterMemory': async () => {
        for (let i = 0; i < OPS; i++) await flexible.consume(keys[i % KEYS]!)
      },
    },
  }
})
