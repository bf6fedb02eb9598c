/** Keys whose values are 0..1 ratios; every other fractional figure in `/stats` is milliseconds. */
const RATIO_KEY = /rate$|ratio$/i

const round = (value: number, decimals: number): number => {
  const factor = 10 ** decimals
  return Math.round(value * factor) / factor
}

/**
 * Rounds the figures of a stats object for people reading its JSON: ratios (keys ending in
 * `rate` or `ratio`) to 3 decimals, other fractional numbers (durations in ms) to 0.1 ms from
 * 1 ms up and to 1 µs below, where a tenth of a millisecond would read as 0. Integers, strings
 * and booleans are kept as they are.
 *
 * @example
 * roundStats({ hitRate: 0.9924812, holdTime: { p50: 5.54703, p99: 0.712889 } })
 * // { hitRate: 0.992, holdTime: { p50: 5.5, p99: 0.713 } }
 */
export function roundStats<T>(value: T, key = ''): T {
  if (typeof value === 'number') {
    if (Number.isInteger(value) || !Number.isFinite(value)) return value
    if (RATIO_KEY.test(key)) return round(value, 3) as T
    return round(value, Math.abs(value) >= 1 ? 1 : 3) as T
  }
  if (Array.isArray(value)) return value.map((item) => roundStats(item, key)) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundStats(v, k)])) as T
  }
  return value
}
