export type {
  CheckMessage,
  JobRunMessage,
  PollOutcome,
  ProgressMessage,
  SettleMessage,
  StallMessage,
} from './channels'
export { type PollerChannelMessages, pollerChannels } from './channels'
export {
  errors,
  JobStoppedError,
  PollAbortedError,
  PollCheckError,
  PollFailedError,
  PollStalledError,
  PollTimeoutError,
} from './errors'
export {
  type EveryOptions,
  every,
  type Job,
  type JobBackoffOptions,
  type JobContext,
  type JobStats,
} from './every'
export {
  defineLimiter,
  getLimiter,
  PollLimiter,
  type PollLimiterOptions,
  type PollLimiterStats,
} from './limiter'
export type {
  PollContext,
  PollInfo,
  PollInterval,
  PollOptions,
  RetryOptions,
  StallOptions,
} from './options'
export { type Phase, PhaseSchedule, phases } from './phases'
export { poll } from './poll'
export type { PollUpdate } from './run-state'
export { type PollerStats, pollerMetrics, pollerStats, type SchedulerStats } from './stats'
export { type PollWatch, watch } from './watch'
