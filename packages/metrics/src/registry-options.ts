import { type Duration, invalidOption } from '@hotpath/core'
import type { Counter } from './counter'
import type { Gauge } from './gauge'
import type { Histogram, HistogramStats, View } from './histogram'
import type { MetricType } from './metric'

/**
 * Options of {@link createRegistry}.
 *
 * @example
 * const registry = createRegistry({ maxSeries: 500, interval: '1m', prefix: 'api' })
 */
export interface RegistryOptions {
  /**
   * Default series limit of each metric (label combinations); beyond it values go to one overflow
   * series and `hotpath:metrics:cardinality` is published once.
   * @default 2000
   */
  maxSeries?: number
  /**
   * Length of the interval view: every `interval` the open interval of each metric is closed
   * (`rollover()`), so `snapshot({ view: 'interval' })` covers exactly the last interval.
   * `false` = only when you call `rollover()`.
   * @default false
   */
  interval?: Duration | false
  /**
   * Prefix added to every metric name in the Prometheus exposition and the OpenTelemetry exports,
   * joined with one underscore (`'app'` and `'app_'` both give `app_jobs_total`).
   * @default ''
   */
  prefix?: string
}

/**
 * Options shared by every metric kind.
 *
 * @example
 * registry.counter('jobs_processed', { help: 'Jobs processed', labels: ['queue'], maxSeries: 100 })
 */
export interface MetricOptions<L extends string> {
  /**
   * Help text shown in the exposition.
   * @default ''
   */
  help?: string
  /**
   * Label names, declared up front; `with()` must give a value for each.
   * @default []
   */
  labels?: readonly L[]
  /**
   * Series limit of this metric.
   * @default the registry's `maxSeries`
   */
  maxSeries?: number
  /**
   * Unit the values are recorded in (`'ms'`, `'s'`, `'us'`, `'ns'`, `'bytes'` or any word); picks
   * the exported unit (time units → seconds, `bytes` → bytes, any other word as it is) and, for
   * histograms, the default range and buckets.
   * @default '' (counters, gauges), 'ms' (histograms)
   */
  unit?: string
}

/**
 * Options of {@link Registry.histogram}.
 *
 * @example
 * registry.histogram('payload_size', { unit: 'bytes', lowest: 1, highest: 1e9, significantDigits: 3 })
 */
export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /**
   * Smallest distinguishable value, in `unit` (HdrHistogram's lowest discernible value). Values are
   * recorded as integers of this size.
   * @default 0.001 for 'ms' (1 µs), 1e-6 for 's', 1 otherwise
   */
  lowest?: number
  /**
   * Highest trackable value, in `unit`; larger values are counted in the last bucket.
   * @default 3,600,000 for 'ms' (1 h), 3,600 for 's', 2^40 otherwise
   */
  highest?: number
  /**
   * Significant decimal digits kept (1 to 5): 2 = percentiles within 1% (0.78% in practice),
   * 3 = within 0.1%. Memory per series grows tenfold per digit (see the README).
   * @default 2
   */
  significantDigits?: number
  /**
   * Upper bounds of the classic Prometheus `le` buckets, computed from the HDR counts at scrape time.
   * @default 0.5, 1, 2.5, 5, ... 10,000 ms (scaled to the unit)
   */
  buckets?: readonly number[]
}

/**
 * One series in a snapshot.
 *
 * @example
 * for (const s of registry.snapshot().metrics[0].series) console.log(s.labels, s.value ?? s.p99)
 */
export interface SeriesSnapshot extends Partial<HistogramStats> {
  labels: Record<string, string>
  /** Counter total (or increase over the interval) and gauge value. */
  value?: number
}

/**
 * One metric in a snapshot.
 *
 * @example
 * const latency = registry.snapshot().metrics.find((m) => m.name === 'http_request_duration')
 * latency?.series.length
 */
export interface MetricSnapshot {
  name: string
  type: MetricType
  help: string
  unit: string
  series: SeriesSnapshot[]
}

/**
 * A JSON-ready snapshot of a registry.
 *
 * @example
 * const snapshot: RegistrySnapshot = registry.snapshot({ view: 'interval' })
 * res.end(JSON.stringify(snapshot))
 */
export interface RegistrySnapshot {
  /** Wall-clock time of the snapshot, ms since the epoch. */
  timestamp: number
  view: View
  /** Length of the interval covered by an interval view, in ms (null for cumulative). */
  intervalMs: number | null
  metrics: MetricSnapshot[]
}

/**
 * Any metric a registry holds.
 *
 * @example
 * const metric: AnyMetric | undefined = registry.get('http_request_duration')
 * metric?.type // 'histogram'
 */
export type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>

/** A finite number above `exclusiveMin`, or the standard option TypeError. */
export function numberOption(name: string, value: unknown, exclusiveMin: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= exclusiveMin) {
    throw invalidOption(name, `a finite number > ${exclusiveMin}`, value)
  }
  return value
}

/** Histogram bucket bounds: 1 to 100 ascending finite numbers, frozen. */
export function checkBuckets(value: unknown): readonly number[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 100) {
    throw invalidOption('buckets', 'an array of 1 to 100 ascending finite numbers', value)
  }
  for (let i = 0; i < value.length; i++) {
    const b = value[i]
    if (typeof b !== 'number' || !Number.isFinite(b) || (i > 0 && b <= value[i - 1])) {
      throw invalidOption('buckets', 'an array of 1 to 100 ascending finite numbers', value)
    }
  }
  return Object.freeze([...value])
}
