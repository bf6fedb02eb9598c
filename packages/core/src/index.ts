export {
  abortable,
  abortReason,
  type Deadline,
  type DeadlineOptions,
  deadlineSignal,
  onAbort,
  sleep,
  throwIfAborted,
  withTimeout,
} from './abort'
export { type AsyncTracer, asyncTracer, type EventChannel, eventChannel } from './channels'
export {
  type Clock,
  coarseNow,
  getClock,
  getTimers,
  MAX_TIMER_DELAY,
  setClock,
  setTimers,
  type TimerProvider,
} from './clock'
export { type Deferred, deferred } from './deferred'
export {
  type Duration,
  type DurationUnit,
  formatDuration,
  parseDuration,
  parseOptionalDuration,
} from './duration'
export { AbortedError, errors, HotpathError, type HotpathErrorOptions, TimeoutError } from './errors'
export {
  describeMetrics,
  type MetricsDescriptor,
  type MetricsKind,
  type MetricsSource,
  metricsSource,
} from './metrics-source'
export {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKnownOptions,
  checkNumber,
  checkOneOf,
  checkOptionsObject,
  checkSignal,
  checkString,
  closestName,
  describeValue,
  invalidOption,
  isThenable,
  type RangeBounds,
  readOptions,
  withDefaults,
} from './options'
export { Summary, type SummarySnapshot } from './summary'
export { Timeout, TimerEntry, type TimerEntryOptions } from './timers/entry'
export { schedule, type TimerHandle } from './timers/schedule'
export {
  getTimerService,
  TimerService,
  type TimerServiceOptions,
  type TimerServiceStats,
} from './timers/service'
