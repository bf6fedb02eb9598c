export type { RedisScriptClient } from './redis-client'
export {
  type RedisFallback,
  type RedisFallbackEvent,
  type RedisRateLimiter,
  type RedisRateLimiterOptions,
  type RedisRateLimiterStats,
  type RedisRateLimitResult,
  redisFallbackChannel,
  redisRateLimiter,
} from './redis-rate-limiter'
export {
  type RedisAcquireOptions,
  type RedisLease,
  type RedisSemaphore,
  type RedisSemaphoreOptions,
  redisSemaphore,
} from './redis-semaphore'
