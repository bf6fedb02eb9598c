import { describe, expect, it } from 'vitest'
import { createRegistry } from '../src/index'
import { otelBridge, otelProducer } from '../src/otel'
import { runFixture } from './fixtures/run'

interface ExportedMetric {
  descriptor: { name: string; unit: string; description: string }
  dataPointType: number
  aggregationTemporality: number
  isMonotonic?: boolean
  dataPoints: Array<{ attributes: Record<string, string>; value: unknown }>
}

// The OpenTelemetry SDK cannot load under the test runner's `module` resolve condition (its ESM
// build uses extensionless imports), so the bridge runs against the real SDK in a child process.
describe('OpenTelemetry bridge', () => {
  it('feeds observable instruments from the registry, including metrics registered later', async () => {
    const { stdout, stderr } = await runFixture('otel-child.ts')
    expect(stderr).toBe('')
    const { first, after } = JSON.parse(stdout)
    expect(first.jobs).toEqual([{ attributes: { kind: 'email' }, value: 4 }])
    expect(first.latency_count[0].value).toBe(100)
    expect(first.latency_sum[0].value).toBe(5050)
    const q = first.latency_quantile as Array<{ attributes: { quantile: string }; value: number }>
    expect(q.find((p) => p.attributes.quantile === '0.5')!.value).toBeCloseTo(50, 0)
    expect(q.find((p) => p.attributes.quantile === '0.99')!.value).toBeCloseTo(99, 0)
    expect(first.queue).toEqual([{ attributes: {}, value: 9 }])
    // after close() the bridge no longer observes: the value stays at what was last exported
    expect(after.jobs?.[0]?.value ?? 4).toBe(4)
  })

  it('otelProducer exports histograms as OTel HISTOGRAM points through a MeterProvider reader', async () => {
    const { stdout, stderr } = await runFixture('otel-producer-child.ts')
    expect(stderr).toBe('')
    const { exported, hdr, values } = JSON.parse(stdout) as {
      exported: Array<{ scopeMetrics: Array<{ scope: { name: string }; metrics: ExportedMetric[] }> }>
      hdr: Array<{ name: string; series: Array<Record<string, number>> }>
      values: number[]
    }
    const scope = exported.at(-1)!.scopeMetrics.find((s) => s.scope.name === '@hotpath/metrics')!
    const byName = new Map(scope.metrics.map((m) => [m.descriptor.name, m]))
    expect([...byName.keys()].sort()).toEqual(['app_jobs', 'app_latency', 'app_payload', 'app_queue'])
    const latency = byName.get('app_latency')!
    expect(latency.dataPointType).toBe(0) // DataPointType.HISTOGRAM
    expect(latency.aggregationTemporality).toBe(1) // CUMULATIVE
    expect(latency.descriptor.unit).toBe('s')
    const point = latency.dataPoints[0]!
    expect(point.attributes).toEqual({ route: '/chat' })
    const stats = hdr.find((m) => m.name === 'latency')!.series[0]!
    const bounds = [10, 100, 1000]
    const expected = [...bounds, Number.POSITIVE_INFINITY].map(
      (b, i) => values.filter((v) => v <= b && (i === 0 || v > bounds[i - 1]!)).length,
    )
    expect(point.value).toEqual({
      buckets: { boundaries: [0.01, 0.1, 1], counts: expected },
      count: stats.count,
      sum: stats.sum! / 1000,
      min: stats.min! / 1000,
      max: stats.max! / 1000,
    })
    expect(point.value).toMatchObject({ count: 6, sum: 5.514, min: 0.003, max: 5 })
    const payload = byName.get('app_payload')!
    expect(payload.descriptor).toMatchObject({ unit: 'By', description: 'Payload size.' })
    expect(payload.dataPoints[0]!.value).toMatchObject({ count: 1, sum: 2048, min: 2048, max: 2048 })
    expect(byName.get('app_jobs')).toMatchObject({
      dataPointType: 3, // SUM
      isMonotonic: true,
      dataPoints: [{ attributes: { kind: 'email' }, value: 4 }],
    })
    expect(byName.get('app_queue')).toMatchObject({ dataPointType: 2, dataPoints: [{ value: 9 }] })
  })

  it('otelProducer refuses unknown options', () => {
    expect(() => otelProducer(createRegistry(), { scopes: 'x' } as never)).toThrow(/scope/)
  })

  it('refuses a missing meter', () => {
    expect(() => otelBridge(createRegistry(), {} as never)).toThrow(
      'Expected `meter` to be an OpenTelemetry Meter, got `undefined` (undefined)',
    )
  })

  it('is not part of the main entry point', async () => {
    const main = await import('../src/index')
    expect(Object.keys(main)).not.toContain('otelBridge')
  })
})
