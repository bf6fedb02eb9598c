// The shape of advise()'s result and its thresholds with their defaults.

/**
 * One recommendation, with the figure that triggered it.
 *
 * @example
 * for (const advice of advise(registry.snapshot({ view: 'interval' }))) {
 *   if (advice.severity === 'critical') log.error(advice, advice.message)
 * }
 */
export interface Advice {
  /** Stable rule id (`cache-hit-rate`, `pool-wait`, ...). */
  rule: string
  severity: 'info' | 'warning' | 'critical'
  /** The metric that triggered it, and the series' labels. */
  metric: string
  labels: Record<string, string>
  /** The observed value and the threshold it crossed (same unit as the metric). */
  value: number
  threshold: number
  /** What happened and what to do. */
  message: string
  /** A computed target when the rule has one (e.g. a Little's-law pool size). */
  suggestion?: number
}

/**
 * Thresholds of {@link advise}.
 *
 * @example
 * advise(registry.snapshot({ view: 'interval' }), { poolWaitP95: 50, httpP95: 250, workerWaitP99: 100 })
 */
export interface AdviseOptions {
  /** Cache hit ratio below which a cache is flagged (70% is a common service target). @default 0.7 */
  cacheHitRatio?: number
  /** Reads a cache needs before its hit ratio is judged. @default 100 */
  minCacheReads?: number
  /** Pool acquire-wait p95 (ms) above which the pool is flagged. @default 20 */
  poolWaitP95?: number
  /** Headroom multiplied into the Little's-law pool size. @default 1.25 */
  poolHeadroom?: number
  /** Event-loop delay p99 (ms) above which the loop is flagged. @default 100 */
  eventLoopDelayP99?: number
  /** Event-loop utilization (0..1) above which the process is flagged as saturated. @default 0.9 */
  eventLoopUtilization?: number
  /** Heap growth (bytes/min) above which a confident trend is flagged. @default 1_048_576 */
  heapGrowth?: number
  /** R² needed for a heap or queue trend. @default 0.8 */
  trendConfidence?: number
  /** HTTP p95 target (ms) per route (a common service target: p95 < 100 ms). @default 100 */
  httpP95?: number
  /**
   * Worker-pool wait p99 (ms) above which a pool is flagged as short of threads, even when its
   * life-long utilization average looks fine.
   * @default 50
   */
  workerWaitP99?: number
}

export const DEFAULTS: Required<AdviseOptions> = {
  cacheHitRatio: 0.7,
  minCacheReads: 100,
  poolWaitP95: 20,
  poolHeadroom: 1.25,
  eventLoopDelayP99: 100,
  eventLoopUtilization: 0.9,
  heapGrowth: 1_048_576,
  trendConfidence: 0.8,
  httpP95: 100,
  workerWaitP99: 50,
}
