import { checkKnownOptions, checkOptionsObject, checkString, invalidOption } from '@hotpath/core'
import type {
  Attributes,
  BatchObservableCallback,
  BatchObservableResult,
  HrTime,
  Meter,
  Observable,
  ValueType,
} from '@opentelemetry/api'
import type {
  AggregationTemporality,
  CollectionResult,
  DataPoint,
  DataPointType,
  MetricData,
  MetricProducer,
  Histogram as OtelHistogram,
} from '@opentelemetry/sdk-metrics'
import { type HdrCounts, type HdrLayout, scratchFor } from './hdr'
import type { View } from './histogram'
import { nameParts } from './prometheus'
import type { Registry } from './registry'
import type { AnyMetric } from './registry-options'

/**
 * Options of {@link otelBridge}.
 *
 * @example
 * const meter = metrics.getMeter('api')
 * otelBridge(registry, { meter, quantiles: [0.5, 0.99], quantileView: 'cumulative' })
 */
export interface OtelBridgeOptions {
  /**
   * Meter the observable instruments are created on, e.g. `metrics.getMeter('api')` from
   * `@opentelemetry/api` (this package never loads `@opentelemetry/api` itself).
   * @default required
   */
  meter: Meter
  /**
   * Quantiles reported for each histogram, as `<name>_quantile` with a `quantile` attribute.
   * @default [0.5, 0.9, 0.95, 0.99, 0.999]
   */
  quantiles?: readonly number[]
  /**
   * View the histogram quantiles cover (counts and sums are always cumulative).
   * @default 'interval' when the registry has an `interval`, else 'cumulative'
   */
  quantileView?: View
}

/**
 * A running bridge; `close()` removes its callbacks from the meter.
 *
 * @example
 * const bridge = otelBridge(registry, { meter: metrics.getMeter('api') })
 * bridge.close()
 */
export interface OtelBridge {
  /** Stops feeding the meter. */
  close(): void
}

type Feed = (result: BatchObservableResult, scratch: Map<HdrLayout, HdrCounts>) => void

/**
 * Feeds an OpenTelemetry meter from a registry through observable instruments, read at each OTel
 * collection: counters → ObservableCounter, gauges → ObservableGauge, histograms →
 * `<name>_count` and `<name>_sum` ObservableCounters plus a `<name>_quantile` ObservableGauge
 * (the OTel API has no asynchronous histogram; {@link otelProducer} exports real histograms).
 * Metrics registered later are picked up. Lives in `@hotpath/metrics/otel`; it uses only the
 * types of `@opentelemetry/api` and the meter you pass, so nothing of OpenTelemetry is loaded by us.
 *
 * @example
 * import { otelBridge } from '@hotpath/metrics/otel'
 * import { metrics } from '@opentelemetry/api'
 * const bridge = otelBridge(registry, { meter: metrics.getMeter('api') })
 * // later
 * bridge.close()
 */
export function otelBridge(registry: Registry, options: OtelBridgeOptions): OtelBridge {
  checkKnownOptions('otelBridge()', checkOptionsObject('options', options), [
    'meter',
    'quantiles',
    'quantileView',
  ])
  const meter = options.meter
  if (meter === null || typeof meter !== 'object' || typeof meter.addBatchObservableCallback !== 'function') {
    throw invalidOption('meter', 'an OpenTelemetry Meter', meter)
  }
  const quantiles = options.quantiles ?? [0.5, 0.9, 0.95, 0.99, 0.999]
  for (const q of quantiles) {
    if (typeof q !== 'number' || !(q >= 0 && q <= 1))
      throw invalidOption('quantiles', 'numbers between 0 and 1', q)
  }
  const percentiles = quantiles.map((q) => q * 100)
  const quantileView = options.quantileView ?? (registry.interval > 0 ? 'interval' : 'cumulative')
  const prefix = registry.prefix ? `${registry.prefix}_` : ''
  const observables: Observable[] = []
  const feeds: Feed[] = []
  const values: number[] = []

  const add = (metric: AnyMetric) => {
    const name = prefix + metric.name
    const description = metric.help || undefined
    const unit = metric.unit || undefined
    if (metric.type === 'counter') {
      const counter = meter.createObservableCounter(name, { description, unit })
      observables.push(counter)
      feeds.push((result) => {
        for (const s of metric.series()) result.observe(counter, s.value, s.labels as Attributes)
      })
    } else if (metric.type === 'gauge') {
      const gauge = meter.createObservableGauge(name, { description, unit })
      observables.push(gauge)
      feeds.push((result) => {
        for (const s of metric.series()) result.observe(gauge, s.value, s.labels as Attributes)
      })
    } else {
      const count = meter.createObservableCounter(`${name}_count`, { description })
      const sum = meter.createObservableCounter(`${name}_sum`, { description, unit })
      const quantile = meter.createObservableGauge(`${name}_quantile`, { description, unit })
      observables.push(count, sum, quantile)
      feeds.push((result, scratch) => {
        const counts = scratchFor(scratch, metric.layout)
        for (const s of metric.series()) {
          const labels = s.labels as Attributes
          const c = s.read('cumulative', counts)
          result.observe(count, c.count, labels)
          result.observe(sum, c.sum, labels)
          const q = quantileView === 'cumulative' ? c : s.read('interval', counts)
          q.percentiles(percentiles, values)
          for (let i = 0; i < quantiles.length; i++) {
            result.observe(quantile, values[i]!, { ...labels, quantile: String(quantiles[i]) })
          }
        }
      })
    }
  }

  const callback: BatchObservableCallback = (result) => {
    registry.refresh()
    const scratch = new Map<HdrLayout, HdrCounts>()
    for (const feed of feeds) feed(result, scratch)
  }

  let registered: Observable[] = []
  const sync = () => {
    if (registered.length) meter.removeBatchObservableCallback(callback, registered)
    registered = [...observables]
    meter.addBatchObservableCallback(callback, registered)
  }

  for (const metric of registry.metrics()) add(metric)
  sync()
  let closed = false
  const off = registry.onMetric((metric) => {
    add(metric)
    sync()
  })
  return {
    close() {
      if (closed) return
      closed = true
      off()
      meter.removeBatchObservableCallback(callback, registered)
    },
  }
}

/**
 * Options of {@link otelProducer}.
 *
 * @example
 * otelProducer(registry, { scope: 'api', baseUnits: true })
 */
export interface OtelProducerOptions {
  /**
   * Instrumentation scope name the metrics are reported under.
   * @default '@hotpath/metrics'
   */
  scope?: string
  /**
   * Export time units in seconds (unit `s`) and sizes in bytes (`By`), values converted, as the
   * OpenTelemetry semantic conventions expect; `false` exports the recorded unit and values.
   * @default true
   */
  baseUnits?: boolean
}

const CUMULATIVE = 1 as AggregationTemporality.CUMULATIVE
const HISTOGRAM = 0 as DataPointType.HISTOGRAM
const GAUGE = 2 as DataPointType.GAUGE
const SUM = 3 as DataPointType.SUM
const DOUBLE = 1 as ValueType.DOUBLE

/** A resource with no attributes: a MeterProvider's reader reports its own resource instead. */
const EMPTY_RESOURCE: CollectionResult['resourceMetrics']['resource'] = Object.freeze({
  attributes: {},
  merge: (other: CollectionResult['resourceMetrics']['resource'] | null) => other ?? EMPTY_RESOURCE,
  getRawAttributes: () => [],
})

const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)]

/**
 * An OpenTelemetry `MetricProducer` exporting a registry as OTel data: counters as monotonic
 * cumulative sums, gauges as gauges, histograms as cumulative explicit-bucket HISTOGRAM points
 * (the histogram's `buckets` as boundaries, counts read from the HDR counts, exact sum, count,
 * min and max). Give it to a MetricReader's `metricProducers`; every collection of that reader
 * (periodic export or Prometheus scrape) reads the registry. Start time of every point: when the
 * producer was created. Nothing of OpenTelemetry is loaded by it; `@opentelemetry/sdk-metrics`
 * is needed only for its types.
 *
 * @example
 * import { otelProducer } from '@hotpath/metrics/otel'
 * import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
 * const reader = new PeriodicExportingMetricReader({ exporter, metricProducers: [otelProducer(registry)] })
 * const provider = new MeterProvider({ readers: [reader] })
 */
export function otelProducer(registry: Registry, options: OtelProducerOptions = {}): MetricProducer {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('otelProducer()', raw, ['scope', 'baseUnits'])
  const scope = Object.freeze({ name: checkString('scope', raw.scope ?? '@hotpath/metrics') })
  if (raw.baseUnits !== undefined && typeof raw.baseUnits !== 'boolean')
    throw invalidOption('baseUnits', 'a boolean', raw.baseUnits)
  const baseUnits = raw.baseUnits ?? true
  const startTime = hrTime(Date.now())
  return {
    async collect(): Promise<CollectionResult> {
      registry.refresh()
      const endTime = hrTime(Date.now())
      const scratch = new Map<HdrLayout, HdrCounts>()
      const metrics: MetricData[] = []
      for (const metric of registry.metrics()) {
        if (metric.size === 0) continue
        const parts = nameParts(metric, registry.prefix, baseUnits)
        const per = parts.perBase
        const descriptor = { name: parts.stem, description: metric.help, unit: parts.ucum, valueType: DOUBLE }
        const point = <T>(labels: Readonly<Record<string, string>>, value: T): DataPoint<T> => ({
          startTime,
          endTime,
          attributes: { ...labels },
          value,
        })
        if (metric.type === 'histogram') {
          const counts = scratchFor(scratch, metric.layout)
          const boundaries = metric.buckets.map((b) => b / per)
          const cumulative: number[] = []
          const dataPoints: DataPoint<OtelHistogram>[] = []
          for (const s of metric.series()) {
            const c = s.read('cumulative', counts)
            c.cumulativeAt(metric.buckets, cumulative)
            const bucketCounts = cumulative.map((n, i) => n - (i === 0 ? 0 : cumulative[i - 1]!))
            bucketCounts.push(c.count - (cumulative[cumulative.length - 1] ?? 0))
            const value: OtelHistogram = {
              buckets: { boundaries, counts: bucketCounts },
              sum: c.sum / per,
              count: c.count,
            }
            if (c.count > 0) {
              value.min = c.min / per
              value.max = c.max / per
            }
            dataPoints.push(point(s.labels, value))
          }
          metrics.push({
            descriptor,
            aggregationTemporality: CUMULATIVE,
            dataPointType: HISTOGRAM,
            dataPoints,
          })
        } else {
          const dataPoints: DataPoint<number>[] = []
          for (const s of metric.series()) dataPoints.push(point(s.labels, s.value / per))
          metrics.push(
            metric.type === 'counter'
              ? {
                  descriptor,
                  aggregationTemporality: CUMULATIVE,
                  dataPointType: SUM,
                  isMonotonic: true,
                  dataPoints,
                }
              : { descriptor, aggregationTemporality: CUMULATIVE, dataPointType: GAUGE, dataPoints },
          )
        }
      }
      return { resourceMetrics: { resource: EMPTY_RESOURCE, scopeMetrics: [{ scope, metrics }] }, errors: [] }
    },
  }
}
