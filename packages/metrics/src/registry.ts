import {
  checkInteger,
  checkKnownOptions,
  checkOptionsObject,
  checkString,
  getClock,
  invalidOption,
  parseDuration,
  schedule,
  type TimerHandle,
} from '@hotpath/core'
import { type Collector, collect, type StatsSource } from './collect'
import { Counter } from './counter'
import { MetricConflictError } from './errors'
import { Gauge } from './gauge'
import { type HdrCounts, HdrLayout, scratchFor } from './hdr'
import { Histogram, statsOf, type View } from './histogram'
import { checkLabelNames, checkMetricName } from './labels'
import type { MetricType } from './metric'
import {
  exportedName,
  PROMETHEUS_OPTIONS,
  type PrometheusOptions,
  renderPrometheus,
  renderPrometheusAsync,
} from './prometheus'
import {
  type AnyMetric,
  checkBuckets,
  type HistogramOptions,
  type MetricOptions,
  type MetricSnapshot,
  numberOption,
  type RegistryOptions,
  type RegistrySnapshot,
  type SeriesSnapshot,
} from './registry-options'
import { unitInfo } from './units'

type Listener = (metric: AnyMetric) => void

const METRIC_OPTIONS = ['help', 'labels', 'maxSeries', 'unit']
const HISTOGRAM_OPTIONS = [...METRIC_OPTIONS, 'lowest', 'highest', 'significantDigits', 'buckets']

/**
 * A set of metrics with one exposition, one snapshot and one interval clock.
 *
 * @example
 * const registry = createRegistry({ interval: '1m' })
 * const latency = registry.histogram('http_request_duration', { unit: 'ms', labels: ['route'] })
 * latency.with({ route: '/chat' }).record(12.3)
 * registry.snapshot({ view: 'interval' })
 */
export class Registry {
  /** Default series limit per metric. */
  readonly maxSeries: number
  /** Prefix added to exported names. */
  readonly prefix: string
  /** Interval length in ms, or 0 when rollovers are manual. */
  readonly interval: number
  readonly #metrics = new Map<string, AnyMetric>()
  /** Exported family name → metric name. */
  readonly #exported = new Map<string, string>()
  readonly #listeners = new Set<Listener>()
  readonly #collectors = new Set<() => void>()
  readonly #owned = new Set<{ stop(): void }>()
  #timer: TimerHandle | undefined
  #intervalStarted: number
  #lastIntervalMs: number | null = null
  #closed = false

  constructor(options: RegistryOptions = {}) {
    const raw = checkOptionsObject('options', options)
    checkKnownOptions('new Registry()', raw, ['maxSeries', 'interval', 'prefix'])
    this.maxSeries = checkInteger('maxSeries', raw.maxSeries ?? 2000, { min: 1, max: 1_000_000 })
    // 'app_' and 'app' give the same names: the prefix is joined with exactly one underscore.
    this.prefix =
      raw.prefix === undefined || raw.prefix === '' ? '' : checkMetricName(raw.prefix).replace(/_+$/, '')
    this.interval =
      raw.interval === undefined || raw.interval === false ? 0 : parseDuration(raw.interval, 'interval')
    if (raw.interval !== undefined && raw.interval !== false && this.interval <= 0) {
      throw invalidOption('interval', 'a duration > 0 or false', raw.interval)
    }
    this.#intervalStarted = getClock().monotonic()
    if (this.interval > 0) this.#arm()
  }

  #arm(): void {
    this.#timer = schedule(() => {
      this.rollover()
      if (!this.#closed) this.#arm()
    }, this.interval).unref()
  }

  /**
   * Registers (or returns the identical, already registered) counter.
   *
   * @example
   * const errors = registry.counter('errors', { labels: ['kind'] })
   */
  counter<L extends string = never>(name: string, options: MetricOptions<L> = {}): Counter<L> {
    const o = this.#common(name, options, '', METRIC_OPTIONS)
    return this.#register(
      o.name,
      'counter',
      o.unit,
      o.labels,
      () => new Counter<L>(o.name, o.help, o.unit, o.labels, o.maxSeries),
    ) as Counter<L>
  }

  /**
   * Registers (or returns the identical, already registered) gauge.
   *
   * @example
   * const inFlight = registry.gauge('in_flight_requests')
   */
  gauge<L extends string = never>(name: string, options: MetricOptions<L> = {}): Gauge<L> {
    const o = this.#common(name, options, '', METRIC_OPTIONS)
    return this.#register(
      o.name,
      'gauge',
      o.unit,
      o.labels,
      () => new Gauge<L>(o.name, o.help, o.unit, o.labels, o.maxSeries),
    ) as Gauge<L>
  }

  /**
   * Registers (or returns the identical, already registered) HDR histogram.
   *
   * @example
   * const latency = registry.histogram('db_query_duration', { unit: 'ms', labels: ['query'] })
   */
  histogram<L extends string = never>(name: string, options: HistogramOptions<L> = {}): Histogram<L> {
    const o = this.#common(name, options, 'ms', HISTOGRAM_OPTIONS)
    const info = unitInfo(o.unit)
    const lowest = numberOption('lowest', options.lowest ?? info.lowest, 0)
    const highest = numberOption('highest', options.highest ?? info.highest, lowest * 2)
    const digits = checkInteger('significantDigits', options.significantDigits ?? 2, { min: 1, max: 5 })
    if (highest / lowest > 2 ** 52)
      throw invalidOption('highest', `at most 2^52 × lowest (${lowest})`, highest)
    const buckets = checkBuckets(options.buckets ?? info.buckets)
    return this.#register(o.name, 'histogram', o.unit, o.labels, () => {
      const layout = new HdrLayout(lowest, highest, digits)
      return new Histogram<L>(o.name, o.help, o.unit, o.labels, o.maxSeries, layout, buckets, info.fromMs)
    }) as Histogram<L>
  }

  #common(name: string, options: MetricOptions<string>, defaultUnit: string, known: readonly string[]) {
    checkKnownOptions(`the options of metric '${name}'`, checkOptionsObject('options', options), known)
    return {
      name: checkMetricName(name),
      help: options.help === undefined ? '' : checkString('help', options.help, { allowEmpty: true }),
      unit:
        options.unit === undefined ? defaultUnit : checkString('unit', options.unit, { allowEmpty: true }),
      labels: checkLabelNames(options.labels),
      maxSeries: checkInteger('maxSeries', options.maxSeries ?? this.maxSeries, { min: 1, max: 1_000_000 }),
    }
  }

  #register(
    name: string,
    type: MetricType,
    unit: string,
    labels: readonly string[],
    create: () => AnyMetric,
  ): AnyMetric {
    const existing = this.#metrics.get(name)
    if (existing) {
      if (existing.type !== type) throw new MetricConflictError(name, `as a ${existing.type}`)
      if (existing.unit !== unit) throw new MetricConflictError(name, `with unit '${existing.unit}'`)
      if (existing.labelNames.join(',') !== labels.join(',')) {
        throw new MetricConflictError(name, `with labels [${existing.labelNames.join(', ')}]`)
      }
      return existing
    }
    const metric = create()
    // Names that differ only in how they spell the unit (`x_ms`, `x_us`) export as one family.
    const exported = exportedName(metric, this.prefix)
    const twin = this.#exported.get(exported)
    if (twin !== undefined)
      throw new MetricConflictError(name, `as \`${twin}\` (both export as \`${exported}\`)`)
    this.#exported.set(exported, name)
    // An unlabeled counter or histogram exists at zero from the start, so scrapes show it (and
    // rate() has its starting point) before the first event; a gauge has no value until set.
    if (type !== 'gauge' && labels.length === 0) metric.with({} as never)
    this.#metrics.set(name, metric)
    for (const listener of this.#listeners) listener(metric)
    return metric
  }

  /**
   * The metric registered under `name`, if any.
   *
   * @example
   * registry.get('http_request_duration')
   */
  get(name: string): AnyMetric | undefined {
    return this.#metrics.get(name)
  }

  /**
   * Every registered metric, in registration order.
   *
   * @example
   * for (const metric of registry.metrics()) console.log(metric.name)
   */
  metrics(): IterableIterator<AnyMetric> {
    return this.#metrics.values()
  }

  /**
   * Calls `listener` for every metric registered from now on; returns a function that stops it.
   *
   * @example
   * const off = registry.onMetric((m) => console.log('new metric', m.name))
   */
  onMetric(listener: (metric: AnyMetric) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /**
   * Registers a function run before every snapshot and scrape (to refresh polled gauges); returns a
   * function that removes it.
   *
   * @example
   * const off = registry.beforeRead(() => heap.set(process.memoryUsage().heapUsed))
   */
  beforeRead(collector: () => void): () => void {
    this.#collectors.add(collector)
    return () => {
      this.#collectors.delete(collector)
    }
  }

  /**
   * Collects hotpath primitives into this registry: subscribes to the `hotpath:*` channels and
   * polls each source's `stats()` before every snapshot or scrape (see {@link collect}).
   *
   * @example
   * const collector = registry.collect(cache, pool, semaphore)
   */
  collect(...sources: StatsSource[]): Collector {
    const collector = collect(this, ...sources)
    this.#owned.add(collector)
    return collector
  }

  /** Runs the `beforeRead` collectors (a failing collector does not stop the others). */
  refresh(): void {
    for (const collector of this.#collectors) {
      try {
        collector()
      } catch {
        // A broken source must not break the scrape; its gauges keep their last value.
      }
    }
  }

  /**
   * Closes the open interval of every metric: from now on the interval view shows the interval
   * that just ended. Called by the `interval` timer, or by you.
   *
   * @example
   * registry.rollover()
   * registry.snapshot({ view: 'interval' })
   */
  rollover(): void {
    this.refresh()
    const now = getClock().monotonic()
    this.#lastIntervalMs = now - this.#intervalStarted
    this.#intervalStarted = now
    for (const metric of this.#metrics.values()) metric.rollover()
  }

  /**
   * A JSON-ready snapshot of every metric: counters and gauges as `value`, histograms as count, sum,
   * min, max, mean and p50/p90/p95/p99/p999.
   *
   * @example
   * const { metrics } = registry.snapshot({ view: 'interval' })
   */
  snapshot(options: { view?: View } = {}): RegistrySnapshot {
    const view = options.view ?? 'cumulative'
    if (view !== 'cumulative' && view !== 'interval')
      throw invalidOption('view', "'cumulative' or 'interval'", view)
    this.refresh()
    const metrics: MetricSnapshot[] = []
    const scratch = new Map<HdrLayout, HdrCounts>()
    for (const metric of this.#metrics.values()) {
      const series: SeriesSnapshot[] = []
      if (metric.type === 'histogram') {
        const counts = scratchFor(scratch, metric.layout)
        for (const s of metric.series())
          series.push({ labels: { ...s.labels }, ...statsOf(s.read(view, counts)) })
      } else if (metric.type === 'counter') {
        for (const s of metric.series())
          series.push({ labels: { ...s.labels }, value: view === 'interval' ? s.intervalValue : s.value })
      } else {
        for (const s of metric.series()) series.push({ labels: { ...s.labels }, value: s.value })
      }
      metrics.push({ name: metric.name, type: metric.type, help: metric.help, unit: metric.unit, series })
    }
    return {
      timestamp: getClock().now(),
      view,
      intervalMs: view === 'interval' ? this.#lastIntervalMs : null,
      metrics,
    }
  }

  /**
   * The Prometheus text exposition (format 0.0.4) of every metric.
   *
   * @example
   * res.setHeader('content-type', PROMETHEUS_CONTENT_TYPE).end(registry.prometheus())
   */
  prometheus(options: PrometheusOptions = {}): string {
    checkKnownOptions('prometheus()', checkOptionsObject('options', options), PROMETHEUS_OPTIONS)
    this.refresh()
    return renderPrometheus(this, options)
  }

  /**
   * The same exposition as `prometheus()`, rendered in chunks of 100 series with a yield to the
   * event loop between chunks, so a scrape of thousands of series never stalls other work for
   * long. `prometheusHandler` uses it.
   *
   * @example
   * const text = await registry.prometheusAsync()
   */
  async prometheusAsync(options: PrometheusOptions = {}): Promise<string> {
    checkKnownOptions('prometheusAsync()', checkOptionsObject('options', options), PROMETHEUS_OPTIONS)
    this.refresh()
    return renderPrometheusAsync(this, options)
  }

  /**
   * Series counts and overflow figures.
   *
   * @example
   * registry.stats() // { metrics: 12, series: 340, refused: 0, overflowed: [] }
   */
  stats(): { metrics: number; series: number; refused: number; overflowed: string[] } {
    let series = 0
    let refused = 0
    const overflowed: string[] = []
    for (const metric of this.#metrics.values()) {
      series += metric.size
      refused += metric.refused
      if (metric.refused > 0) overflowed.push(metric.name)
    }
    return { metrics: this.#metrics.size, series, refused, overflowed }
  }

  /**
   * Stops the interval timer and every collector started with `registry.collect()`.
   *
   * @example
   * await registry.close()
   */
  async close(): Promise<void> {
    this.#closed = true
    this.#timer?.cancel()
    this.#timer = undefined
    for (const owned of this.#owned) owned.stop()
    this.#owned.clear()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/**
 * Creates a metrics registry.
 *
 * @example
 * const registry = createRegistry({ maxSeries: 1_000, interval: '1m' })
 */
export function createRegistry(options: RegistryOptions = {}): Registry {
  return new Registry(options)
}
