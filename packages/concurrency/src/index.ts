export {
  ClosedError,
  errors,
  LockNotHeldError,
  QueueFullError,
  RateLimitedError,
  RedisUnavailableError,
  SemaphoreClearedError,
  SemaphoreTimeoutError,
} from './errors'
export {
  type AcquireEvent,
  type AcquireOptions,
  acquireChannel,
  Permit,
  type RejectEvent,
  rejectChannel,
  Semaphore,
  type SemaphoreOptions,
  type SemaphoreStats,
  type TimeoutEvent,
  timeoutChannel,
} from './semaphore'
export { type SingleFlight, singleFlight } from './single-flight'
