/**
 * Option checks shared by every hotpath package. They all throw one TypeError format:
 * ``Expected `maxQueue` to be an integer >= 0, got `-1` (number)``.
 */

/**
 * Renders a value the way option errors show it: `` `-1` (number)``.
 *
 * @example
 * describeValue('5 mins') // "`'5 mins'` (string)"
 */
export function describeValue(value: unknown): string {
  let shown: string
  if (typeof value === 'string') shown = `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`
  else if (typeof value === 'bigint') shown = `${value}n`
  else if (typeof value === 'function') shown = value.name ? `[Function ${value.name}]` : '[Function]'
  else if (typeof value === 'symbol') shown = value.toString()
  else if (value === null) shown = 'null'
  else if (Array.isArray(value)) shown = `[array of ${value.length}]`
  else if (typeof value === 'object') {
    const name = (value as object).constructor?.name
    shown = name && name !== 'Object' ? `[${name}]` : '[object]'
  } else shown = String(value)
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
  return `\`${shown}\` (${type})`
}

/**
 * Builds the standard option TypeError.
 *
 * @example
 * throw invalidOption('maxQueue', 'an integer >= 0', -1)
 * // TypeError: Expected `maxQueue` to be an integer >= 0, got `-1` (number)
 */
export function invalidOption(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Expected \`${name}\` to be ${expected}, got ${describeValue(value)}`)
}

/**
 * Bounds accepted by {@link checkInteger} and {@link checkNumber}.
 *
 * @example
 * const bounds: RangeBounds = { min: 1, allowInfinity: true }
 * const max = checkInteger('max', options.max ?? 10, bounds)
 */
export interface RangeBounds {
  /** Smallest allowed value (inclusive). */
  min?: number
  /** Largest allowed value (inclusive). */
  max?: number
  /** Whether `Infinity` is accepted (as "unbounded"). @default false */
  allowInfinity?: boolean
}

function rangeText(kind: string, { min, max, allowInfinity }: RangeBounds): string {
  let text = kind
  if (min !== undefined && max !== undefined) text += ` between ${min} and ${max}`
  else if (min !== undefined) text += ` >= ${min}`
  else if (max !== undefined) text += ` <= ${max}`
  return allowInfinity ? `${text} (or Infinity)` : text
}

function inRange(value: number, { min, max }: RangeBounds): boolean {
  return (min === undefined || value >= min) && (max === undefined || value <= max)
}

/**
 * Checks an integer option and returns it.
 *
 * @example
 * const permits = checkInteger('permits', options.permits, { min: 1 })
 */
export function checkInteger(name: string, value: unknown, bounds: RangeBounds = {}): number {
  if (bounds.allowInfinity && value === Number.POSITIVE_INFINITY) return value
  if (typeof value !== 'number' || !Number.isInteger(value) || !inRange(value, bounds)) {
    throw invalidOption(name, rangeText('an integer', bounds), value)
  }
  return value
}

/**
 * Checks a finite number option and returns it.
 *
 * @example
 * const jitter = checkNumber('jitter', options.jitter, { min: 0, max: 1 })
 */
export function checkNumber(name: string, value: unknown, bounds: RangeBounds = {}): number {
  if (bounds.allowInfinity && value === Number.POSITIVE_INFINITY) return value
  if (typeof value !== 'number' || !Number.isFinite(value) || !inRange(value, bounds)) {
    throw invalidOption(name, rangeText('a finite number', bounds), value)
  }
  return value
}

/**
 * Checks a boolean option and returns it.
 *
 * @example
 * const fifo = checkBoolean('fifo', options.fifo)
 */
export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value)
  return value
}

/**
 * Checks a function option and returns it.
 *
 * @example
 * const create = checkFunction('create', options.create)
 */
export function checkFunction<F extends (...args: never[]) => unknown>(name: string, value: unknown): F {
  if (typeof value !== 'function') throw invalidOption(name, 'a function', value)
  return value as F
}

/**
 * Checks that an option is one of a fixed set of values and returns it.
 *
 * @example
 * const mode = checkOneOf('mode', options.mode, ['settle', 'fail-fast'] as const)
 */
export function checkOneOf<const T extends readonly unknown[]>(
  name: string,
  value: unknown,
  allowed: T,
): T[number] {
  if (!allowed.includes(value)) {
    throw invalidOption(name, `one of ${allowed.map((v) => `'${String(v)}'`).join(', ')}`, value)
  }
  return value as T[number]
}

/**
 * Checks a non-empty string option and returns it.
 *
 * @example
 * const prefix = checkString('prefix', options.prefix)
 */
export function checkString(name: string, value: unknown, { allowEmpty = false } = {}): string {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0)) {
    throw invalidOption(name, allowEmpty ? 'a string' : 'a non-empty string', value)
  }
  return value
}

/**
 * Checks an optional `AbortSignal` option and returns it.
 *
 * @example
 * const signal = checkSignal('signal', options.signal)
 */
export function checkSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined
  if (!(value instanceof AbortSignal)) throw invalidOption(name, 'an AbortSignal', value)
  return value
}

/**
 * Checks that `options` is a plain object (or undefined) and returns it as a record. `expected`
 * replaces "an options object" in the error, for an option that also takes other forms.
 *
 * @example
 * const raw = checkOptionsObject('options', userOptions)
 * const retry = checkOptionsObject('retry', options.retry, 'a number, an options object or false')
 */
export function checkOptionsObject<T extends object>(
  name: string,
  value: T | undefined,
  expected = 'an options object',
): Partial<T> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption(name, expected, value)
  }
  return value
}

/**
 * Merges defaults with user options, skipping `undefined` user values, and freezes the result.
 * Validation of individual fields is up to the caller.
 *
 * @example
 * const opts = withDefaults({ permits: 1, maxQueue: Infinity }, userOptions)
 */
export function withDefaults<T extends object>(defaults: T, options: Partial<T> | undefined): Readonly<T> {
  const merged = { ...defaults } as Record<string, unknown>
  if (options) {
    for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value
  }
  return Object.freeze(merged) as Readonly<T>
}

/** Edit distance between two short names (insertions, deletions, substitutions, swaps). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = []
  for (let i = 0; i <= a.length; i++) {
    rows.push([i])
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]!.push(j)
        continue
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      }
      rows[i]!.push(best)
    }
  }
  return rows[a.length]![b.length]!
}

/**
 * The known name closest to `name`, if one is close enough to be a likely misspelling.
 *
 * @example
 * closestName('tll', ['ttl', 'max']) // 'ttl'
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/** Sets of known names, built once per list: option checks run per call on some hot paths. */
const knownSets = new WeakMap<readonly string[], ReadonlySet<string>>()

function knownSet(known: readonly string[] | ReadonlySet<string>): ReadonlySet<string> {
  if (!Array.isArray(known)) return known as ReadonlySet<string>
  let set = knownSets.get(known)
  if (set === undefined) {
    set = new Set(known)
    knownSets.set(known, set)
  }
  return set
}

/**
 * Refuses option names the caller does not know, so a misspelled option fails at once instead of
 * running silently with its default (what TypeScript tells its users, plain JavaScript users get
 * at run time). `where` names the options object in the message, e.g. `createCache()`. Pass the
 * same `known` array (or a Set) on every call: its lookup set is built once.
 *
 * @example
 * checkKnownOptions('createCache()', { tll: '5m' }, ['ttl', 'max'])
 * // TypeError: Expected `tll` to be a known option of createCache() (did you mean `ttl`?), got `'5m'` (string)
 */
export function checkKnownOptions(
  where: string,
  options: object | undefined,
  known: readonly string[] | ReadonlySet<string>,
): void {
  if (options === undefined || options === null) return
  let set: ReadonlySet<string> | undefined
  for (const key in options) {
    set ??= knownSet(known)
    if (set.has(key) || !Object.hasOwn(options, key)) continue
    const names = [...set]
    const hint = closestName(key, names)
    const expected = hint
      ? `a known option of ${where} (did you mean \`${hint}\`?)`
      : `a known option of ${where} (${names.map((name) => `\`${name}\``).join(', ')})`
    throw invalidOption(key, expected, (options as Record<string, unknown>)[key])
  }
}

/**
 * Checks an options argument — a plain object or `undefined` — and its option names, and returns
 * it as a record: the first two lines of every function taking options.
 *
 * @example
 * const raw = readOptions('new Batcher()', options, ['maxBatchSize', 'delay'])
 * const delay = parseDuration(raw.delay ?? 0, 'delay')
 */
export function readOptions<T extends object>(
  where: string,
  options: T | undefined,
  known: readonly string[] | ReadonlySet<string>,
  name = 'options',
): Partial<T> {
  const raw = checkOptionsObject(name, options)
  checkKnownOptions(where, raw, known)
  return raw
}

/**
 * Whether `value` is a promise or any other thenable, the way `await` decides.
 *
 * @example
 * const result = destroy(resource)
 * if (isThenable(result)) await result
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
