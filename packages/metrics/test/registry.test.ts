import diagnostics from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import {
  type CardinalityWarning,
  createRegistry,
  LabelError,
  MetricConflictError,
  OVERFLOW_LABEL_VALUE,
} from '../src/index'

describe('registry', () => {
  it('counts, sets and records through pre-bound handles', () => {
    const registry = createRegistry()
    const requests = registry.counter('http_requests', { labels: ['status'], help: 'Requests' })
    const inFlight = registry.gauge('in_flight')
    const ok = requests.with({ status: 200 })
    expect(requests.with({ status: '200' })).toBe(ok)
    ok.inc()
    ok.inc(2)
    requests.inc(1, { status: 500 })
    inFlight.inc()
    inFlight.inc()
    inFlight.dec()
    inFlight.set(7)
    const snap = registry.snapshot()
    expect(snap.view).toBe('cumulative')
    expect(snap.metrics[0]).toMatchObject({
      name: 'http_requests',
      type: 'counter',
      help: 'Requests',
      series: [
        { labels: { status: '200' }, value: 3 },
        { labels: { status: '500' }, value: 1 },
      ],
    })
    expect(snap.metrics[1]!.series).toEqual([{ labels: {}, value: 7 }])
    expect(() => ok.inc(-1)).toThrow('Expected `amount` to be a number >= 0, got `-1` (number)')
  })

  it('returns the same metric for an identical definition and refuses a conflicting one', () => {
    const registry = createRegistry()
    const a = registry.histogram('lat', { labels: ['route'] })
    expect(registry.histogram('lat', { labels: ['route'] })).toBe(a)
    expect(() => registry.counter('lat')).toThrow(MetricConflictError)
    expect(() => registry.histogram('lat', { labels: ['path'] })).toThrow(
      /already registered with labels \[route\]/,
    )
    expect(() => registry.histogram('lat', { labels: ['route'], unit: 's' })).toThrow(/unit 'ms'/)
    expect(registry.get('lat')).toBe(a)
  })

  it('checks label values against the declared names', () => {
    const registry = createRegistry()
    const h = registry.histogram('lat', { labels: ['route', 'method'] })
    expect(() => h.with({ route: '/' } as never)).toThrow(LabelError)
    expect(() => h.with({ route: '/', method: 'GET', extra: 1 } as never)).toThrow(/unknown label `extra`/)
    expect(() => h.record(1)).toThrow(/declares labels \[route, method\]/)
    const s = h.with({ route: '/', method: 'GET' })
    expect(s.labels).toEqual({ route: '/', method: 'GET' })
    expect(h.with({ method: 'GET', route: '/' })).toBe(s)
    expect(() => h.with(null as never)).toThrow(LabelError)
    const byStatus = registry.counter('by_status', { labels: ['status', 'ok'] })
    const a = byStatus.with({ status: 200, ok: true })
    expect(byStatus.with({ status: '200', ok: 'true' })).toBe(a)
    expect(byStatus.with({ status: 200, ok: true })).toBe(a)
    expect(byStatus.size).toBe(1)
  })

  it('validates options with the standard message', () => {
    expect(() => createRegistry({ maxSeries: 0 })).toThrow(
      'Expected `maxSeries` to be an integer between 1 and 1000000, got `0` (number)',
    )
    const registry = createRegistry()
    expect(() => registry.counter('bad name')).toThrow(/Expected `name` to be a metric name/)
    expect(() => registry.counter('x', { labels: ['le'] })).toThrow(/Expected `labels`/)
    expect(() => registry.counter('x', { labels: ['a', 'a'] })).toThrow(/unique label names/)
    expect(() => registry.histogram('h', { significantDigits: 6 })).toThrow(
      'Expected `significantDigits` to be an integer between 1 and 5, got `6` (number)',
    )
    expect(() => registry.histogram('h', { lowest: 0 })).toThrow(
      'Expected `lowest` to be a finite number > 0',
    )
    expect(() => registry.histogram('h', { buckets: [2, 1] })).toThrow(/Expected `buckets`/)
    expect(() => createRegistry({ interval: 'soon' as never })).toThrow(TypeError)
  })

  it('cardinality: 10,000 label combinations stay within the limit, overflow series present, warned once', () => {
    const warnings: CardinalityWarning[] = []
    const listener = (m: unknown) => warnings.push(m as CardinalityWarning)
    diagnostics.subscribe('hotpath:metrics:cardinality', listener)
    try {
      const registry = createRegistry()
      const h = registry.histogram('by_user', { labels: ['user'] })
      const c = registry.counter('hits', { labels: ['user'], maxSeries: 10 })
      for (let i = 0; i < 2_000; i++) h.with({ user: `u${i}` }).record(i)
      const heapAtLimit = process.memoryUsage().heapUsed
      for (let i = 2_000; i < 10_000; i++) h.with({ user: `u${i}` }).record(i)
      for (let i = 0; i < 10_000; i++) c.with({ user: `u${i}` }).inc()
      const heapAfter = process.memoryUsage().heapUsed
      expect(h.size).toBe(2_000)
      expect(h.refused).toBe(8_000)
      expect(c.size).toBe(10)
      const series = [...h.series()]
      expect(series).toHaveLength(2_001)
      const overflow = series[2_000]!
      expect(overflow.overflow).toBe(true)
      expect(overflow.labels).toEqual({ user: OVERFLOW_LABEL_VALUE })
      expect(overflow.stats().count).toBe(8_000)
      expect(h.with({ user: 'u5' }).stats().count).toBe(1)
      // 8,000 more combinations cost no series: far less than one series' worth each
      expect(heapAfter - heapAtLimit).toBeLessThan(8 * 1024 * 1024)
      expect(warnings).toEqual([
        { metric: 'by_user', limit: 2_000, labels: { user: 'u2000' } },
        { metric: 'hits', limit: 10, labels: { user: 'u10' } },
      ])
      expect(registry.stats()).toMatchObject({ refused: 8_000 + 9_990, overflowed: ['by_user', 'hits'] })
    } finally {
      diagnostics.unsubscribe('hotpath:metrics:cardinality', listener)
    }
  })

  it('runs beforeRead collectors before a snapshot, isolating failures', () => {
    const registry = createRegistry()
    const g = registry.gauge('polled')
    let n = 0
    const off = registry.beforeRead(() => g.set(++n))
    registry.beforeRead(() => {
      throw new Error('broken source')
    })
    expect(registry.snapshot().metrics[0]!.series[0]!.value).toBe(1)
    off()
    expect(registry.snapshot().metrics[0]!.series[0]!.value).toBe(1)
  })
})
