import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type CapacitySample, capacity, fitUsl, uslPeak, uslThroughput } from '../src/index'

const LEVELS = [1, 2, 4, 8, 16, 32, 64, 128]

/** Steps whose throughput follows the law exactly (times `noise[i]`), with p99 growing with load. */
function synthetic(
  model: { sigma: number; kappa: number; lambda: number },
  levels = LEVELS,
  noise: readonly number[] = [],
): CapacitySample[] {
  return levels.map((n, i) => {
    const rps = uslThroughput(model, n) * (noise[i] ?? 1)
    // Little's law: time in system = N / X, in ms; the tail a fixed multiple of it.
    const mean = (n / rps) * 1000
    return { concurrency: n, rps, p50: mean, p95: mean * 2, p99: mean * 3, errors: 0 }
  })
}

describe('fitUsl', () => {
  it('recovers σ, κ and λ from exact points', () => {
    const truth = { sigma: 0.08, kappa: 0.0004, lambda: 250 }
    const fit = fitUsl(synthetic(truth))
    expect(fit.lambda).toBeCloseTo(truth.lambda, 0)
    expect(fit.sigma).toBeCloseTo(truth.sigma, 3)
    expect(fit.kappa).toBeCloseTo(truth.kappa, 5)
    expect(fit.r2).toBeGreaterThan(0.9999)
  })

  it('recovers the law from noisy points (±3%) within the noise', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.double({ min: 0, max: 0.002, noNaN: true }),
        fc.double({ min: 10, max: 5_000, noNaN: true }),
        // Noise at its ±3% bounds is where a least-squares fit strays most: drawn often.
        fc.array(fc.oneof(fc.constantFrom(0.97, 1.03), fc.double({ min: 0.97, max: 1.03, noNaN: true })), {
          minLength: LEVELS.length,
          maxLength: LEVELS.length,
        }),
        (sigma, kappa, lambda, noise) => {
          const truth = { sigma, kappa, lambda }
          const steps = synthetic(truth, LEVELS, noise)
          const fit = fitUsl(steps)
          // The fit is a least-squares optimum: never worse than the law that made the data.
          const sse = (m: typeof truth) =>
            steps.reduce((sum, s) => sum + (s.rps - uslThroughput(m, s.concurrency)) ** 2, 0)
          expect(sse(fit)).toBeLessThanOrEqual(sse(truth) * (1 + 1e-6))
          expect(fit.sigma).toBeGreaterThanOrEqual(0)
          expect(fit.sigma).toBeLessThanOrEqual(1)
          expect(fit.kappa).toBeGreaterThanOrEqual(0)
          // The bounds below leave a margin over the worst case of every pattern of ±3% corners
          // (2^8 of them) on a grid of σ ≤ 0.3 and κ ≤ 0.002: 0.897–1.108 of the law at a level,
          // λ off by 10.8 %, σ by 0.043, κ by 0.00038. Least squares weighs the high-throughput
          // levels most, so the low ones can carry more than the noise of a single point.
          for (const n of LEVELS) {
            const ratio = uslThroughput(fit, n) / uslThroughput(truth, n)
            expect(ratio).toBeGreaterThan(0.88)
            expect(ratio).toBeLessThan(1.12)
          }
          // The coefficients, as far as noise lets them be told apart.
          expect(Math.abs(fit.lambda / lambda - 1)).toBeLessThan(0.12)
          expect(Math.abs(fit.sigma - sigma)).toBeLessThan(0.05)
          expect(Math.abs(fit.kappa - kappa)).toBeLessThan(0.0005)
        },
      ),
      {
        numRuns: 200,
        examples: [
          // Fits at the edge of the old bounds: 0.91999999 of the law at level 1, and 0.904
          [0.0026849134928782306, 0, 10, [0.97, 0.97, 0.97, 0.97, 0.97, 0.97, 1.0278444404410896, 1.03]],
          [0.05, 0.0005, 10, [0.97, 0.97, 0.97, 0.97, 0.97, 1.03, 1.03, 0.97]],
        ],
      },
    )
  })

  it('places the peak at sqrt((1−σ)/κ)', () => {
    expect(uslPeak({ sigma: 0.1, kappa: 0.001 })).toBeCloseTo(30, 10)
    expect(uslPeak({ sigma: 0.2, kappa: 0 })).toBe(Number.POSITIVE_INFINITY)
    expect(uslPeak({ sigma: 1, kappa: 0.01 })).toBe(1)
  })
})

describe('capacity', () => {
  const truth = { sigma: 0.05, kappa: 0.0003, lambda: 200 }

  it('finds the knee under the p99 target and fits the law', () => {
    const steps = synthetic(truth)
    const plan = capacity(steps)
    const under = steps.filter((s) => s.p99 < 100)
    const best = under.reduce((a, b) => (b.rps > a.rps ? b : a))
    expect(plan.knee).toEqual({ concurrency: best.concurrency, rps: best.rps, p99: best.p99 })
    expect(plan.targetP99).toBe(100)
    expect(plan.peakConcurrency).toBeCloseTo(Math.sqrt((1 - truth.sigma) / truth.kappa), 0)
    expect(plan.peakRps).toBeCloseTo(uslThroughput(truth, plan.peakConcurrency), -1)
    expect(plan.concurrencyTable.map((r) => r.concurrency)).toEqual(
      [...LEVELS, Math.round(plan.peakConcurrency), 256, 512].sort((a, b) => a - b),
    )
    expect(plan.concurrencyTable.find((r) => r.concurrency === 256)!.measuredRps).toBeNull()
    const perInstance = uslThroughput(plan.usl, best.concurrency)
    expect(plan.instanceTable.map((r) => r.instances)).toEqual([1, 2, 4])
    expect(plan.instanceTable[2]!.predictedRps).toBeCloseTo(perInstance * 4, -1)
    expect(plan.verdict).toBe(
      `this instance: ~${Math.round(best.rps).toLocaleString('en-US')} req/s at p99 < 100ms; ` +
        `4 instances: ~${Math.round(plan.instanceTable[2]!.predictedRps).toLocaleString('en-US')} req/s by the fitted model`,
    )
  })

  it('takes the target as a duration string and discounts instances by scaleOut', () => {
    const steps = synthetic(truth)
    const strict = capacity(steps, { targetP99: '20ms', instances: [1, 10], scaleOut: { sigma: 0.1 } })
    expect(strict.targetP99).toBe(20)
    expect(strict.knee!.p99).toBeLessThan(20)
    expect(strict.knee!.rps).toBeLessThan(capacity(steps).knee!.rps)
    const one = strict.instanceTable[0]!.predictedRps
    // Ten instances with a 10% serial share: 10 / (1 + 0.1 × 9) ≈ 5.26× one instance.
    expect(strict.instanceTable[1]!.predictedRps / one).toBeCloseTo(10 / 1.9, 2)
    expect(strict.verdict).toContain('p99 < 20ms; 10 instances')
  })

  it('skips steps with too many errors', () => {
    const steps = synthetic(truth).map((s) => (s.concurrency === 16 ? { ...s, errors: 0.2 } : s))
    const plan = capacity(steps, { targetP99: '1s' })
    expect(plan.knee!.concurrency).not.toBe(16)
    expect(capacity(steps, { targetP99: '1s', maxErrorRate: 0.5 }).knee).not.toBeNull()
  })

  it('handles a single step: λ from that step, no contention terms', () => {
    const plan = capacity([{ concurrency: 8, rps: 400, p50: 15, p95: 18, p99: 20, errors: 0 }])
    expect(plan.knee).toEqual({ concurrency: 8, rps: 400, p99: 20 })
    expect(plan.usl.sigma).toBe(0)
    expect(plan.usl.kappa).toBe(0)
    expect(plan.usl.lambda).toBeCloseTo(50, 6)
    expect(plan.peakConcurrency).toBe(Number.POSITIVE_INFINITY)
    expect(plan.verdict).toBe(
      'this instance: ~400 req/s at p99 < 100ms; 4 instances: ~1,600 req/s by the fitted model',
    )
  })

  it('reads a flat curve as full contention: the peak is at concurrency 1', () => {
    const steps = [4, 8, 16, 32].map((n) => ({ concurrency: n, rps: 300, p50: n, p95: n, p99: n, errors: 0 }))
    const plan = capacity(steps)
    expect(plan.usl.sigma).toBeGreaterThan(0.99)
    expect(plan.usl.lambda).toBeCloseTo(300, 0)
    expect(plan.peakConcurrency).toBeLessThan(5)
    for (const row of plan.concurrencyTable) expect(row.predictedRps).toBeCloseTo(300, -1)
  })

  it('says so when every step is above the target', () => {
    const steps = synthetic(truth).map((s) => ({ ...s, p99: 150 + s.concurrency }))
    const plan = capacity(steps)
    expect(plan.knee).toBeNull()
    expect(plan.instanceTable.every((r) => r.predictedRps === 0)).toBe(true)
    expect(plan.verdict).toBe(
      `no step kept p99 < 100ms within 1.0% errors (best p99 151ms at concurrency 1, ~${Math.round(steps[0]!.rps)} req/s)`,
    )
    expect(Number.isFinite(plan.usl.lambda)).toBe(true)
  })

  it('sorts steps by concurrency and leaves the input alone', () => {
    const steps = synthetic(truth).reverse()
    const copy = structuredClone(steps)
    const plan = capacity(steps)
    expect(plan.steps.map((s) => s.concurrency)).toEqual(LEVELS)
    expect(steps).toEqual(copy)
  })

  it('rejects bad input with TypeErrors naming the field', () => {
    const ok = { concurrency: 1, rps: 1, p50: 1, p95: 1, p99: 1, errors: 0 }
    const bad: [unknown, unknown, string][] = [
      [[], undefined, 'Expected `samples` to be a non-empty array of steps, got `[array of 0]` (array)'],
      ['steps', undefined, 'Expected `samples` to be a non-empty array of steps'],
      [[null], undefined, 'Expected `samples[0]` to be a step object, got `null` (null)'],
      [[{ ...ok, concurrency: 0 }], undefined, 'Expected `samples[0].concurrency` to be an integer >= 1'],
      [[ok, { ...ok, rps: Number.NaN }], undefined, 'Expected `samples[1].rps` to be a finite number >= 0'],
      [[{ ...ok, p99: -1 }], undefined, 'Expected `samples[0].p99` to be a finite number >= 0'],
      [
        [{ ...ok, errors: 2 }],
        undefined,
        'Expected `samples[0].errors` to be a finite number between 0 and 1',
      ],
      [
        [{ ...ok, elu: 'high' }],
        undefined,
        'Expected `samples[0].elu` to be a finite number between 0 and 1',
      ],
      [[{ ...ok, p90: 1 }], undefined, 'Expected `p90` to be a known option of a capacity() step'],
      [[ok], { targetP99: '100 msec' }, 'Expected `targetP99` to be a duration'],
      [[ok], { targetP99: 0 }, 'Expected `targetP99` to be a duration > 0'],
      [[ok], { targetp99: 50 }, 'did you mean `targetP99`?'],
      [[ok], { maxErrorRate: 1.5 }, 'Expected `maxErrorRate` to be a finite number between 0 and 1'],
      [[ok], { instances: [] }, 'Expected `instances` to be a non-empty array of integers >= 1'],
      [[ok], { instances: [1, 2.5] }, 'Expected `instances[1]` to be an integer >= 1'],
      [[ok], { scaleOut: { kappa: -1 } }, 'Expected `scaleOut.kappa` to be a finite number >= 0'],
      [[ok], 'fast', 'Expected `options` to be an options object'],
    ]
    for (const [samples, options, message] of bad) {
      expect(() => capacity(samples as CapacitySample[], options as never)).toThrow(TypeError)
      expect(() => capacity(samples as CapacitySample[], options as never)).toThrow(message)
    }
  })
})
