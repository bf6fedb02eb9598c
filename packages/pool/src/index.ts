export type { PoolAdvice } from './advise'
export type {
  AcquireMessage,
  AcquireTimeoutMessage,
  CreateErrorMessage,
  CreateMessage,
  DestroyErrorMessage,
  DestroyMessage,
  DestroyReason,
  SlowQueryMessage,
} from './channels'
export { type PoolChannelMessages, poolChannels } from './channels'
export {
  AcquireTimeoutError,
  ConnectionLostError,
  CreateTimeoutError,
  DestroyTimeoutError,
  DoubleReleaseError,
  errors,
  PoolClosedError,
  PoolInitializeError,
  PoolQueueFullError,
  QueryAbortedError,
  QueryOutcomeUnknownError,
} from './errors'
export { Lease } from './lease'
export type {
  CreateContext,
  CreateRetryOptions,
  LeakReport,
  PoolLogger,
  PoolOptions,
} from './options'
export { createPool, Pool } from './pool'
export type { AcquireOptions, DrainOptions, DrainResult, InitializeOptions, PoolStats } from './pool-types'
