export { keySlot } from './key-slot'
export { type RedisBusOptions, redisBus } from './redis-bus'
export type {
  RedisBusClientLike,
  RedisClientLike,
  RedisPipelineLike,
  RedisSubscriberLike,
} from './redis-client'
export { type RedisLockClientLike, type RedisLockOptions, redisLock } from './redis-lock'
export { type RedisStoreOptions, redisStore } from './redis-store'
