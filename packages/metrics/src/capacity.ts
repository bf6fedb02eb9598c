import {
  checkInteger,
  checkKnownOptions,
  checkNumber,
  checkOptionsObject,
  type Duration,
  formatDuration,
  invalidOption,
  parseDuration,
  readOptions,
} from '@hotpath/core'
import { fitUsl, type UslModel, uslPeak, uslThroughput } from './usl'

/**
 * One step of a load test: what the service did at one concurrency level.
 *
 * @example
 * const step: CapacitySample = { concurrency: 32, rps: 1850, p50: 14, p95: 31, p99: 48, errors: 0, elu: 0.71 }
 */
export interface CapacitySample {
  /** Requests kept in flight by the load generator (an integer >= 1). */
  concurrency: number
  /** Throughput measured at that level, requests per second. */
  rps: number
  /** Latency percentiles, milliseconds. */
  p50: number
  p95: number
  p99: number
  /** Share of requests that failed, 0..1. */
  errors: number
  /** The server's event-loop utilization during the step, 0..1, when known. */
  elu?: number
}

/**
 * Options of {@link capacity}.
 *
 * @example
 * capacity(steps, { targetP99: '250ms', maxErrorRate: 0.001, instances: [1, 3, 6] })
 */
export interface CapacityOptions {
  /** Latency objective: the knee is the best step whose p99 stays under it. @default 100 */
  targetP99?: Duration
  /** Error rate above which a step does not count as "served". @default 0.01 */
  maxErrorRate?: number
  /** Instance counts of the scale-out table; the verdict quotes the largest. @default [1, 2, 4] */
  instances?: readonly number[]
  /**
   * Contention between instances (the USL applied to instance count), for services whose
   * instances share a bottleneck (one database, one Redis). The default assumes none: each
   * instance adds its knee throughput, which is an upper bound.
   * @default { sigma: 0, kappa: 0 }
   */
  scaleOut?: { sigma?: number; kappa?: number }
}

/**
 * What {@link capacity} concludes from a load test.
 *
 * @example
 * const plan: CapacityPlan = capacity(steps)
 * console.log(plan.verdict)
 */
export interface CapacityPlan {
  /** The steps, sorted by concurrency. */
  steps: CapacitySample[]
  /** Latency objective used, ms. */
  targetP99: number
  /** Highest-throughput step whose p99 and error rate stay within the objective; null when none does. */
  knee: { concurrency: number; rps: number; p99: number } | null
  /** The fitted Universal Scalability Law. */
  usl: UslModel
  /** Concurrency where the fitted throughput peaks, sqrt((1−σ)/κ) (Infinity when κ = 0). */
  peakConcurrency: number
  /** Fitted throughput at the peak (the asymptote λ/σ when the peak is at infinity). */
  peakRps: number
  /** Measured and predicted throughput per concurrency level (measured levels, then beyond). */
  concurrencyTable: { concurrency: number; predictedRps: number; measuredRps: number | null }[]
  /** Predicted throughput of `instances` instances each run at the knee. */
  instanceTable: { instances: number; predictedRps: number }[]
  /** One line for humans. */
  verdict: string
}

const KNOWN = ['targetP99', 'maxErrorRate', 'instances', 'scaleOut']
const STEP_FIELDS = ['concurrency', 'rps', 'p50', 'p95', 'p99', 'errors', 'elu']

function checkStep(value: unknown, index: number): CapacitySample {
  const name = `samples[${index}]`
  if (value === undefined) throw invalidOption(name, 'a step object', value)
  const step = checkOptionsObject(name, value as object, 'a step object') as Record<string, unknown>
  checkKnownOptions(`a capacity() step`, step, STEP_FIELDS)
  const out: CapacitySample = {
    concurrency: checkInteger(`${name}.concurrency`, step.concurrency, { min: 1 }),
    rps: checkNumber(`${name}.rps`, step.rps, { min: 0 }),
    p50: checkNumber(`${name}.p50`, step.p50, { min: 0 }),
    p95: checkNumber(`${name}.p95`, step.p95, { min: 0 }),
    p99: checkNumber(`${name}.p99`, step.p99, { min: 0 }),
    errors: checkNumber(`${name}.errors`, step.errors, { min: 0, max: 1 }),
  }
  if (step.elu !== undefined) out.elu = checkNumber(`${name}.elu`, step.elu, { min: 0, max: 1 })
  return out
}

const round = (v: number) => (v >= 100 ? Math.round(v) : Math.round(v * 10) / 10)
const rate = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'unbounded')

/**
 * Capacity planning from a stepped load test: finds the knee (the highest throughput whose p99
 * stays under `targetP99`), fits the Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1))
 * to throughput against concurrency, predicts the peak concurrency N* = sqrt((1−σ)/κ), tabulates
 * predicted throughput per concurrency and per instance count, and sums it up in one line.
 *
 * Instances scale by the same law applied to instance count with `scaleOut` coefficients (none by
 * default): each instance is assumed to run at the knee, where its own latency objective holds, and
 * to add its fitted throughput there. That is an upper bound whenever instances share a backend;
 * measure a two- or three-instance run and pass `scaleOut` to discount it.
 *
 * Synchronous; bad input throws the standard TypeError.
 *
 * @example
 * const plan = capacity([
 *   { concurrency: 1, rps: 95, p50: 10, p95: 12, p99: 14, errors: 0 },
 *   { concurrency: 8, rps: 610, p50: 12, p95: 18, p99: 25, errors: 0 },
 *   { concurrency: 32, rps: 1400, p50: 21, p95: 40, p99: 70, errors: 0 },
 *   { concurrency: 64, rps: 1500, p50: 41, p95: 90, p99: 160, errors: 0 },
 * ])
 * console.log(plan.verdict)
 * // this instance: ~1,400 req/s at p99 < 100ms; 4 instances: ~5,599 req/s by the fitted model
 */
export function capacity(samples: readonly CapacitySample[], options?: CapacityOptions): CapacityPlan {
  if (!Array.isArray(samples) || samples.length === 0) {
    throw invalidOption('samples', 'a non-empty array of steps', samples)
  }
  const raw = readOptions('capacity()', options, KNOWN)
  const targetP99 = parseDuration(raw.targetP99 ?? 100, 'targetP99', { positive: true })
  const maxErrorRate = checkNumber('maxErrorRate', raw.maxErrorRate ?? 0.01, { min: 0, max: 1 })
  const instanceList = raw.instances ?? [1, 2, 4]
  if (!Array.isArray(instanceList) || instanceList.length === 0) {
    throw invalidOption('instances', 'a non-empty array of integers >= 1', instanceList)
  }
  const instances = instanceList.map((n, i) => checkInteger(`instances[${i}]`, n, { min: 1 }))
  const scaleRaw = checkOptionsObject('scaleOut', raw.scaleOut)
  const scaleOut = {
    sigma: checkNumber('scaleOut.sigma', scaleRaw.sigma ?? 0, { min: 0, max: 1 }),
    kappa: checkNumber('scaleOut.kappa', scaleRaw.kappa ?? 0, { min: 0 }),
  }
  const steps = samples.map(checkStep).sort((a, b) => a.concurrency - b.concurrency)

  let knee: CapacityPlan['knee'] = null
  for (const s of steps) {
    if (s.p99 < targetP99 && s.errors <= maxErrorRate && s.rps > 0 && (!knee || s.rps > knee.rps)) {
      knee = { concurrency: s.concurrency, rps: s.rps, p99: s.p99 }
    }
  }

  const usl = fitUsl(steps)
  const peakConcurrency = uslPeak(usl)
  const peakRps = Number.isFinite(peakConcurrency)
    ? uslThroughput(usl, peakConcurrency)
    : usl.sigma > 0
      ? usl.lambda / usl.sigma
      : Number.POSITIVE_INFINITY

  const levels = [...new Set(steps.map((s) => s.concurrency))]
  const top = levels[levels.length - 1]!
  for (let n = top * 2; n <= top * 4; n *= 2) levels.push(n)
  if (Number.isFinite(peakConcurrency) && !levels.includes(Math.round(peakConcurrency))) {
    levels.push(Math.round(peakConcurrency))
  }
  levels.sort((a, b) => a - b)
  const concurrencyTable = levels.map((concurrency) => {
    const measured = steps.filter((s) => s.concurrency === concurrency)
    return {
      concurrency,
      predictedRps: round(uslThroughput(usl, concurrency)),
      measuredRps:
        measured.length > 0 ? round(measured.reduce((sum, s) => sum + s.rps, 0) / measured.length) : null,
    }
  })

  // Per instance: the model's throughput at the knee concurrency (the measured knee when no fit).
  const perInstance = knee ? (usl.lambda > 0 ? uslThroughput(usl, knee.concurrency) : knee.rps) : 0
  const instanceTable = instances.map((n) => ({
    instances: n,
    predictedRps: round(uslThroughput({ ...scaleOut, lambda: perInstance }, n)),
  }))

  const target = formatDuration(targetP99)
  const most = instanceTable.reduce((a, b) => (b.instances > a.instances ? b : a))
  let verdict: string
  if (knee) {
    verdict =
      `this instance: ~${rate(knee.rps)} req/s at p99 < ${target}; ` +
      `${most.instances} instance${most.instances === 1 ? '' : 's'}: ~${rate(most.predictedRps)} req/s by the fitted model`
  } else {
    const best = steps.reduce((a, b) => (b.p99 < a.p99 ? b : a))
    verdict =
      `no step kept p99 < ${target} within ${(maxErrorRate * 100).toFixed(1)}% errors ` +
      `(best p99 ${formatDuration(best.p99)} at concurrency ${best.concurrency}, ~${rate(best.rps)} req/s)`
  }
  return {
    steps,
    targetP99,
    knee,
    usl,
    peakConcurrency,
    peakRps,
    concurrencyTable,
    instanceTable,
    verdict,
  }
}
