import { checkFunction, checkOneOf } from './options'

/**
 * The well-known symbol a primitive implements to be collected by `@hotpath/metrics`. It comes
 * from the global symbol registry, so two copies of `@hotpath/core` in one install still agree.
 *
 * @example
 * const queue = {
 *   stats: () => ({ name: 'jobs', depth: items.length }),
 *   [metricsSource]: () => ({ kind: 'other', stats: () => queue.stats() }),
 * }
 * registry.collect(queue)
 */
export const metricsSource: unique symbol = Symbol.for('hotpath.metrics')

/**
 * What a collectable primitive is: picks the metric names `collect()` maps its stats to
 * (docs/metrics.md, "Collected metrics"). `'other'` exports every finite number of its stats as
 * `hotpath_stat{name, field}`.
 *
 * @example
 * const kind: MetricsKind = 'semaphore'
 */
export type MetricsKind =
  | 'cache'
  | 'pool'
  | 'worker-pool'
  | 'semaphore'
  | 'adaptive-limiter'
  | 'rate-limiter'
  | 'queue'
  | 'batcher'
  | 'poller'
  | 'other'

const METRICS_KINDS: readonly MetricsKind[] = [
  'cache',
  'pool',
  'worker-pool',
  'semaphore',
  'adaptive-limiter',
  'rate-limiter',
  'queue',
  'batcher',
  'poller',
  'other',
]

/**
 * What `[metricsSource]()` returns: the kind, and a reader called before each snapshot or scrape.
 * A string `name` in the stats labels the series.
 *
 * @example
 * const descriptor: MetricsDescriptor = { kind: 'pool', stats: () => pool.stats() }
 */
export interface MetricsDescriptor {
  /** What the source is; picks the metric names. */
  readonly kind: MetricsKind
  /** Reads the current stats (a plain object; a string `name` labels the series). */
  stats(): object
}

/**
 * An object `collect()` accepts: it describes its own metrics through `metricsSource`.
 *
 * @example
 * const source: MetricsSource = { [metricsSource]: () => ({ kind: 'other', stats: () => ({ depth: 3 }) }) }
 */
export interface MetricsSource {
  /** Describes the source's metrics. */
  [metricsSource](): MetricsDescriptor
}

/**
 * Builds the `[metricsSource]` method of a primitive from its kind and stats reader.
 *
 * @example
 * class Queue {
 *   readonly [metricsSource] = describeMetrics('queue', () => this.stats())
 * }
 */
export function describeMetrics(kind: MetricsKind, stats: () => object): () => MetricsDescriptor {
  checkOneOf('kind', kind, METRICS_KINDS)
  checkFunction('stats', stats)
  const descriptor: MetricsDescriptor = { kind, stats }
  return () => descriptor
}
