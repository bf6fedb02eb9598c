import { describe, expect, it } from 'vitest'
import {
  asyncTracer,
  describeMetrics,
  eventChannel,
  formatDuration,
  HotpathError,
  parseDuration,
  parseOptionalDuration,
  Summary,
  schedule,
  setClock,
  setTimers,
  Timeout,
  TimeoutError,
  TimerService,
} from '../src/index'

/** The message of the TypeError `fn` throws synchronously. */
function message(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError)
    return (error as Error).message
  }
  throw new Error('expected a TypeError')
}

describe('argument checks of the rest of the public entry', () => {
  it('parseDuration checks its option names and types; parseOptionalDuration and formatDuration their arguments', () => {
    expect(message(() => parseDuration('5s', 'ttl', { positiv: true } as never))).toBe(
      'Expected `positiv` to be a known option of parseDuration() (did you mean `positive`?), got `true` (boolean)',
    )
    expect(message(() => parseDuration('5s', 'ttl', { allowInfinity: 'yes' as never }))).toBe(
      "Expected `allowInfinity` to be a boolean, got `'yes'` (string)",
    )
    expect(message(() => parseDuration('5s', 5 as never))).toBe(
      'Expected `name` to be a non-empty string, got `5` (number)',
    )
    expect(message(() => parseOptionalDuration(undefined, {} as never))).toBe(
      'Expected `name` to be a non-empty string, got `[object]` (object)',
    )
    expect(message(() => formatDuration('5s' as never))).toBe(
      "Expected `ms` to be a number of milliseconds, got `'5s'` (string)",
    )
    expect(parseDuration(Number.POSITIVE_INFINITY, 'ttl', { allowInfinity: true })).toBe(
      Number.POSITIVE_INFINITY,
    )
    expect(formatDuration(1_500)).toBe('1.5s')
  })

  it('schedule, setClock and setTimers refuse what they could not call later', () => {
    expect(message(() => schedule('tick' as never, 10))).toBe(
      "Expected `callback` to be a function, got `'tick'` (string)",
    )
    expect(message(() => schedule(() => {}, '10ms' as never))).toBe(
      "Expected `delay` to be a number of milliseconds, got `'10ms'` (string)",
    )
    expect(message(() => schedule(() => {}, Number.NaN))).toBe(
      'Expected `delay` to be a number of milliseconds, got `NaN` (number)',
    )
    expect(message(() => setClock({ now: () => 0 } as never))).toBe(
      'Expected `clock` to be a clock ({ now(), monotonic() }) or undefined, got `[object]` (object)',
    )
    expect(message(() => setTimers(globalThis.setTimeout as never))).toBe(
      'Expected `provider` to be a timer provider ({ setTimeout(), clearTimeout() }) or undefined, got `[Function setTimeout]` (function)',
    )
  })

  it('the timer service, its entries and Timeout check their options and arguments', () => {
    expect(message(() => new TimerService({ clok: {} } as never))).toBe(
      'Expected `clok` to be a known option of new TimerService() (did you mean `clock`?), got `[object]` (object)',
    )
    expect(message(() => new TimerService({ timers: {} as never }))).toBe(
      'Expected `timers` to be a timer provider ({ setTimeout(), clearTimeout() }), got `[object]` (object)',
    )
    expect(message(() => new Timeout(() => {}, { unref: true } as never))).toMatch(
      /^Expected `unref` to be a known option of new TimerEntry\(\) \(.*\), got `true` \(boolean\)$/,
    )
    expect(message(() => new Timeout(() => {}, { ref: 'no' as never }))).toBe(
      "Expected `ref` to be a boolean, got `'no'` (string)",
    )
    expect(message(() => new Timeout(undefined as never))).toBe(
      'Expected `callback` to be a function, got `undefined` (undefined)',
    )
    const service = new TimerService()
    expect(message(() => service.add({ fire() {} } as never, 10))).toBe(
      'Expected `entry` to be a TimerEntry, got `[object]` (object)',
    )
    expect(message(() => service.addAt(undefined as never, 10))).toBe(
      'Expected `entry` to be a TimerEntry, got `undefined` (undefined)',
    )
    expect(service.stats().pending).toBe(0)
  })

  it('errors, metrics descriptors, summaries and channels check their arguments', () => {
    expect(message(() => new HotpathError('', 'x'))).toBe(
      "Expected `code` to be a non-empty string, got `''` (string)",
    )
    expect(message(() => new HotpathError('E_X', 'x', { cuase: 1 } as never))).toBe(
      'Expected `cuase` to be a known option of new HotpathError() (did you mean `cause`?), got `1` (number)',
    )
    expect(message(() => new TimeoutError('5s' as never))).toBe(
      "Expected `timeout` to be a finite number >= 0 (or Infinity), got `'5s'` (string)",
    )
    expect(new HotpathError('E_X', 'x', { cause: 1 }).cause).toBe(1)
    expect(message(() => describeMetrics('semaphores' as never, () => ({})))).toMatch(
      /^Expected `kind` to be one of 'cache', .*'other', got `'semaphores'` \(string\)$/,
    )
    expect(message(() => describeMetrics('pool', {} as never))).toBe(
      'Expected `stats` to be a function, got `[object]` (object)',
    )
    const summary = new Summary()
    expect(message(() => summary.record('12' as never))).toBe(
      "Expected `value` to be a number, got `'12'` (string)",
    )
    expect(message(() => summary.quantile(99))).toBe(
      'Expected `q` to be a finite number between 0 and 1, got `99` (number)',
    )
    expect(summary.count).toBe(0)
    const channel = eventChannel<number>('hotpath:core:arguments')
    expect(message(() => channel.subscribe('log' as never))).toBe(
      "Expected `listener` to be a function, got `'log'` (string)",
    )
    expect(message(() => channel.publishLazy(5 as never))).toBe(
      'Expected `build` to be a function, got `5` (number)',
    )
    const tracer = asyncTracer<{ id: number }>('hotpath:core:arguments-trace')
    expect(message(() => tracer.trace(Promise.resolve(1) as never, () => ({ id: 1 })))).toBe(
      'Expected `fn` to be a function, got `[Promise]` (object)',
    )
  })
})
