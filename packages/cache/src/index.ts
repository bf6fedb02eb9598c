export type { ManyLoader } from './batch'
export type { BreakerState } from './breaker'
export { Cache, type Loaded } from './cache'
export { type CacheChannelMessages, cacheChannels } from './channels'
export { type Codec, type JsonCodecOptions, jsonCodec } from './codec'
export type { Loader } from './core'
export { type BreakerOptions, type CacheOptions, createCache } from './create-cache'
export {
  CacheClosedError,
  CacheCodecError,
  CacheL2TimeoutError,
  CacheL2UnavailableError,
  CacheLoaderTimeoutError,
  errors,
} from './errors'
export type { L1Options } from './l1'
export { BatchLoaderContext, LoaderContext } from './loader-context'
export type { CacheLease, CacheLock, LockEvent } from './lock'
export { type MsgpackCodecOptions, msgpackCodec, type PackrLike } from './msgpack-codec'
export type { CacheEntryInput, CachePolicy, GetOrSetOptions, LoaderTimeouts, SetOptions } from './options'
export type { RecoveryEvent } from './recovery'
export type { CacheStats } from './stats'
export type {
  BusHandlers,
  BusMessage,
  BusStats,
  CacheBus,
  CacheStore,
  StoredValue,
  StoreSwap,
  StoreTracking,
  StoreWrite,
  TrackingHandlers,
  TrackingStats,
} from './store'
