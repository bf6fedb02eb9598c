import { describe, expect, it } from 'vitest'
import { singleFlight } from '../src/index'

describe('singleFlight', () => {
  it('runs one call per key for 1,000 concurrent callers and shares the result', async () => {
    const flight = singleFlight<string, number>()
    let calls = 0
    const results = await Promise.all(
      Array.from({ length: 1_000 }, () =>
        flight.do('k', async () => {
          calls++
          await new Promise((r) => setTimeout(r, 5))
          return 42
        }),
      ),
    )
    expect(calls).toBe(1)
    expect(new Set(results)).toEqual(new Set([42]))
    expect(flight.size).toBe(0)
  })

  it('shares errors but does not cache them', async () => {
    const flight = singleFlight<string, number>()
    let calls = 0
    const failing = () => {
      calls++
      return Promise.reject(new Error('down'))
    }
    const outcomes = await Promise.allSettled([flight.do('k', failing), flight.do('k', failing)])
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected'])
    expect(calls).toBe(1)
    await expect(flight.do('k', () => 7)).resolves.toBe(7)
    expect(calls).toBe(1)
  })

  it('keeps keys apart and turns a synchronous throw into a rejection', async () => {
    const flight = singleFlight<string, string>()
    const [a, b] = await Promise.all([flight.do('a', () => 'A'), flight.do('b', () => 'B')])
    expect([a, b]).toEqual(['A', 'B'])
    await expect(
      flight.do('c', () => {
        throw new Error('sync')
      }),
    ).rejects.toThrow('sync')
    expect(flight.has('c')).toBe(false)
  })

  it('forget lets the next caller start a fresh call', async () => {
    const flight = singleFlight<string, number>()
    let n = 0
    let release!: () => void
    const first = flight.do('k', () => new Promise<number>((r) => (release = () => r(++n))))
    flight.forget('k')
    const second = flight.do('k', async () => 100)
    release()
    expect(await first).toBe(1)
    expect(await second).toBe(100)
  })
})
