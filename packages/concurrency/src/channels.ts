import type { LimitChangeEvent } from './adaptive-limiter'
import type { HttpLimitedEvent } from './http'
import type { LockWaitEvent } from './mutex'
import type { RateLimitedEvent } from './rate-limiter'
import type { RedisFallbackEvent } from './redis-rate-limiter'
import type { AcquireEvent, RejectEvent, TimeoutEvent } from './semaphore-types'
import type { WorkerDoneEvent, WorkerRejectEvent, WorkerRunContext } from './workers-types'

/**
 * Names of the diagnostics channels this package publishes on (`worker-run` is a tracing channel:
 * subscribe to `tracing:<name>:start` and friends). The message type of each is in
 * `ConcurrencyChannelMessages`.
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe(concurrencyChannels.acquire, (m) => waits.record((m as AcquireEvent).waitMs))
 */
export const concurrencyChannels = {
  acquire: 'hotpath:concurrency:acquire',
  reject: 'hotpath:concurrency:reject',
  timeout: 'hotpath:concurrency:timeout',
  lockWait: 'hotpath:concurrency:lock-wait',
  limit: 'hotpath:concurrency:limit',
  rateLimited: 'hotpath:concurrency:rate-limited',
  redisFallback: 'hotpath:concurrency:redis-fallback',
  httpLimited: 'hotpath:concurrency:http-limited',
  workerDone: 'hotpath:concurrency:worker-done',
  workerReject: 'hotpath:concurrency:worker-reject',
  workerRun: 'hotpath:concurrency:worker-run',
} as const

/**
 * The message published on each channel of `concurrencyChannels`, keyed by channel name.
 *
 * @example
 * type Waited = ConcurrencyChannelMessages[typeof concurrencyChannels.acquire]['waitMs'] // number
 */
export interface ConcurrencyChannelMessages {
  /** Message of `hotpath:concurrency:acquire`. */
  [concurrencyChannels.acquire]: AcquireEvent
  /** Message of `hotpath:concurrency:reject`. */
  [concurrencyChannels.reject]: RejectEvent
  /** Message of `hotpath:concurrency:timeout`. */
  [concurrencyChannels.timeout]: TimeoutEvent
  /** Message of `hotpath:concurrency:lock-wait`. */
  [concurrencyChannels.lockWait]: LockWaitEvent
  /** Message of `hotpath:concurrency:limit`. */
  [concurrencyChannels.limit]: LimitChangeEvent
  /** Message of `hotpath:concurrency:rate-limited`. */
  [concurrencyChannels.rateLimited]: RateLimitedEvent
  /** Message of `hotpath:concurrency:redis-fallback`. */
  [concurrencyChannels.redisFallback]: RedisFallbackEvent
  /** Message of `hotpath:concurrency:http-limited`. */
  [concurrencyChannels.httpLimited]: HttpLimitedEvent
  /** Message of `hotpath:concurrency:worker-done`. */
  [concurrencyChannels.workerDone]: WorkerDoneEvent
  /** Message of `hotpath:concurrency:worker-reject`. */
  [concurrencyChannels.workerReject]: WorkerRejectEvent
  /** Message of `hotpath:concurrency:worker-run`. */
  [concurrencyChannels.workerRun]: WorkerRunContext
}
