import {
  invalidOption,
  type MetricsDescriptor,
  type MetricsKind,
  type MetricsSource,
  metricsSource,
} from '@hotpath/core'
import { subscribeChannels } from './collect-channels'
import { TABLE } from './collect-table'
import type { Registry } from './registry'

/**
 * What `collect()` accepts: an object implementing `metricsSource` from @hotpath/core, as every
 * hotpath primitive with stats does.
 *
 * @example
 * const depth: StatsSource = {
 *   [metricsSource]: () => ({ kind: 'other', stats: () => ({ name: 'jobs', depth: jobs.length }) }),
 * }
 * collect(registry, depth)
 */
export type StatsSource = MetricsSource

/**
 * A running collector.
 *
 * @example
 * const collector: Collector = collect(registry, cache)
 * collector.add(pool)
 */
export interface Collector {
  /** Adds more sources to poll. */
  add(...sources: StatsSource[]): void
  /** Unsubscribes from every channel and stops polling. */
  stop(): void
  /** Same as `stop()`, for `using`. */
  [Symbol.dispose](): void
}

/**
 * The kind a source declares through `metricsSource` (see `MetricsKind` in @hotpath/core).
 *
 * @example
 * const kind: SourceKind = sourceKind(cache) // 'cache'
 */
export type SourceKind = MetricsKind

type Stats = Record<string, unknown>
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
const KINDS = new Set<string>([...Object.keys(TABLE), 'other'])
const EXPECTED = 'objects implementing [metricsSource] from @hotpath/core (hotpath primitives do)'

/** Reads a source's descriptor, or throws the project's TypeError when it has none or a bad one. */
function describe(source: unknown): MetricsDescriptor {
  const method =
    source !== null && typeof source === 'object'
      ? (source as Partial<MetricsSource>)[metricsSource]
      : undefined
  if (typeof method !== 'function') throw invalidOption('sources', EXPECTED, source)
  const descriptor = method.call(source) as Partial<MetricsDescriptor> | null
  if (
    descriptor === null ||
    typeof descriptor !== 'object' ||
    !KINDS.has(descriptor.kind as string) ||
    typeof descriptor.stats !== 'function'
  ) {
    throw invalidOption('sources', `${EXPECTED}, returning { kind, stats() }`, source)
  }
  return descriptor as MetricsDescriptor
}

/**
 * The kind a source declares through `metricsSource`.
 *
 * @example
 * sourceKind(pool) // 'pool'
 */
export function sourceKind(source: StatsSource): SourceKind {
  return describe(source).kind
}

/**
 * Turns hotpath primitives into metrics: subscribes to the `hotpath:*` diagnostics channels, and
 * reads the stats of every source before each snapshot or scrape. A source declares what it is
 * through `metricsSource` from @hotpath/core; no other hotpath package has to be installed. Metric
 * names are listed in docs/metrics.md ("Collected metrics").
 *
 * @example
 * const collector = collect(registry, cache, pool, semaphore)
 * collector.add(limiter)
 * // on shutdown
 * collector.stop()
 */
export function collect(registry: Registry, ...sources: StatsSource[]): Collector {
  const described = sources.map(describe)
  const polled: Array<{ descriptor: MetricsDescriptor; fallback: string }> = []
  const series = new Map<string, (label: string, value: number) => void>()
  const metric = (type: 'gauge' | 'counter', name: string, help: string, unit: string) => {
    let set = series.get(name)
    if (!set) {
      if (type === 'gauge') {
        const gauge = registry.gauge(name, { help, labels: ['name'], unit })
        set = (label, value) => gauge.with({ name: label }).set(value)
      } else {
        const counter = registry.counter(name, { help, labels: ['name'] })
        set = (label, value) => {
          counter.with({ name: label }).value = value
        }
      }
      series.set(name, set)
    }
    return set
  }

  const pollOne = (kind: MetricsKind, s: Stats, label: string) => {
    if (kind === 'other') {
      for (const [field, value] of Object.entries(s)) {
        const v = num(value)
        if (v === undefined) continue
        const stat = registry.gauge('hotpath_stat', {
          help: 'Numeric stats of sources of kind other.',
          labels: ['name', 'field'],
        })
        stat.with({ name: label, field }).set(v)
      }
      return
    }
    for (const row of TABLE[kind]) {
      const v = num(row.read(s))
      if (v !== undefined) metric(row.type, row.name, row.help, row.unit)(label, v)
    }
  }

  const poll = () => {
    for (const { descriptor, fallback } of polled) {
      let s: Stats
      try {
        s = descriptor.stats() as Stats
      } catch {
        continue
      }
      if (s === null || typeof s !== 'object') continue
      const label = typeof s.name === 'string' && s.name ? s.name : fallback
      pollOne(descriptor.kind, s, label)
    }
  }

  const unsubscribers = subscribeChannels(registry)
  const off = registry.beforeRead(poll)
  unsubscribers.push(off)
  let n = 0
  const push = (descriptors: MetricsDescriptor[]) => {
    for (const descriptor of descriptors) polled.push({ descriptor, fallback: `source${n++}` })
  }
  push(described)
  const add = (...more: StatsSource[]) => push(more.map(describe))
  let stopped = false
  return {
    add,
    stop() {
      if (stopped) return
      stopped = true
      for (const unsubscribe of unsubscribers) unsubscribe()
      unsubscribers.length = 0
    },
    [Symbol.dispose]() {
      this.stop()
    },
  }
}
