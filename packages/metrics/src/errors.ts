import { HotpathError, type HotpathErrorOptions } from '@hotpath/core'

/**
 * Base class of every error `@hotpath/metrics` throws on purpose.
 *
 * @example
 * if (err instanceof MetricsError) console.error(err.code)
 */
export class MetricsError extends HotpathError {}

/**
 * A metric was registered twice under one name with a different type, unit or label names
 * (`E_METRICS_CONFLICT`).
 *
 * @example
 * registry.counter('requests')
 * registry.gauge('requests') // throws MetricConflictError
 */
export class MetricConflictError extends MetricsError {
  /** The metric name. */
  readonly metric: string
  constructor(metric: string, detail: string) {
    super(
      'E_METRICS_CONFLICT',
      `Metric \`${metric}\` is already registered ${detail}; use another name or the same definition.`,
    )
    this.metric = metric
  }
}

/**
 * Label values passed to `with()` do not match the label names declared for the metric
 * (`E_METRICS_LABELS`).
 *
 * @example
 * registry.histogram('latency', { labels: ['route'] }).with({ path: '/' }) // throws LabelError
 */
export class LabelError extends MetricsError {
  /** The metric name. */
  readonly metric: string
  constructor(metric: string, message: string) {
    super('E_METRICS_LABELS', `Metric \`${metric}\`: ${message}`)
    this.metric = metric
  }
}

/**
 * An encoded histogram could not be decoded or does not fit the target histogram
 * (`E_METRICS_DECODE`).
 *
 * @example
 * await histogram.merge('not base64') // rejects with HistogramDecodeError
 */
export class HistogramDecodeError extends MetricsError {
  constructor(message: string, options: HotpathErrorOptions = {}) {
    super('E_METRICS_DECODE', message, options)
  }
}

/**
 * `heapSnapshot()` refused to run because a snapshot needs about as much free memory as the heap
 * itself (`E_METRICS_LOW_MEMORY`).
 *
 * @example
 * try { await heapSnapshot() } catch (err) { if (err instanceof LowMemoryError) skip() }
 */
export class LowMemoryError extends MetricsError {
  /** Free system memory, in bytes. */
  readonly freeBytes: number
  /** Heap in use, in bytes. */
  readonly heapUsedBytes: number
  constructor(freeBytes: number, heapUsedBytes: number) {
    super(
      'E_METRICS_LOW_MEMORY',
      `Refusing to write a heap snapshot: ${Math.round(freeBytes / 1048576)} MiB free is less than twice ` +
        `the ${Math.round(heapUsedBytes / 1048576)} MiB heap in use. Free memory or use heapProfile() instead.`,
    )
    this.freeBytes = freeBytes
    this.heapUsedBytes = heapUsedBytes
  }
}

/**
 * A profiler is already running in this process (`E_METRICS_PROFILER_BUSY`): CPU profiles and heap
 * sampling are process-wide, one at a time.
 *
 * @example
 * await Promise.all([cpuProfile({ duration: '1s' }), cpuProfile({ duration: '1s' })]) // second rejects
 */
export class ProfilerBusyError extends MetricsError {
  constructor(kind: string) {
    super(
      'E_METRICS_PROFILER_BUSY',
      `A ${kind} is already running; wait for it to finish before starting another.`,
    )
  }
}

/**
 * `@hotpath/metrics` error classes by name.
 *
 * @example
 * if (err instanceof errors.LowMemoryError) console.warn(err.message)
 */
export const errors = {
  MetricsError,
  MetricConflictError,
  LabelError,
  HistogramDecodeError,
  LowMemoryError,
  ProfilerBusyError,
} as const
