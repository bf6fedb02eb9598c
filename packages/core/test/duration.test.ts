import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration, parseOptionalDuration } from '../src/index'

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['500us', 0.5],
    [' 30s ', 30_000],
    ['0ms', 0],
    [0, 0],
    [42.5, 42.5],
  ])('parses %j as %d ms', (input, expected) => {
    expect(parseDuration(input)).toBe(expected)
  })

  it('rejects zero with `positive`, keeps the standard error for the rest, and takes Infinity when allowed', () => {
    for (const zero of [0, '0ms', '0s']) {
      expect(() => parseDuration(zero, 'window', { positive: true })).toThrow(
        `Expected \`window\` to be a duration > 0, got \`${typeof zero === 'string' ? `'${zero}'` : zero}\``,
      )
    }
    expect(() => parseDuration(0, 'timeout', { positive: true, allowInfinity: true })).toThrow(
      'Expected `timeout` to be a duration > 0 (or Infinity), got `0` (number)',
    )
    expect(() => parseDuration(-1, 'window', { positive: true })).toThrow(
      /to be a duration \(milliseconds >= 0/,
    )
    expect(parseDuration('1ms', 'window', { positive: true })).toBe(1)
    expect(parseDuration(Number.POSITIVE_INFINITY, 'timeout', { positive: true, allowInfinity: true })).toBe(
      Number.POSITIVE_INFINITY,
    )
  })

  it.each([
    ['5 mins'],
    ['-1s'],
    ['1y'],
    [''],
    ['ms'],
    ['1e3ms'],
    [Number.NaN],
    [-1],
    [Number.POSITIVE_INFINITY],
    [null],
    [{}],
  ])('rejects %j with the standard TypeError', (input) => {
    expect(() => parseDuration(input, 'ttl')).toThrow(TypeError)
    expect(() => parseDuration(input, 'ttl')).toThrow(
      /^Expected `ttl` to be a duration \(.*\), got `.*` \(\w+\)$/,
    )
  })

  it('names the bad value and its type', () => {
    expect(() => parseDuration('5 mins', 'ttl')).toThrow(
      "Expected `ttl` to be a duration (milliseconds >= 0, or a string like '250ms', '30s', '5m', '1h', '7d'), got `'5 mins'` (string)",
    )
  })

  it('accepts Infinity only when asked', () => {
    expect(parseDuration(Number.POSITIVE_INFINITY, 'ttl', { allowInfinity: true })).toBe(
      Number.POSITIVE_INFINITY,
    )
  })

  it('passes undefined through for optional durations', () => {
    expect(parseOptionalDuration(undefined, 'timeout')).toBeUndefined()
    expect(parseOptionalDuration('2s', 'timeout')).toBe(2_000)
  })

  it('round-trips any whole number of seconds through its string form', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (seconds) => {
        expect(parseDuration(`${seconds}s`)).toBe(seconds * 1000)
      }),
    )
  })
})

describe('formatDuration', () => {
  it('picks a readable unit', () => {
    expect(formatDuration(0.5)).toBe('500us')
    expect(formatDuration(250)).toBe('250ms')
    expect(formatDuration(1_500)).toBe('1.5s')
    expect(formatDuration(90_000)).toBe('1.5m')
    expect(formatDuration(7_200_000)).toBe('2h')
    expect(formatDuration(172_800_000)).toBe('2d')
  })
})
