import { checkBoolean, checkString, invalidOption, readOptions } from './options'

/**
 * Time unit suffixes accepted in duration strings.
 *
 * @example
 * const unit: DurationUnit = 'ms'
 * const timeout: Duration = `250${unit}`
 */
export type DurationUnit = 'us' | 'ms' | 's' | 'm' | 'h' | 'd' | 'w'

/**
 * A duration: a number of milliseconds, or a string such as `'250ms'`, `'1.5s'`, `'5m'`, `'1h'`, `'7d'`.
 *
 * @example
 * const ttl: Duration = '5m'
 */
export type Duration = number | `${number}${DurationUnit}`

const UNIT_MS: Record<DurationUnit, number> = {
  us: 0.001,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

const PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*(us|ms|s|m|h|d|w)$/

/** What the duration parser tells the user it accepts. */
const EXPECTED = "a duration (milliseconds >= 0, or a string like '250ms', '30s', '5m', '1h', '7d')"

const NO_OPTIONS: { allowInfinity?: boolean; positive?: boolean } = Object.freeze({})
const PARSE_OPTIONS = ['allowInfinity', 'positive']

function checkParseOptions(options: { allowInfinity?: boolean; positive?: boolean }): void {
  const raw = readOptions('parseDuration()', options, PARSE_OPTIONS)
  if (raw.allowInfinity !== undefined) checkBoolean('allowInfinity', raw.allowInfinity)
  if (raw.positive !== undefined) checkBoolean('positive', raw.positive)
}

/**
 * Parses a {@link Duration} into milliseconds. Throws the standard TypeError, naming the option,
 * for anything else (negative numbers, NaN, unknown units, empty strings).
 *
 * @param value - the duration to parse
 * @param name - the option name shown in the error
 * @param options - `allowInfinity` accepts `Infinity` as "never"; `positive` rejects zero
 * @example
 * parseDuration('5m') // 300000
 * parseDuration(250)  // 250
 * parseDuration('5 mins', 'ttl') // TypeError: Expected `ttl` to be a duration (...), got `'5 mins'` (string)
 * parseDuration(0, 'window', { positive: true }) // TypeError: Expected `window` to be a duration > 0, got `0` (number)
 */
export function parseDuration(
  value: unknown,
  name = 'duration',
  options: { allowInfinity?: boolean; positive?: boolean } = NO_OPTIONS,
): number {
  if (options !== NO_OPTIONS) checkParseOptions(options)
  if (typeof name !== 'string') checkString('name', name)
  const ms = toMilliseconds(value, options.allowInfinity === true)
  if (ms === undefined) {
    throw invalidOption(name, options.allowInfinity ? `${EXPECTED} or Infinity` : EXPECTED, value)
  }
  if (ms === 0 && options.positive) {
    throw invalidOption(
      name,
      options.allowInfinity ? 'a duration > 0 (or Infinity)' : 'a duration > 0',
      value,
    )
  }
  return ms
}

/** Milliseconds of a valid duration; `undefined` for anything else. */
function toMilliseconds(value: unknown, allowInfinity: boolean): number | undefined {
  if (typeof value === 'number') {
    return value >= 0 && (Number.isFinite(value) || (allowInfinity && value === Number.POSITIVE_INFINITY))
      ? value
      : undefined
  }
  if (typeof value === 'string') {
    const match = PATTERN.exec(value.trim())
    if (match) {
      const ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit]
      if (Number.isFinite(ms)) return ms
    }
  }
  return undefined
}

/**
 * Like {@link parseDuration} but passes `undefined` through, for optional options.
 *
 * @example
 * const timeout = parseOptionalDuration(options.timeout, 'timeout') // number | undefined
 */
export function parseOptionalDuration(value: unknown, name: string): number | undefined {
  checkString('name', name)
  return value === undefined ? undefined : parseDuration(value, name)
}

/**
 * Formats milliseconds for humans: `1500` → `'1.5s'`, `90000` → `'1.5m'`.
 *
 * @example
 * formatDuration(250) // '250ms'
 */
export function formatDuration(ms: number): string {
  if (typeof ms !== 'number') throw invalidOption('ms', 'a number of milliseconds', ms)
  if (!Number.isFinite(ms)) return String(ms)
  const abs = Math.abs(ms)
  const round = (n: number) => String(Math.round(n * 100) / 100)
  if (abs < 1) return `${round(ms * 1000)}us`
  if (abs < 1_000) return `${round(ms)}ms`
  if (abs < 60_000) return `${round(ms / 1_000)}s`
  if (abs < 3_600_000) return `${round(ms / 60_000)}m`
  if (abs < 86_400_000) return `${round(ms / 3_600_000)}h`
  return `${round(ms / 86_400_000)}d`
}
