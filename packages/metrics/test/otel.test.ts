import { describe, expect, it } from 'vitest'
import { createRegistry } from '../src/index'
import { otelBridge } from '../src/otel'
import { runFixture } from './fixtures/run'

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
