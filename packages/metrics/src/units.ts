/** Known units: they pick a histogram's default range, timer scale and exported base unit. */
export interface UnitInfo {
  /** Name suffix of the recorded unit (`milliseconds`), or '' for none. */
  readonly suffix: string
  /** Name suffix of the base unit values are exported in (`seconds`, `bytes`, else `suffix`). */
  readonly baseSuffix: string
  /**
   * Recorded units per base unit (1000 for `ms`); exported values are divided by it, which keeps
   * them correctly rounded (5 ms → 0.005, not 0.005000000000000001).
   */
  readonly perBase: number
  /** Unit of the exported values in OpenTelemetry (UCUM) notation: `s`, `By`, else the unit itself. */
  readonly baseUcum: string
  /** Short spellings of the recorded unit a name may already end with (`ms`). */
  readonly aliases: readonly string[]
  /** Multiplier from milliseconds to this unit, for timers; 1 for non-time units. */
  readonly fromMs: number
  readonly lowest: number
  readonly highest: number
  readonly buckets: readonly number[]
}

const MS_BUCKETS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

const scaled = (factor: number) => MS_BUCKETS.map((b) => b * factor)

const time = (suffix: string, alias: string, perBase: number) => ({
  suffix,
  baseSuffix: 'seconds',
  perBase,
  fromMs: perBase / 1000,
  baseUcum: 's',
  aliases: [alias],
})

const UNITS: Record<string, UnitInfo> = {
  ms: { ...time('milliseconds', 'ms', 1e3), lowest: 0.001, highest: 3_600_000, buckets: MS_BUCKETS },
  s: { ...time('seconds', 's', 1), lowest: 1e-6, highest: 3_600, buckets: scaled(0.001) },
  us: { ...time('microseconds', 'us', 1e6), lowest: 1, highest: 3.6e9, buckets: scaled(1e3) },
  ns: { ...time('nanoseconds', 'ns', 1e9), lowest: 1, highest: 3.6e12, buckets: scaled(1e6) },
  bytes: {
    suffix: 'bytes',
    baseSuffix: 'bytes',
    perBase: 1,
    baseUcum: 'By',
    aliases: [],
    fromMs: 1,
    lowest: 1,
    highest: 2 ** 40,
    buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456],
  },
}

const GENERIC: UnitInfo = {
  suffix: '',
  baseSuffix: '',
  perBase: 1,
  baseUcum: '',
  aliases: [],
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
  return { ...GENERIC, suffix: unit, baseSuffix: unit, baseUcum: unit }
}

/** True for units a timer can measure (`ms`, `s`, `us`, `ns`). */
export function isTimeUnit(unit: string): boolean {
  return unit === 'ms' || unit === 's' || unit === 'us' || unit === 'ns'
}
