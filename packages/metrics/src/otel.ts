import { checkKnownOptions, checkOptionsObject, invalidOption } from '@hotpath/core'
import type {
  Attributes,
  BatchObservableCallback,
  BatchObservableResult,
  Meter,
  Observable,
} from '@opentelemetry/api'
import { type HdrCounts, type HdrLayout, scratchFor } from './hdr'
import type { View } from './histogram'
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
 * `<name>_count` and `<name>_sum` ObservableCounters plus a `<name>_quantile` ObservableGauge.
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
