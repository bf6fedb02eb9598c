export {
  type AdaptiveAlgorithm,
  AdaptiveLimiter,
  type AdaptiveLimiterOptions,
  type AdaptiveLimiterStats,
  type AdaptiveToken,
  type LimitChangeEvent,
  limitChannel,
} from './adaptive-limiter'
export {
  type BatchExecuteOptions,
  batchExecute,
  type SettledItem,
  type TaskContext,
} from './batch-execute'
export { Batcher, type BatcherOptions, type BatcherStats, type BatchFunction } from './batcher'
export {
  BoundedQueue,
  type BoundedQueueOptions,
  type BoundedQueueStats,
  type QueueWaitOptions,
} from './bounded-queue'
export { type ConcurrencyChannelMessages, concurrencyChannels } from './channels'
export {
  ClosedError,
  errors,
  LockSelfWaitError,
  QueueFullError,
  RateLimitedError,
  RedisUnavailableError,
  SemaphoreClearedError,
  SemaphoreTimeoutError,
  TaskTimeoutError,
  WorkerCrashedError,
  WorkerTimeoutError,
} from './errors'
export { type MapConcurrentOptions, mapConcurrent } from './map-concurrent'
export {
  type LockAcquireOptions,
  type LockHandle,
  type LockWaitEvent,
  lockWaitChannel,
  Mutex,
  type MutexOptions,
  type MutexStats,
} from './mutex'
export { Permit } from './permit'
export {
  type RateLimitAlgorithm,
  type RateLimitedEvent,
  RateLimiter,
  type RateLimiterLike,
  type RateLimiterOptions,
  type RateLimiterStats,
  type RateLimitResult,
  rateLimitedChannel,
} from './rate-limiter'
export { RWLock, type RWLockOptions, type RWLockStats } from './rw-lock'
export { Semaphore } from './semaphore'
export {
  type AcquireEvent,
  type AcquireOptions,
  acquireChannel,
  type ClearOptions,
  type RejectEvent,
  type RunOptions,
  rejectChannel,
  type SemaphoreOptions,
  type SemaphoreStats,
  type TimeoutEvent,
  timeoutChannel,
  type WatchOptions,
} from './semaphore-types'
export { type SingleFlight, singleFlight } from './single-flight'
