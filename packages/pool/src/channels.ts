import { eventChannel } from '@hotpath/core'
import type { LeakReport } from './options'

/**
 * Message of `hotpath:pool:acquire`.
 *
 * @example
 * eventChannel<AcquireMessage>('hotpath:pool:acquire').subscribe((m) => waits.record(m.waitMs))
 */
export interface AcquireMessage {
  pool: string
  /** Time spent waiting (0 when an idle resource was ready). */
  waitMs: number
}

/**
 * Message of `hotpath:pool:create`.
 *
 * @example
 * eventChannel<CreateMessage>('hotpath:pool:create').subscribe((m) => connects.record(m.durationMs))
 */
export interface CreateMessage {
  pool: string
  durationMs: number
  size: number
}

/**
 * Message of `hotpath:pool:create-error`.
 *
 * @example
 * eventChannel<CreateErrorMessage>('hotpath:pool:create-error').subscribe((m) => log.warn(m.error))
 */
export interface CreateErrorMessage {
  pool: string
  error: unknown
  /** Consecutive failures so far. */
  failures: number
  /** Delay before the next attempt. */
  retryInMs: number
}

/**
 * Message of `hotpath:pool:destroy`.
 *
 * @example
 * eventChannel<DestroyMessage>('hotpath:pool:destroy').subscribe((m) => destroyed.inc({ reason: m.reason }))
 */
export interface DestroyMessage {
  pool: string
  reason: DestroyReason
}

/**
 * Message of `hotpath:pool:destroy-error`: a `destroy` threw or rejected (`error` is what it
 * threw), or did not settle within `destroyTimeout` (`error` is a `DestroyTimeoutError`).
 *
 * @example
 * eventChannel<DestroyErrorMessage>('hotpath:pool:destroy-error').subscribe((m) => log.warn(m.error))
 */
export interface DestroyErrorMessage {
  pool: string
  error: unknown
}

/**
 * Why a resource was destroyed.
 *
 * @example
 * const reason: DestroyReason = 'lifetime'
 */
export type DestroyReason =
  | 'error'
  | 'destroyed'
  | 'idle'
  | 'lifetime'
  | 'uses'
  | 'invalid'
  | 'resize'
  | 'close'

/**
 * Message of `hotpath:pool:acquire-timeout`.
 *
 * @example
 * eventChannel<AcquireTimeoutMessage>('hotpath:pool:acquire-timeout').subscribe((m) => log.warn(m.cause))
 */
export interface AcquireTimeoutMessage {
  pool: string
  waitedMs: number
  cause: unknown
}

/**
 * Message of `hotpath:pool:slow-query` (the SQL text and the parameter count, never the values).
 *
 * @example
 * eventChannel<SlowQueryMessage>('hotpath:pool:slow-query').subscribe((m) => log.warn(m.sql, m.durationMs))
 */
export interface SlowQueryMessage {
  pool: string
  sql: string
  parameters: number
  durationMs: number
}

/**
 * Names of the diagnostics channels this package publishes on. The message type of each is in
 * `PoolChannelMessages`.
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe(poolChannels.acquire, (m) => waits.record((m as AcquireMessage).waitMs))
 */
export const poolChannels = {
  acquire: 'hotpath:pool:acquire',
  create: 'hotpath:pool:create',
  createError: 'hotpath:pool:create-error',
  destroy: 'hotpath:pool:destroy',
  destroyError: 'hotpath:pool:destroy-error',
  acquireTimeout: 'hotpath:pool:acquire-timeout',
  leak: 'hotpath:pool:leak',
  slowQuery: 'hotpath:pool:slow-query',
} as const

/**
 * The message published on each channel of `poolChannels`, keyed by channel name.
 *
 * @example
 * type Reason = PoolChannelMessages[typeof poolChannels.destroy]['reason'] // DestroyReason
 */
export interface PoolChannelMessages {
  /** Message of `hotpath:pool:acquire`. */
  [poolChannels.acquire]: AcquireMessage
  /** Message of `hotpath:pool:create`. */
  [poolChannels.create]: CreateMessage
  /** Message of `hotpath:pool:create-error`. */
  [poolChannels.createError]: CreateErrorMessage
  /** Message of `hotpath:pool:destroy`. */
  [poolChannels.destroy]: DestroyMessage
  /** Message of `hotpath:pool:destroy-error`. */
  [poolChannels.destroyError]: DestroyErrorMessage
  /** Message of `hotpath:pool:acquire-timeout`. */
  [poolChannels.acquireTimeout]: AcquireTimeoutMessage
  /** Message of `hotpath:pool:leak`. */
  [poolChannels.leak]: LeakReport
  /** Message of `hotpath:pool:slow-query`. */
  [poolChannels.slowQuery]: SlowQueryMessage
}

/** @internal The package's channels. */
export const channels = {
  acquire: eventChannel<AcquireMessage>(poolChannels.acquire),
  create: eventChannel<CreateMessage>(poolChannels.create),
  createError: eventChannel<CreateErrorMessage>(poolChannels.createError),
  destroy: eventChannel<DestroyMessage>(poolChannels.destroy),
  destroyError: eventChannel<DestroyErrorMessage>(poolChannels.destroyError),
  acquireTimeout: eventChannel<AcquireTimeoutMessage>(poolChannels.acquireTimeout),
  leak: eventChannel<LeakReport>(poolChannels.leak),
  slowQuery: eventChannel<SlowQueryMessage>(poolChannels.slowQuery),
}
