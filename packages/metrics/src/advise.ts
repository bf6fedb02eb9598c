import { availableParallelism } from 'node:os'
import { checkKnownOptions, checkNumber, checkOptionsObject } from '@hotpath/core'
import { type Advice, type AdviseOptions, DEFAULTS } from './advise-options'
import { linearFit } from './leak-watch'
import type { RegistrySnapshot, SeriesSnapshot } from './registry-options'

export type { Advice, AdviseOptions } from './advise-options'

/** Worker-pool utilization at or above which queued work means the pool is short of threads. */
const WORKERS_BUSY = 0.8
/** Worker-pool utilization below which threads mostly sit idle. */
const WORKERS_IDLE = 0.2

const pct = (v: number) => `${(v * 100).toFixed(1)}%`
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2))
const mib = (v: number) => `${(v / 1048576).toFixed(1)} MiB`

function seriesOf(snapshot: RegistrySnapshot, name: string): SeriesSnapshot[] {
  return snapshot.metrics.find((m) => m.name === name)?.series ?? []
}

function valueAt(
  snapshot: RegistrySnapshot,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const s = seriesOf(snapshot, name).find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))
  return s?.value ?? undefined
}

/**
 * Turns a registry snapshot into tuning recommendations, computed from real figures: cache hit
 * ratio per cache/namespace, pool wait p95 with a Little's-law size, semaphore backlog (growing,
 * when given several snapshots), event-loop delay p99 and utilization, heap growth, HTTP p95 per
 * route, worker pools short of threads or mostly idle (and CPU work left on the main thread while
 * a pool idles), and series limits reached. Pass several snapshots (oldest first) to judge trends; use an
 * interval snapshot (`registry.snapshot({ view: 'interval' })`) for rates.
 *
 * @example
 * const advice = advise(registry.snapshot({ view: 'interval' }))
 * console.log(report(advice))
 */
export function advise(
  input: RegistrySnapshot | readonly RegistrySnapshot[],
  options: AdviseOptions = {},
): Advice[] {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('advise()', raw, Object.keys(DEFAULTS))
  const o = { ...DEFAULTS }
  for (const key of Object.keys(DEFAULTS) as Array<keyof AdviseOptions>) {
    if (raw[key] !== undefined) o[key] = checkNumber(key, raw[key], { min: 0 })
  }
  const history = Array.isArray(input) ? (input as readonly RegistrySnapshot[]) : [input as RegistrySnapshot]
  const snapshot = history[history.length - 1]
  if (!snapshot) return []
  const out: Advice[] = []

  // Caches: hit ratio per cache or namespace.
  for (const s of seriesOf(snapshot, 'hotpath_cache_hit_ratio')) {
    const ratio = s.value ?? 0
    const labels = s.labels
    const reads =
      (valueAt(snapshot, 'hotpath_cache_l1_hits', labels) ?? 0) +
      (valueAt(snapshot, 'hotpath_cache_l2_hits', labels) ?? 0) +
      (valueAt(snapshot, 'hotpath_cache_misses', labels) ?? 0)
    if (ratio < o.cacheHitRatio && reads >= o.minCacheReads) {
      out.push({
        rule: 'cache-hit-rate',
        severity: ratio < o.cacheHitRatio / 2 ? 'critical' : 'warning',
        metric: 'hotpath_cache_hit_ratio',
        labels,
        value: ratio,
        threshold: o.cacheHitRatio,
        message:
          `Cache \`${labels.name}\` hit rate is ${pct(ratio)} over ${reads} reads (below ${pct(o.cacheHitRatio)}): ` +
          'review the cache strategy — TTL per kind of data, warming hot keys, key granularity, L1 size (evictions).',
      })
    }
  }

  // Pools: acquire wait p95, with a Little's-law size when the rate is known.
  for (const s of seriesOf(snapshot, 'hotpath_pool_acquire_wait')) {
    const p95 = s.p95 ?? 0
    if (p95 <= o.poolWaitP95) continue
    const labels = s.labels
    const max = valueAt(snapshot, 'hotpath_pool_max', labels)
    const holdMs = valueAt(snapshot, 'hotpath_pool_hold_time_mean', labels)
    const acquired = valueAt(snapshot, 'hotpath_pool_acquired', labels) ?? s.count ?? 0
    let suggestion: number | undefined
    let sizing = ''
    if (snapshot.intervalMs && holdMs !== undefined && holdMs > 0) {
      const perSecond = acquired / (snapshot.intervalMs / 1000)
      const busy = perSecond * (holdMs / 1000)
      suggestion = Math.max(1, Math.ceil(busy * o.poolHeadroom))
      sizing =
        ` Little's law: ${fmt(perSecond)} acquires/s × ${fmt(holdMs)} ms held = ${fmt(busy)} busy on average;` +
        ` size it to about ${suggestion}${max !== undefined ? ` (max is ${max})` : ''}.`
    }
    const tooSmall = suggestion !== undefined && max !== undefined && suggestion > max
    out.push({
      rule: 'pool-wait',
      severity: tooSmall ? 'critical' : 'warning',
      metric: 'hotpath_pool_acquire_wait',
      labels,
      value: p95,
      threshold: o.poolWaitP95,
      message:
        `Pool \`${labels.name}\` acquire wait p95 is ${fmt(p95)} ms (above ${o.poolWaitP95} ms).` +
        (sizing ||
          " Take an interval snapshot to get a Little's-law size; meanwhile check slow queries and long-held connections."),
      ...(suggestion === undefined ? {} : { suggestion }),
    })
  }

  // Semaphores: a backlog, growing across snapshots.
  for (const s of seriesOf(snapshot, 'hotpath_semaphore_waiting')) {
    const labels = s.labels
    const waiting = s.value ?? 0
    const points = history
      .map((h, i) => [i, valueAt(h, 'hotpath_semaphore_waiting', labels)] as const)
      .filter((p): p is readonly [number, number] => p[1] !== undefined)
    const permits = valueAt(snapshot, 'hotpath_semaphore_permits', labels) ?? 0
    if (points.length >= 3) {
      const { slope, r2 } = linearFit(
        points.map((p) => p[0]),
        points.map((p) => p[1]),
      )
      if (slope > 0 && r2 >= o.trendConfidence && waiting > 0) {
        out.push({
          rule: 'semaphore-queue-growing',
          severity: 'warning',
          metric: 'hotpath_semaphore_waiting',
          labels,
          value: waiting,
          threshold: 0,
          message:
            `Semaphore \`${labels.name}\` queue is growing (${points.map((p) => p[1]).join(' → ')}, +${fmt(slope)} per ` +
            `snapshot, R² ${fmt(r2)}): work arrives faster than ${permits} permits drain it — raise permits if the ` +
            'downstream allows, shed load, or batch.',
        })
        continue
      }
    }
    if (permits > 0 && waiting > permits * 10) {
      out.push({
        rule: 'semaphore-backlog',
        severity: 'info',
        metric: 'hotpath_semaphore_waiting',
        labels,
        value: waiting,
        threshold: permits * 10,
        message: `Semaphore \`${labels.name}\` has ${waiting} callers queued for ${permits} permits.`,
      })
    }
  }

  // Event loop.
  const p99 = valueAt(snapshot, 'runtime_event_loop_delay', { stat: 'p99' })
  if (p99 !== undefined && p99 > o.eventLoopDelayP99) {
    out.push({
      rule: 'event-loop-delay',
      severity: p99 > o.eventLoopDelayP99 * 5 ? 'critical' : 'warning',
      metric: 'runtime_event_loop_delay',
      labels: { stat: 'p99' },
      value: p99,
      threshold: o.eventLoopDelayP99,
      message:
        `Event-loop delay p99 is ${fmt(p99)} ms (above ${o.eventLoopDelayP99} ms): something blocks the loop — ` +
        'take a cpuProfile() and move CPU-heavy work (JSON on big payloads, crypto, sync I/O) off the main thread.',
    })
  }
  const elu = valueAt(snapshot, 'runtime_event_loop_utilization', {})
  if (elu !== undefined && elu > o.eventLoopUtilization) {
    out.push({
      rule: 'event-loop-utilization',
      severity: 'warning',
      metric: 'runtime_event_loop_utilization',
      labels: {},
      value: elu,
      threshold: o.eventLoopUtilization,
      message: `Event-loop utilization is ${pct(elu)}: the process is CPU-bound; scale out or optimise hot paths.`,
    })
  }

  // Worker pools: short of threads, or mostly idle. Utilization is piscina's average over the
  // pool's life, so the wait p99 also counts: it catches a pool that is saturated only lately.
  const cores = availableParallelism()
  const idlePools: string[] = []
  for (const s of seriesOf(snapshot, 'hotpath_workers_utilization')) {
    const labels = s.labels
    const utilization = s.value ?? 0
    const queued = valueAt(snapshot, 'hotpath_workers_queued', labels) ?? 0
    const threads = valueAt(snapshot, 'hotpath_workers_threads', labels) ?? 0
    const maxThreads = valueAt(snapshot, 'hotpath_workers_max_threads', labels) ?? threads
    const waitP99 = valueAt(snapshot, 'hotpath_workers_wait_p99', labels)
    if (utilization < WORKERS_IDLE) idlePools.push(labels.name ?? '')
    const saturated = utilization >= WORKERS_BUSY && queued > 0
    const waiting = waitP99 !== undefined && waitP99 > o.workerWaitP99
    if (saturated || waiting) {
      const figure = saturated
        ? `utilization is ${pct(utilization)} with ${queued} tasks queued`
        : `wait p99 is ${fmt(waitP99 ?? 0)} ms (above ${o.workerWaitP99} ms)`
      // More threads than cores only adds context switches to CPU-bound work.
      const canGrow = maxThreads < cores
      const suggestion = canGrow ? Math.min(cores, Math.max(maxThreads + 1, maxThreads * 2)) : undefined
      out.push({
        rule: 'worker-pool-saturated',
        severity: 'warning',
        metric: saturated ? 'hotpath_workers_utilization' : 'hotpath_workers_wait_p99',
        labels,
        value: saturated ? utilization : (waitP99 ?? 0),
        threshold: saturated ? WORKERS_BUSY : o.workerWaitP99,
        message:
          `Worker pool \`${labels.name}\` ${figure}: ` +
          (canGrow
            ? `raise maxThreads from ${maxThreads} to ${suggestion} (this machine has ${cores} cores), or shed load.`
            : `maxThreads is already ${maxThreads} for ${cores} cores — shed load (a smaller maxQueue, 503 when queued) or scale out.`),
        ...(suggestion === undefined ? {} : { suggestion }),
      })
    } else if (utilization < WORKERS_IDLE && threads > 1) {
      // Enough threads to keep the average busy thread count near half the pool.
      const suggestion = Math.max(1, Math.min(threads - 1, Math.ceil(utilization * maxThreads * 2)))
      out.push({
        rule: 'worker-pool-idle',
        severity: 'info',
        metric: 'hotpath_workers_utilization',
        labels,
        value: utilization,
        threshold: WORKERS_IDLE,
        message:
          `Worker pool \`${labels.name}\` utilization is ${pct(utilization)} with ${threads} threads alive: ` +
          `about ${suggestion} thread${suggestion === 1 ? '' : 's'} would do; lower maxThreads (or minThreads) to free memory and cores.`,
        suggestion,
      })
    }
  }
  if (elu !== undefined && elu > o.eventLoopUtilization && idlePools.length > 0) {
    out.push({
      rule: 'cpu-on-main-thread',
      severity: 'warning',
      metric: 'runtime_event_loop_utilization',
      labels: {},
      value: elu,
      threshold: o.eventLoopUtilization,
      message:
        `Event-loop utilization is ${pct(elu)} while worker pool${idlePools.length === 1 ? '' : 's'} ` +
        `${idlePools.map((n) => `\`${n}\``).join(', ')} ${idlePools.length === 1 ? 'is' : 'are'} below ${pct(WORKERS_IDLE)} utilization: ` +
        'CPU work still runs on the main thread — take a cpuProfile() and move the hot functions into the pool.',
    })
  }

  // Heap growth: leakWatch's fit, or a fit over several snapshots of runtime_heap_used.
  const rate = valueAt(snapshot, 'runtime_heap_growth_rate', {})
  const confidence = valueAt(snapshot, 'runtime_heap_growth_confidence', {})
  let heap: { rate: number; r2: number; metric: string } | undefined
  if (rate !== undefined && confidence !== undefined)
    heap = { rate, r2: confidence, metric: 'runtime_heap_growth_rate' }
  else if (history.length >= 3) {
    const pts = history
      .map((h) => [h.timestamp, valueAt(h, 'runtime_heap_used', {})] as const)
      .filter((p): p is readonly [number, number] => p[1] !== undefined)
    if (pts.length >= 3) {
      const { slope, r2 } = linearFit(
        pts.map((p) => p[0]),
        pts.map((p) => p[1]),
      )
      heap = { rate: slope * 60_000, r2, metric: 'runtime_heap_used' }
    }
  }
  if (heap && heap.rate > o.heapGrowth && heap.r2 >= o.trendConfidence) {
    out.push({
      rule: 'heap-growing',
      severity: 'warning',
      metric: heap.metric,
      labels: {},
      value: heap.rate,
      threshold: o.heapGrowth,
      message:
        `Heap is growing ${mib(heap.rate)}/min with confidence R² ${fmt(heap.r2)}: a likely leak — compare two ` +
        'heapSnapshot()s or run heapProfile() to find what keeps growing (unbounded maps, listeners, caches without a bound).',
    })
  }

  // HTTP routes over their p95 target.
  for (const s of seriesOf(snapshot, 'http_request_duration')) {
    const p95 = s.p95 ?? 0
    if (p95 > o.httpP95 && (s.count ?? 0) > 0) {
      out.push({
        rule: 'http-p95',
        severity: p95 > o.httpP95 * 5 ? 'critical' : 'warning',
        metric: 'http_request_duration',
        labels: s.labels,
        value: p95,
        threshold: o.httpP95,
        message: `${s.labels.method ?? ''} ${s.labels.route ?? ''} p95 is ${fmt(p95)} ms (target ${o.httpP95} ms) over ${s.count} requests.`,
      })
    }
  }

  // Series limits reached.
  for (const metric of snapshot.metrics) {
    const overflow = metric.series.find((s) => Object.values(s.labels).some((v) => v === '__overflow__'))
    if (overflow) {
      out.push({
        rule: 'cardinality',
        severity: 'warning',
        metric: metric.name,
        labels: overflow.labels,
        value: metric.series.length - 1,
        threshold: metric.series.length - 1,
        message:
          `Metric \`${metric.name}\` reached its series limit; new label combinations are folded into the ` +
          'overflow series. Use bounded label values (route patterns, not URLs; no user ids).',
      })
    }
  }

  const order = { critical: 0, warning: 1, info: 2 }
  return out.sort((a, b) => order[a.severity] - order[b.severity])
}

/**
 * Renders advice as a readable text table (severity, metric, value, threshold, advice).
 *
 * @example
 * console.log(report(advise(registry.snapshot({ view: 'interval' }))))
 */
export function report(advice: readonly Advice[]): string {
  if (advice.length === 0) return 'No recommendations: every checked figure is within its threshold.\n'
  const rows = advice.map((a) => {
    const labels = Object.entries(a.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')
    return [
      a.severity,
      labels ? `${a.metric}{${labels}}` : a.metric,
      fmt(a.value),
      fmt(a.threshold),
      a.message,
    ]
  })
  const header = ['severity', 'metric', 'value', 'threshold', 'advice']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i < 4 ? r[i]!.length : 0))))
  const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c)).join('  ')
  return `${[line(header), line(widths.map((w, i) => (i < 4 ? '-'.repeat(w) : '------'))), ...rows.map(line)].join('\n')}\n`
}
