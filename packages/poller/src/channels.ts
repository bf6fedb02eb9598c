import { eventChannel } from '@hotpath/core'

/**
 * Outcome of a poll, as counted in stats and published on `hotpath:poller:settle`.
 *
 * @example
 * const outcome: PollOutcome = 'timeout'
 * pollerStats().settled[outcome]
 */
export type PollOutcome = 'done' | 'failed' | 'timeout' | 'stalled' | 'aborted' | 'error' | 'stopped'

/**
 * Message of `hotpath:poller:check`, published before each check.
 *
 * @example
 * diagnostics_channel.subscribe('hotpath:poller:check', (m) => console.log((m as CheckMessage).attempt))
 */
export interface CheckMessage {
  name: string
  attempt: number
  elapsed: number
}

/**
 * Message of `hotpath:poller:progress`.
 *
 * @example
 * diagnostics_channel.subscribe('hotpath:poller:progress', (m) => show((m as ProgressMessage).progress))
 */
export interface ProgressMessage {
  name: string
  attempt: number
  progress: unknown
  previous: unknown
}

/**
 * Message of `hotpath:poller:stall`.
 *
 * @example
 * diagnostics_channel.subscribe('hotpath:poller:stall', (m) => console.warn((m as StallMessage).stalled))
 */
export interface StallMessage {
  name: string
  attempt: number
  stalled: number
  progress: unknown
}

/**
 * Message of `hotpath:poller:settle`.
 *
 * @example
 * diagnostics_channel.subscribe('hotpath:poller:settle', (m) => console.log((m as SettleMessage).outcome))
 */
export interface SettleMessage {
  name: string
  outcome: PollOutcome
  attempts: number
  durationMs: number
  error: Error | undefined
}

/**
 * Message of `hotpath:poller:job`, published after each run of an `every()` job.
 *
 * @example
 * diagnostics_channel.subscribe('hotpath:poller:job', (m) => console.log((m as JobRunMessage).durationMs))
 */
export interface JobRunMessage {
  name: string
  run: number
  durationMs: number
  error: unknown
}

/** `hotpath:poller:check` */
export const checkChannel = eventChannel<CheckMessage>('hotpath:poller:check')
/** `hotpath:poller:progress` */
export const progressChannel = eventChannel<ProgressMessage>('hotpath:poller:progress')
/** `hotpath:poller:stall` */
export const stallChannel = eventChannel<StallMessage>('hotpath:poller:stall')
/** `hotpath:poller:settle` */
export const settleChannel = eventChannel<SettleMessage>('hotpath:poller:settle')
/** `hotpath:poller:job` */
export const jobChannel = eventChannel<JobRunMessage>('hotpath:poller:job')
