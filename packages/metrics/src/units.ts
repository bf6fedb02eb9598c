/** Known units: they pick a histogram's default range, timer scale and Prometheus suffix. */
export interface UnitInfo {
  /** Prometheus name suffix (`_seconds`), or '' for none. */
  readonly suffix: string
  /** Multiplier from milliseconds to this unit, for timers; 1 for non-time units. */
  readonly fromMs: number
  readonly lowest: number
  readonly highest: number
  readonly buckets: readonly number[]
}

const MS_BUCKETS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

const scaled = (factor: number) => MS_BUCKETS.map((b) => b * factor)

const UNITS: Record<string, UnitInfo> = {
  ms: { suffix: 'milliseconds', fromMs: 1, lowest: 0.001, highest: 3_600_000, buckets: MS_BUCKETS },
  s: { suffix: 'seconds', fromMs: 0.001, lowest: 1e-6, highest: 3_600, buckets: scaled(0.001) },
  us: { suffix: 'microseconds', fromMs: 1e3, lowest: 1, highest: 3.6e9, buckets: scaled(1e3) },
  ns: { suffix: 'nanoseconds', fromMs: 1e6, lowest: 1, highest: 3.6e12, buckets: scaled(1e6) },
  bytes: {
    suffix: 'bytes',
    fromMs: 1,
    lowest: 1,
    highest: 2 ** 40,
    buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456],
  },
}

const GENERIC: UnitInfo = {
  suffix: '',
  fromMs: 1,
  lowest: 1,
  highest: 2 ** 40,
  buckets: [1, 10, 100, 1000, 10_000, 100_000, 1e6, 1e7, 1e8, 1e9],
}

/** Unit details for `unit` (any string; unknown units behave like plain numbers). */
export function unitInfo(unit: string): UnitInfo {
  const known = UNITS[unit]
  if (known) return known
  if (unit === '') return GENERIC
  return { ...GENERIC, suffix: unit }
}

/** True for units a timer can measure (`ms`, `s`, `us`, `ns`). */
export function isTimeUnit(unit: string): boolean {
  return unit === 'ms' || unit === 's' || unit === 'us' || unit === 'ns'
}
