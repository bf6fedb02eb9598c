import type { IntervalHistogram, PerformanceObserver } from 'node:perf_hooks'
import {
  checkBoolean,
  checkInteger,
  checkKnownOptions,
  checkOptionsObject,
  type Duration,
  getClock,
  parseDuration,
  schedule,
  type TimerHandle,
} from '@hotpath/core'
import type { Registry } from './registry'

/**
 * Options of {@link runtimeMetrics}.
 *
 * @example
 * runtimeMetrics(registry, { interval: '5s', gc: false, unref: true })
 */
export interface RuntimeMetricsOptions {
  /**
   * How often the per-interval figures (event-loop delay, utilization, memory) are sampled.
   * @default '10s'
   */
  interval?: Duration
  /**
   * Sampling resolution of the event-loop delay monitor, in ms; subtracted from every reading.
   * @default 10
   */
  resolution?: number
  /**
   * Let the process exit while the sampler is running.
   * @default true
   */
  unref?: boolean
  /**
   * Observe garbage collections (`PerformanceObserver` 'gc').
   * @default true
   */
  gc?: boolean
}

/**
 * One interval's runtime figures; times in ms, sizes in bytes.
 *
 * @example
 * const { eventLoopDelay, eventLoopUtilization, heapUsed } = runtime.sample()
 */
export interface RuntimeSample {
  /** Interval covered, in ms. */
  intervalMs: number
  eventLoopDelay: { min: number; mean: number; p50: number; p90: number; p99: number; max: number }
  /** Event-loop utilization over the interval (0..1). */
  eventLoopUtilization: number
  heapUsed: number
  heapTotal: number
  rss: number
  external: number
  /** Active libuv handles and requests (`process.getActiveResourcesInfo().length`). */
  activeResources: number
}

/**
 * A running runtime sampler.
 *
 * @example
 * using runtime = runtimeMetrics(registry)
 * runtime.last?.eventLoopDelay.p99
 */
export interface RuntimeMetrics {
  /** The figures of the last completed interval (undefined before the first). */
  readonly last: RuntimeSample | undefined
  /** Samples now (closing the current interval) and returns the figures. */
  sample(): RuntimeSample
  /** Disconnects the delay monitor, the GC observer and the timer. */
  stop(): void
  /** Same as `stop()`, for `using`. */
  [Symbol.dispose](): void
}

// perf_hooks constants: NODE_PERFORMANCE_GC_MINOR = 1, MAJOR = 4, INCREMENTAL = 8, WEAKCB = 16
const NODE_GC_KINDS: Record<number, string> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weakcb' }

/**
 * Samples the Node runtime into `registry` every `interval`:
 * `runtime_event_loop_delay{stat}` (ms, the interval's min/mean/p50/p90/p99/max, monitor
 * resolution subtracted, reset each interval), `runtime_event_loop_utilization` (0..1, the
 * interval's delta), `runtime_gc_duration{kind}` (ms histogram of every GC, kind = minor, major,
 * incremental, weakcb), `runtime_heap_used`, `runtime_heap_total`, `runtime_rss`,
 * `runtime_external` (bytes) and `runtime_active_resources`.
 *
 * @example
 * const runtime = runtimeMetrics(registry, { interval: '10s' })
 * // on shutdown
 * runtime.stop()
 */
export function runtimeMetrics(registry: Registry, options: RuntimeMetricsOptions = {}): RuntimeMetrics {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('runtimeMetrics()', raw, ['interval', 'resolution', 'unref', 'gc'])
  const interval = parseDuration(raw.interval ?? '10s', 'interval')
  const resolution = checkInteger('resolution', raw.resolution ?? 10, { min: 1, max: 1000 })
  const unref = checkBoolean('unref', raw.unref ?? true)
  const observeGc = checkBoolean('gc', raw.gc ?? true)

  const delay = registry.gauge('runtime_event_loop_delay', {
    unit: 'ms',
    labels: ['stat'],
    help: 'Event-loop delay over the last interval, monitor resolution subtracted.',
  })
  const delayStats = {
    min: delay.with({ stat: 'min' }),
    mean: delay.with({ stat: 'mean' }),
    p50: delay.with({ stat: 'p50' }),
    p90: delay.with({ stat: 'p90' }),
    p99: delay.with({ stat: 'p99' }),
    max: delay.with({ stat: 'max' }),
  }
  const utilization = registry.gauge('runtime_event_loop_utilization', {
    help: 'Event-loop utilization over the last interval (0..1).',
  })
  const gcDuration = registry.histogram('runtime_gc_duration', {
    unit: 'ms',
    labels: ['kind'],
    help: 'Garbage collection pauses by kind.',
  })
  const heapUsed = registry.gauge('runtime_heap_used', { unit: 'bytes', help: 'V8 heap in use.' })
  const heapTotal = registry.gauge('runtime_heap_total', { unit: 'bytes', help: 'V8 heap reserved.' })
  const rss = registry.gauge('runtime_rss', { unit: 'bytes', help: 'Resident set size.' })
  const external = registry.gauge('runtime_external', {
    unit: 'bytes',
    help: 'Memory of C++ objects bound to JS.',
  })
  const active = registry.gauge('runtime_active_resources', { help: 'Active libuv handles and requests.' })

  // Loaded on first use, so that importing the package stays cheap.
  const {
    monitorEventLoopDelay,
    PerformanceObserver: Observer,
    performance,
  } = process.getBuiltinModule('node:perf_hooks')
  let monitor: IntervalHistogram | undefined = monitorEventLoopDelay({ resolution })
  monitor.enable()
  let elu = performance.eventLoopUtilization()
  let started = getClock().monotonic()
  let observer: PerformanceObserver | undefined
  if (observeGc) {
    const kinds = new Map<string, ReturnType<typeof gcDuration.with>>()
    observer = new Observer((list) => {
      for (const entry of list.getEntries()) {
        const kindCode = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0
        const kind = NODE_GC_KINDS[kindCode] ?? 'other'
        let series = kinds.get(kind)
        if (!series) {
          series = gcDuration.with({ kind })
          kinds.set(kind, series)
        }
        series.record(entry.duration)
      }
    })
    observer.observe({ entryTypes: ['gc'] })
  }

  let last: RuntimeSample | undefined
  let timer: TimerHandle | undefined
  let stopped = false

  const toMs = (ns: number) => Math.max(0, ns / 1e6 - resolution)

  const sample = (): RuntimeSample => {
    const now = getClock().monotonic()
    const m = monitor
    const hasData = m !== undefined && m.count > 0
    const eventLoopDelay = {
      min: hasData ? toMs(m.min) : 0,
      mean: hasData ? toMs(m.mean) : 0,
      p50: hasData ? toMs(m.percentile(50)) : 0,
      p90: hasData ? toMs(m.percentile(90)) : 0,
      p99: hasData ? toMs(m.percentile(99)) : 0,
      max: hasData ? toMs(m.max) : 0,
    }
    m?.reset()
    const nextElu = performance.eventLoopUtilization()
    const delta = performance.eventLoopUtilization(nextElu, elu)
    elu = nextElu
    const memory = process.memoryUsage()
    const s: RuntimeSample = {
      intervalMs: now - started,
      eventLoopDelay,
      eventLoopUtilization: delta.utilization,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      rss: memory.rss,
      external: memory.external,
      activeResources: process.getActiveResourcesInfo().length,
    }
    started = now
    for (const key of Object.keys(delayStats) as Array<keyof typeof delayStats>) {
      delayStats[key].set(eventLoopDelay[key])
    }
    utilization.set(s.eventLoopUtilization)
    heapUsed.set(s.heapUsed)
    heapTotal.set(s.heapTotal)
    rss.set(s.rss)
    external.set(s.external)
    active.set(s.activeResources)
    last = s
    return s
  }

  const arm = () => {
    timer = schedule(() => {
      if (stopped) return
      sample()
      arm()
    }, interval)
    if (unref) timer.unref()
  }
  arm()

  return {
    get last() {
      return last
    },
    sample,
    stop() {
      if (stopped) return
      stopped = true
      timer?.cancel()
      timer = undefined
      monitor?.disable()
      monitor = undefined
      observer?.disconnect()
      observer = undefined
    },
    [Symbol.dispose]() {
      this.stop()
    },
  }
}
