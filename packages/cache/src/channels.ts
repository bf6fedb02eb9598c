import type { BreakerState } from './breaker'
import type { LockEvent } from './lock'
import type { RecoveryEvent } from './recovery'
import type { BusMessage } from './store'

/**
 * Names of the diagnostics channels this package publishes on (`load` is a tracing channel:
 * subscribe to `tracing:hotpath:cache:load:start` and friends). The message type of each is in
 * `CacheChannelMessages`.
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe(cacheChannels.stale, (m) => console.warn((m as CacheChannelMessages['hotpath:cache:stale']).reason))
 */
export const cacheChannels = {
  miss: 'hotpath:cache:miss',
  stale: 'hotpath:cache:stale',
  load: 'hotpath:cache:load',
  bus: 'hotpath:cache:bus',
  lock: 'hotpath:cache:lock',
  recovery: 'hotpath:cache:recovery',
  breaker: 'hotpath:cache:breaker',
  l2Error: 'hotpath:cache:l2-error',
} as const

/**
 * The message published on each channel of `cacheChannels`, keyed by channel name (for `load`, the
 * tracing context).
 *
 * @example
 * type Lag = CacheChannelMessages[typeof cacheChannels.bus]['lag'] // number
 */
export interface CacheChannelMessages {
  /** Message of `hotpath:cache:miss`. */
  [cacheChannels.miss]: { cache: string; key: string }
  /** Message of `hotpath:cache:stale`. */
  [cacheChannels.stale]: { cache: string; key: string; reason: string }
  /** Message of `hotpath:cache:load`. */
  [cacheChannels.load]: { cache: string; key: string }
  /** Message of `hotpath:cache:bus`. */
  [cacheChannels.bus]: { cache: string; message: BusMessage; lag: number }
  /** Message of `hotpath:cache:lock`. */
  [cacheChannels.lock]: LockEvent
  /** Message of `hotpath:cache:recovery`. */
  [cacheChannels.recovery]: RecoveryEvent
  /** Message of `hotpath:cache:breaker`. */
  [cacheChannels.breaker]: { store: string; state: BreakerState }
  /** Message of `hotpath:cache:l2-error`. */
  [cacheChannels.l2Error]: { store: string; operation: string; error: unknown }
}
