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

/**
 * Names of the diagnostics channels this package publishes on. The message type of each is in
 * `PollerChannelMessages`.
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe(pollerChannels.settle, (m) => console.log((m as SettleMessage).outcome))
 */
export const pollerChannels = {
  check: 'hotpath:poller:check',
  progress: 'hotpath:poller:progress',
  stall: 'hotpath:poller:stall',
  settle: 'hotpath:poller:settle',
  job: 'hotpath:poller:job',
} as const

/**
 * The message published on each channel of `pollerChannels`, keyed by channel name.
 *
 * @example
 * type Outcome = PollerChannelMessages[typeof pollerChannels.settle]['outcome'] // PollOutcome
 */
export interface PollerChannelMessages {
  /** Message of `hotpath:poller:check`. */
  [pollerChannels.check]: CheckMessage
  /** Message of `hotpath:poller:progress`. */
  [pollerChannels.progress]: ProgressMessage
  /** Message of `hotpath:poller:stall`. */
  [pollerChannels.stall]: StallMessage
  /** Message of `hotpath:poller:settle`. */
  [pollerChannels.settle]: SettleMessage
  /** Message of `hotpath:poller:job`. */
  [pollerChannels.job]: JobRunMessage
}

/** `hotpath:poller:check` */
export const checkChannel = eventChannel<CheckMessage>(pollerChannels.check)
/** `hotpath:poller:progress` */
export const progressChannel = eventChannel<ProgressMessage>(pollerChannels.progress)
/** `hotpath:poller:stall` */
export const stallChannel = eventChannel<StallMessage>(pollerChannels.stall)
/** `hotpath:poller:settle` */
export const settleChannel = eventChannel<SettleMessage>(pollerChannels.settle)
/** `hotpath:poller:job` */
export const jobChannel = eventChannel<JobRunMessage>(pollerChannels.job)
