export type { ManyLoader } from './batch'
export type { BreakerState } from './breaker'
export {
  type BreakerOptions,
  Cache,
  type CacheEntryInput,
  type CacheOptions,
  createCache,
  type GetOrSetOptions,
  type SetOptions,
} from './cache'
export { type Codec, type JsonCodecOptions, jsonCodec } from './codec'
export type { Loader } from './core'
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
export { type MsgpackCodecOptions, msgpackCodec, type PackrLike } from './msgpack-codec'
export type { CachePolicy, LoaderTimeouts } from './options'
export type { CacheStats } from './stats'
export type {
  BusHandlers,
  BusMessage,
  BusStats,
  CacheBus,
  CacheStore,
  StoredValue,
  StoreWrite,
} from './store'
