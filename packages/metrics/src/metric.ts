import { eventChannel } from '@hotpath/core'
import { LabelError } from './errors'
import { type LabelValues, renderLabels } from './labels'

/**
 * Message published once per metric on `hotpath:metrics:cardinality` when it reaches its limit.
 *
 * @example
 * diagnostics_channel.subscribe('hotpath:metrics:cardinality', (message) => {
 *   const { metric, limit } = message as CardinalityWarning
 * })
 */
export interface CardinalityWarning {
  /** The metric name. */
  metric: string
  /** The series limit that was reached. */
  limit: number
  /** The label values that were refused (recorded into the overflow series instead). */
  labels: Record<string, string>
}

/**
 * Label value given to every label of the overflow series.
 *
 * @example
 * [...histogram.series()].find((s) => s.labels.route === OVERFLOW_LABEL_VALUE)
 */
export const OVERFLOW_LABEL_VALUE = '__overflow__'

let cardinalityChannel: ReturnType<typeof eventChannel<CardinalityWarning>> | undefined

/** Fields shared by every series (one label combination of a metric). */
export interface SeriesBase {
  /** The label values of this series. */
  readonly labels: Readonly<Record<string, string>>
  /** Labels pre-rendered for the Prometheus text format (`route="/chat"`), '' when none. */
  readonly rendered: string
  /** True for the series that collects values beyond the cardinality limit. */
  readonly overflow: boolean
}

/**
 * The kinds of metric a registry holds.
 *
 * @example
 * const histograms = registry.snapshot().metrics.filter((m) => m.type === 'histogram')
 */
export type MetricType = 'counter' | 'gauge' | 'histogram'

/** Common definition fields of a metric. */
export interface MetricDefinition {
  readonly name: string
  readonly type: MetricType
  readonly help: string
  readonly unit: string
  readonly labelNames: readonly string[]
  readonly maxSeries: number
}

/**
 * Holds the series of one metric, keyed by label values, bounded by `maxSeries`: beyond the
 * limit every new label combination goes to a single overflow series.
 */
export abstract class Metric<L extends string, S extends SeriesBase> implements MetricDefinition {
  abstract readonly type: MetricType
  readonly name: string
  readonly help: string
  readonly unit: string
  readonly labelNames: readonly string[]
  readonly maxSeries: number
  readonly #series = new Map<string, S>()
  /** Raw label values → series, nested in declared label order (see `#remember`). */
  #index = new Map<unknown, unknown>()
  #overflow: S | undefined
  #refused = 0

  constructor(name: string, help: string, unit: string, labelNames: readonly string[], maxSeries: number) {
    this.name = name
    this.help = help
    this.unit = unit
    this.labelNames = labelNames
    this.maxSeries = maxSeries
  }

  /** Creates the series object for one label combination. */
  protected abstract createSeries(labels: Readonly<Record<string, string>>, overflow: boolean): S

  /**
   * Returns the pre-bound series for `labels` (created on first use). Keep the handle: recording
   * through it allocates nothing.
   *
   * @example
   * const chat = latency.with({ route: '/chat' })
   * chat.record(12.3)
   */
  with(labels: LabelValues<L>): S {
    const names = this.labelNames
    const last = names.length - 1
    const values = labels as Record<string, unknown>
    if (values == null) return this.#lookup(values)
    let node = this.#index
    for (let i = 0; i < last; i++) {
      const next = node.get(values[names[i]!]) as Map<unknown, unknown> | undefined
      if (next === undefined) return this.#lookup(values)
      node = next
    }
    const hit = node.get(last < 0 ? '' : values[names[last]!]) as S | undefined
    return hit ?? this.#lookup(values)
  }

  /** Slow path of `with()`: canonical key, creation, then a shortcut by raw values for next time. */
  #lookup(values: Record<string, unknown>): S {
    if (values === null || typeof values !== 'object') {
      throw new LabelError(this.name, `expected an object of label values, got ${String(values)}.`)
    }
    const names = this.labelNames
    let key = ''
    for (let i = 0; i < names.length; i++) {
      if (i > 0) key += '\u0001'
      key += String(values[names[i]!])
    }
    let series = this.#series.get(key)
    if (!series) {
      series = this.#create(key, values)
      if (series.overflow) return series
    }
    this.#remember(values, series)
    return series
  }

  /** Indexes `series` by the raw label values (primitives only, so the index stays bounded). */
  #remember(values: Record<string, unknown>, series: S): void {
    const names = this.labelNames
    for (const name of names) {
      const t = typeof values[name]
      if (t !== 'string' && t !== 'number' && t !== 'boolean') return
    }
    let node = this.#index
    for (let i = 0; i < names.length - 1; i++) {
      const value = values[names[i]!]
      let next = node.get(value) as Map<unknown, unknown> | undefined
      if (!next) {
        next = new Map()
        node.set(value, next)
      }
      node = next
    }
    node.set(names.length === 0 ? '' : values[names[names.length - 1]!], series)
  }

  /** The series of a metric declared without labels. */
  protected unlabeled(): S {
    if (this.labelNames.length > 0) {
      throw new LabelError(
        this.name,
        `declares labels [${this.labelNames.join(', ')}]; record through .with({ ... }).`,
      )
    }
    return this.with({} as LabelValues<L>)
  }

  #create(key: string, values: Record<string, unknown>): S {
    const labels: Record<string, string> = {}
    for (const name of this.labelNames) {
      const value = values[name]
      if (value === undefined || value === null) {
        throw new LabelError(
          this.name,
          `missing label \`${name}\` (declared: ${this.labelNames.join(', ')}).`,
        )
      }
      labels[name] = String(value)
    }
    for (const name of Object.keys(values)) {
      if (!this.labelNames.includes(name)) {
        throw new LabelError(
          this.name,
          `unknown label \`${name}\` (declared: ${this.labelNames.join(', ') || 'none'}).`,
        )
      }
    }
    if (this.#series.size >= this.maxSeries) return this.#overflowSeries(labels)
    const series = this.createSeries(Object.freeze(labels), false)
    this.#series.set(key, series)
    return series
  }

  #overflowSeries(refused: Record<string, string>): S {
    this.#refused++
    if (this.#overflow) return this.#overflow
    const labels: Record<string, string> = {}
    for (const name of this.labelNames) labels[name] = OVERFLOW_LABEL_VALUE
    this.#overflow = this.createSeries(Object.freeze(labels), true)
    cardinalityChannel ??= eventChannel<CardinalityWarning>('hotpath:metrics:cardinality')
    cardinalityChannel.publish({ metric: this.name, limit: this.maxSeries, labels: refused })
    return this.#overflow
  }

  /** Every series, the overflow series last. */
  *series(): IterableIterator<S> {
    yield* this.#series.values()
    if (this.#overflow) yield this.#overflow
  }

  /** Number of series (not counting the overflow series). */
  get size(): number {
    return this.#series.size
  }

  /** Label combinations refused because the limit was reached (they went to the overflow series). */
  get refused(): number {
    return this.#refused
  }

  /** Drops every series (pre-bound handles keep working but are no longer exported). */
  clear(): void {
    this.#series.clear()
    this.#index = new Map()
    this.#overflow = undefined
  }

  /** Closes the current interval of every series. */
  abstract rollover(): void
}

export { renderLabels }
