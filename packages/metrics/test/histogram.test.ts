import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRegistry, HistogramDecodeError } from '../src/index'

function logNormal(n: number, start = 42): Float64Array {
  let s = start
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return (s + 0.5) / 4294967296
  }
  const out = new Float64Array(n)
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(rand()))
    const t = 2 * Math.PI * rand()
    out[i] = Math.exp(3 + 1 * r * Math.cos(t))
    if (i + 1 < n) out[i + 1] = Math.exp(3 + 1 * r * Math.sin(t))
  }
  return out
}

describe('HDR precision', () => {
  it('keeps p50..p999 within 0.1% of the exact sorted values on 1M log-normal samples', () => {
    const registry = createRegistry()
    const h = registry.histogram('latency', { unit: 'ms', significantDigits: 3 })
    const samples = logNormal(1_000_000)
    for (const v of samples) h.record(v)
    const sorted = Float64Array.from(samples).sort()
    const stats = h.with({}).stats()
    const exact = (p: number) => sorted[Math.ceil((p / 100) * sorted.length) - 1]!
    for (const [p, got] of [
      [50, stats.p50],
      [90, stats.p90],
      [95, stats.p95],
      [99, stats.p99],
      [99.9, stats.p999],
    ] as const) {
      const want = exact(p)
      expect(Math.abs(got - want), `p${p}: ${got} vs ${want}`).toBeLessThanOrEqual(want * 1e-3 + 0.001)
    }
    expect(stats.count).toBe(1_000_000)
    expect(stats.min).toBe(sorted[0])
    expect(stats.max).toBe(sorted[sorted.length - 1])
    const exactSum = samples.reduce((a, b) => a + b, 0)
    expect(stats.sum).toBeCloseTo(exactSum, 3)
  })

  it('property: percentiles stay within the stated precision, min/max/count exact', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.constantFrom(50, 90, 99, 99.9, 100),
        fc.constantFrom(1, 2, 3, 4),
        (values, p, digits) => {
          const h = createRegistry().histogram('x', { unit: 'ms', significantDigits: digits })
          for (const v of values) h.record(v)
          const s = h.with({})
          const got = s.active.percentiles([p])[0]!
          const sorted = [...values].sort((a, b) => a - b)
          const want = sorted[Math.max(Math.ceil((p / 100) * sorted.length), 1) - 1]!
          expect(Math.abs(got - want)).toBeLessThanOrEqual(want * 10 ** -digits + 0.001)
          const st = s.stats()
          expect(st.count).toBe(values.length)
          expect(st.min).toBe(sorted[0])
          expect(st.max).toBe(sorted[sorted.length - 1])
        },
      ),
      { numRuns: 200 },
    )
  })

  it('honours significantDigits, lowest and highest; clamps values above highest', () => {
    const h = createRegistry().histogram('sizes', { unit: 'bytes', significantDigits: 2, highest: 10_000 })
    h.record(123_456)
    h.record(50)
    const s = h.with({})
    expect(s.active.clamped).toBe(1)
    const [p50] = s.active.percentiles([50])
    expect(Math.abs(p50! - 50)).toBeLessThanOrEqual(0.5)
    expect(s.active.counts.length).toBeLessThanOrEqual(s.active.layout.length)
    expect(s.stats().max).toBe(123_456)
  })

  it('refuses negative, non-finite and non-number values as dropped without touching the series', () => {
    const registry = createRegistry({ interval: false })
    const h = registry.histogram('x', { unit: 'ms' })
    const s = h.with({})
    s.record(5)
    s.record(20)
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) s.record(bad)
    for (const bad of ['5', '1000', null, undefined, {}, 10n, true]) s.record(bad as never)
    s.recordMany(Number.POSITIVE_INFINITY, 3)
    s.recordMany(7, Number.NaN)
    h.record(Number.POSITIVE_INFINITY)
    const stats = s.stats()
    expect(stats).toMatchObject({ count: 2, sum: 25, min: 5, max: 20, mean: 12.5, dropped: 16 })
    expect(typeof stats.min).toBe('number')
    expect(stats.p99).toBeCloseTo(20, 0)
    expect(s.dropped).toBe(16)
    const snap = registry.snapshot().metrics[0]!.series[0]!
    expect(snap).toMatchObject({ count: 2, sum: 25, max: 20, dropped: 16 })
    // dropped values of an interval stay in that interval
    registry.rollover()
    s.record(Number.NaN)
    expect(s.stats('interval').dropped).toBe(16)
    registry.rollover()
    expect(s.stats('interval')).toMatchObject({ count: 0, dropped: 1 })
    expect(s.stats('cumulative')).toMatchObject({ count: 2, sum: 25, dropped: 17 })
  })

  it('startTimer records the elapsed time in the unit', async () => {
    const registry = createRegistry()
    const ms = registry.histogram('timer_a', { unit: 'ms' })
    const s = registry.histogram('timer_b', { unit: 's' })
    const stopMs = ms.startTimer()
    const stopS = s.startTimer()
    await new Promise((r) => setTimeout(r, 20))
    const a = stopMs()
    const b = stopS()
    expect(a).toBeGreaterThanOrEqual(15)
    expect(b).toBeGreaterThan(0.015)
    expect(b).toBeLessThan(1)
    expect(ms.with({}).stats().count).toBe(1)
  })

  it('record allocates nothing: no minor GC during 5M records through a handle', async () => {
    const { PerformanceObserver } = await import('node:perf_hooks')
    const h = createRegistry()
      .histogram('alloc', { labels: ['route'] })
      .with({ route: '/' })
    const values = new Float64Array(1024).map((_, i) => 1 + i * 0.37)
    for (let i = 0; i < 100_000; i++) h.record(values[i & 1023]!)
    const gcs: string[] = []
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcs.push(e.name)
    })
    await new Promise((r) => setTimeout(r, 20))
    observer.observe({ entryTypes: ['gc'] })
    for (let i = 0; i < 5_000_000; i++) h.record(values[i & 1023]!)
    await new Promise((r) => setTimeout(r, 50))
    observer.disconnect()
    expect(gcs.length).toBeLessThanOrEqual(1)
  })
})

describe('interval view', () => {
  it('values recorded in one interval never leak into the next', () => {
    const registry = createRegistry()
    const h = registry.histogram('lat', { labels: ['route'] })
    const c = registry.counter('req')
    const a = h.with({ route: '/a' })
    for (let i = 0; i < 100; i++) a.record(1000)
    c.inc(100)
    registry.rollover()
    for (let i = 0; i < 10; i++) a.record(1)
    c.inc(10)
    // the open interval is not visible in the interval view yet
    expect(a.stats('interval')).toMatchObject({ count: 100, min: 1000, max: 1000 })
    registry.rollover()
    const second = a.stats('interval')
    expect(second).toMatchObject({ count: 10, min: 1, max: 1, p999: 1 })
    expect(a.stats('cumulative').count).toBe(110)
    registry.rollover()
    expect(a.stats('interval').count).toBe(0)
    expect(a.stats('cumulative')).toMatchObject({ count: 110, min: 1, max: 1000 })
    const snap = registry.snapshot({ view: 'interval' })
    expect(snap.metrics.find((m) => m.name === 'req')!.series[0]!.value).toBe(0)
    expect(registry.snapshot().metrics.find((m) => m.name === 'req')!.series[0]!.value).toBe(110)
  })

  it('property: interval figures equal exactly what was recorded in that interval', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 50 }), {
          minLength: 1,
          maxLength: 8,
        }),
        (intervals) => {
          const registry = createRegistry()
          const h = registry.histogram('x', { unit: 'us' }).with({})
          let total = 0
          for (const values of intervals) {
            for (const v of values) h.record(v)
            registry.rollover()
            total += values.length
            const st = h.stats('interval')
            expect(st.count).toBe(values.length)
            expect(st.sum).toBe(values.reduce((a, b) => a + b, 0))
            if (values.length) expect(st.max).toBe(Math.max(...values))
          }
          expect(h.stats().count).toBe(total)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('rolls over on the interval timer', async () => {
    const { vi } = await import('vitest')
    vi.useFakeTimers()
    try {
      const registry = createRegistry({ interval: '1m' })
      const h = registry.histogram('x').with({})
      h.record(5)
      vi.advanceTimersByTime(60_000)
      expect(h.stats('interval').count).toBe(1)
      h.record(6)
      vi.advanceTimersByTime(60_000)
      expect(h.stats('interval')).toMatchObject({ count: 1, max: 6 })
      expect(registry.snapshot({ view: 'interval' }).intervalMs).toBe(60_000)
      await registry.close()
      vi.advanceTimersByTime(60_000)
      expect(h.stats('interval')).toMatchObject({ count: 1, max: 6 })
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('merge across workers', () => {
  it('merges HDR-encoded histograms from several workers', async () => {
    const workers = [1, 2, 3].map(() => createRegistry().histogram('lat', { unit: 'ms' }).with({}))
    const samples = logNormal(30_000, 7)
    for (let i = 0; i < samples.length; i++) workers[i % 3]!.record(samples[i]!)
    const encoded = await Promise.all(workers.map((w) => w.encode()))
    expect(encoded[0]).toMatch(/^[A-Za-z0-9+/=]+$/)
    const total = createRegistry().histogram('lat', { unit: 'ms' }).with({})
    for (const e of encoded) await total.merge(e)
    const direct = createRegistry().histogram('lat', { unit: 'ms' }).with({})
    for (const v of samples) direct.record(v)
    const a = total.stats()
    const b = direct.stats()
    expect(a.count).toBe(30_000)
    for (const k of ['p50', 'p90', 'p99', 'p999'] as const) expect(a[k]).toBeCloseTo(b[k], 1)
    expect(a.mean).toBeCloseTo(b.mean, 0)
  })

  it('merges a histogram encoded by another HdrHistogram implementation (hdr-histogram-js)', async () => {
    const hdr = await import('hdr-histogram-js')
    // integer microseconds, 2 significant digits: the internal units of a 'ms' histogram
    const foreign = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3.6e9,
      numberOfSignificantValueDigits: 2,
    })
    for (let i = 1; i <= 1_000; i++) foreign.recordValue(i * 1_000)
    const ours = createRegistry().histogram('lat', { unit: 'ms' }).with({})
    await ours.merge(hdr.encodeIntoCompressedBase64(foreign))
    const st = ours.stats()
    expect(st.count).toBe(1_000)
    expect(st.p50).toBeGreaterThanOrEqual(500 * 0.99)
    expect(st.p50).toBeLessThanOrEqual(500 * 1.01)
    expect(st.p99).toBeGreaterThanOrEqual(990 * 0.99)
    expect(st.p99).toBeLessThanOrEqual(990 * 1.01)
    expect(st.mean).toBeCloseTo(500.5, -1)
  })

  it('merged tiny values keep every count in reads (bucket-edge rounding)', async () => {
    const src = createRegistry().histogram('a', { unit: 'ms' }).with({})
    const values = [0.001, 0.003, 0.007, 0.011, 0.029, 0.057, 0.1, 0.113]
    for (const v of values) src.record(v)
    const dst = createRegistry().histogram('a', { unit: 'ms' }).with({})
    await dst.merge(await src.encode())
    const st = dst.stats()
    expect(st.count).toBe(values.length)
    expect(dst.active.percentiles([100])[0]).toBeCloseTo(0.113, 2)
    dst.active.reset()
    expect(dst.active.counts.every((c) => c === 0)).toBe(true)
  })

  it('refuses garbage and histograms of another precision', async () => {
    const h = createRegistry().histogram('a').with({})
    await expect(h.merge('not base64!')).rejects.toBeInstanceOf(HistogramDecodeError)
    const other = createRegistry().histogram('b', { significantDigits: 3 }).with({})
    other.record(5)
    await expect(h.merge(await other.encode())).rejects.toMatchObject({ code: 'E_METRICS_DECODE' })
  })
})
