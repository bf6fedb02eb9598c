import { describe, expect, it } from 'vitest'
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKnownOptions,
  checkNumber,
  checkOneOf,
  checkOptionsObject,
  checkSignal,
  checkString,
  closestName,
  describeValue,
  invalidOption,
  withDefaults,
} from '../src/index'

describe('option checks', () => {
  it('produces the one TypeError format', () => {
    const error = invalidOption('maxQueue', 'an integer >= 0', -1)
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('Expected `maxQueue` to be an integer >= 0, got `-1` (number)')
  })

  it('describes values of every type', () => {
    expect(describeValue('x')).toBe("`'x'` (string)")
    expect(describeValue(null)).toBe('`null` (null)')
    expect(describeValue(undefined)).toBe('`undefined` (undefined)')
    expect(describeValue([1, 2])).toBe('`[array of 2]` (array)')
    expect(describeValue(new Map())).toBe('`[Map]` (object)')
    expect(describeValue(10n)).toBe('`10n` (bigint)')
    expect(describeValue(function named() {})).toBe('`[Function named]` (function)')
  })

  it('checks integers with bounds', () => {
    expect(checkInteger('permits', 5, { min: 1 })).toBe(5)
    expect(() => checkInteger('permits', 0, { min: 1 })).toThrow(
      'Expected `permits` to be an integer >= 1, got `0` (number)',
    )
    expect(() => checkInteger('permits', 1.5, { min: 1 })).toThrow('an integer >= 1')
    expect(() => checkInteger('n', 11, { min: 0, max: 10 })).toThrow('an integer between 0 and 10')
    expect(checkInteger('maxQueue', Number.POSITIVE_INFINITY, { min: 0, allowInfinity: true })).toBe(
      Number.POSITIVE_INFINITY,
    )
    expect(() => checkInteger('maxQueue', Number.POSITIVE_INFINITY, { min: 0 })).toThrow(
      'got `Infinity` (number)',
    )
  })

  it('checks numbers, booleans, functions, strings, enums, signals, objects', () => {
    expect(checkNumber('jitter', 0.1, { min: 0, max: 1 })).toBe(0.1)
    expect(() => checkNumber('jitter', Number.NaN)).toThrow('a finite number')
    expect(checkBoolean('fifo', false)).toBe(false)
    expect(() => checkBoolean('fifo', 'yes')).toThrow("Expected `fifo` to be a boolean, got `'yes'` (string)")
    const fn = () => 1
    expect(checkFunction('create', fn)).toBe(fn)
    expect(() => checkFunction('create', 1)).toThrow('Expected `create` to be a function')
    expect(checkString('prefix', 'a:')).toBe('a:')
    expect(() => checkString('prefix', '')).toThrow('a non-empty string')
    expect(checkOneOf('mode', 'settle', ['settle', 'fail-fast'] as const)).toBe('settle')
    expect(() => checkOneOf('mode', 'x', ['settle', 'fail-fast'])).toThrow(
      "Expected `mode` to be one of 'settle', 'fail-fast', got `'x'` (string)",
    )
    expect(checkSignal('signal', undefined)).toBeUndefined()
    expect(() => checkSignal('signal', {})).toThrow('an AbortSignal')
    expect(checkOptionsObject('options', undefined)).toEqual({})
    expect(() => checkOptionsObject('options', 5 as unknown as object)).toThrow('an options object')
  })

  it('merges defaults, skips undefined and freezes', () => {
    const merged = withDefaults({ a: 1, b: 2 }, { a: undefined, b: 3 })
    expect(merged).toEqual({ a: 1, b: 3 })
    expect(Object.isFrozen(merged)).toBe(true)
  })
})

describe('unknown option names', () => {
  const known = ['ttl', 'max', 'l2Timeout', 'namespace'] as const

  it('refuses a misspelled name with a hint to the closest known one, synchronously', () => {
    expect(() => checkKnownOptions('createCache()', { tll: '5m' }, known)).toThrow(
      new TypeError(
        "Expected `tll` to be a known option of createCache() (did you mean `ttl`?), got `'5m'` (string)",
      ),
    )
    expect(() => checkKnownOptions('createCache()', { L2timeout: 5 }, known)).toThrow(
      /did you mean `l2Timeout`/,
    )
    expect(() => checkKnownOptions('createCache()', { namspace: 'a' }, known)).toThrow(
      /did you mean `namespace`/,
    )
  })

  it('lists the known names when nothing is close', () => {
    expect(() => checkKnownOptions('createCache()', { colour: 'red' }, known)).toThrow(
      'Expected `colour` to be a known option of createCache() (`ttl`, `max`, `l2Timeout`, `namespace`), got',
    )
  })

  it('accepts known names, undefined values of known names, and no options at all', () => {
    expect(() => checkKnownOptions('x()', { ttl: 1, max: undefined }, known)).not.toThrow()
    expect(() => checkKnownOptions('x()', undefined, known)).not.toThrow()
    expect(() => checkKnownOptions('x()', {}, known)).not.toThrow()
  })

  it('ignores inherited properties', () => {
    const options = Object.create({ inherited: 1 }) as object
    expect(() => checkKnownOptions('x()', options, known)).not.toThrow()
  })

  it('closestName finds transpositions, case slips and one-letter slips only', () => {
    expect(closestName('mxa', known)).toBe('max')
    expect(closestName('TTL', known)).toBe('ttl')
    expect(closestName('timeout', known)).toBe('l2Timeout')
    expect(closestName('retries', known)).toBeUndefined()
  })
})
