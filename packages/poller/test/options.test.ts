import { describe, expect, it } from 'vitest'
import { PollLimiter, type PollOptions, phases } from '../src/index'
import { resolvePollOptions } from '../src/rules'

const fn = () => () => true

// Two different valid values for every option. The mapped type makes TypeScript reject this
// table when an option is added to `PollOptions` and not listed here.
const variants: {
  [K in keyof Required<PollOptions<number>>]: [PollOptions<number>[K], PollOptions<number>[K]]
} = {
  name: ['a', 'b'],
  isDone: [fn(), fn()],
  isFailed: [fn(), fn()],
  progress: [fn(), fn()],
  interval: [100, phases([{ every: 200 }])],
  initialDelay: [10, '20ms'],
  minInterval: [1, 2],
  maxInterval: [5_000, '6s'],
  jitter: [0.1, 0.2],
  stall: [false, { after: 2 }],
  deadline: [1_000, '2s'],
  signal: [new AbortController().signal, new AbortController().signal],
  retry: [1, { retries: 2 }],
  limiter: [false, new PollLimiter({ maxConcurrent: 1 })],
  onAttempt: [fn(), fn()],
  onProgress: [fn(), fn()],
  onStall: [fn(), fn()],
}

describe('resolvePollOptions', () => {
  it('resolves every call anew: an options object changed in place between calls is read again', () => {
    const stall = { after: 2 }
    const before = resolvePollOptions<number>({ stall })
    stall.after = 5
    expect(resolvePollOptions<number>({ stall }).rules.stall?.after).toBe(5)
    expect(before.rules.stall?.after).toBe(2)
    expect(resolvePollOptions<number>({ interval: 60 }).fixedDelay).toBe(60)
  })

  it('polls that set only their interval share the default rules; any other option gets its own', () => {
    const a = resolvePollOptions<number>({ interval: 60 })
    const b = resolvePollOptions<number>({ interval: '2s', name: undefined })
    const none = resolvePollOptions<number>(undefined)
    expect(b.rules).toBe(a.rules)
    expect(none.rules).toBe(a.rules)
    expect([a.fixedDelay, b.fixedDelay, none.fixedDelay]).toEqual([60, 2_000, 1_000])
    // The shared rules are the documented defaults.
    expect(a.rules).toEqual(resolvePollOptions<number>({ interval: 60, jitter: 0 }).rules)
    const named = resolvePollOptions<number>({ interval: 60, name: 'job' })
    expect(named.rules).not.toBe(a.rules)
    expect(named.rules.name).toBe('job')
    expect(resolvePollOptions<number>({ interval: 60, minInterval: 100 }).fixedDelay).toBe(100)
    // A bad interval is refused the same way on both paths.
    expect(() => resolvePollOptions<number>({ interval: -1 })).toThrow(TypeError)
    expect(() => resolvePollOptions<number>({ interval: -1, name: 'job' })).toThrow(TypeError)
  })
})

describe('unknown option names', () => {
  it('every documented poll() option is known', () => {
    for (const [name, [value, other]] of Object.entries(variants)) {
      expect(() => resolvePollOptions({ [name]: value })).not.toThrow()
      expect(() => resolvePollOptions({ [name]: other })).not.toThrow()
    }
  })

  it('a misspelled poll() option is a TypeError with a hint, also beside otherwise valid options', () => {
    const isDone = fn()
    resolvePollOptions({ interval: 100, isDone })
    expect(() =>
      resolvePollOptions({ interval: 100, isDone, dedline: 1_000 } as PollOptions<number>),
    ).toThrow(
      new TypeError(
        'Expected `dedline` to be a known option of poll()/watch() (did you mean `deadline`?), got `1000` (number)',
      ),
    )
  })

  it('nested stall and retry options, every() and PollLimiter options are checked too', () => {
    expect(() => resolvePollOptions({ stall: { afer: 2 } } as PollOptions<number>)).toThrow(
      /`afer` to be a known option of `stall` \(did you mean `after`\?\)/,
    )
    expect(() => resolvePollOptions({ retry: { retires: 2 } } as PollOptions<number>)).toThrow(
      /`retires` to be a known option of `retry` \(did you mean `retries`\?\)/,
    )
    expect(() => new PollLimiter({ maxConcurent: 2 } as never)).toThrow(/did you mean `maxConcurrent`/)
  })

  it('a phases() entry with an unknown key is a TypeError naming the entry, with a hint when one is close', () => {
    expect(() => phases([{ every: '1s', fro: '1m' } as never])).toThrow(
      new TypeError(
        "Expected `fro` to be a known option of `phases[0]` (`until`, `every`), got `'1m'` (string)",
      ),
    )
    expect(() => phases([{ until: 50, every: '2s' }, { evry: '1s' } as never])).toThrow(
      new TypeError(
        "Expected `evry` to be a known option of `phases[1]` (did you mean `every`?), got `'1s'` (string)",
      ),
    )
    expect(phases([{ until: 50, every: '2s' }, { every: '1s' }]).intervalFor(60)).toBe(1_000)
  })
})
