/**
 * Coefficients of the Universal Scalability Law, X(N) = λN / (1 + σ(N−1) + κN(N−1)).
 *
 * @example
 * const model: UslModel = { sigma: 0.05, kappa: 0.0002, lambda: 900, r2: 0.99 }
 * uslThroughput(model, 16) // predicted req/s with 16 requests in flight
 */
export interface UslModel {
  /** Contention (serial fraction), 0..1: the share of work that waits on something shared. */
  sigma: number
  /** Coherency (crosstalk) cost, >= 0: what makes throughput fall past the peak. */
  kappa: number
  /** Throughput of one request in flight (the ideal per-unit rate), >= 0. */
  lambda: number
  /** Coefficient of determination of the fit on the measured throughput (1 = exact). */
  r2: number
}

/**
 * Throughput the model predicts at concurrency `n`.
 *
 * @example
 * uslThroughput({ sigma: 0, kappa: 0, lambda: 100, r2: 1 }, 4) // 400
 */
export function uslThroughput(model: Pick<UslModel, 'sigma' | 'kappa' | 'lambda'>, n: number): number {
  return (model.lambda * n) / (1 + model.sigma * (n - 1) + model.kappa * n * (n - 1))
}

/**
 * Concurrency at which the model's throughput peaks, N* = sqrt((1−σ)/κ). `Infinity` when κ = 0 and
 * σ < 1 (throughput keeps rising, if ever more slowly); 1 when σ = 1 (more concurrency never helps).
 *
 * @example
 * uslPeak({ sigma: 0.1, kappa: 0.001 }) // 30
 */
export function uslPeak(model: Pick<UslModel, 'sigma' | 'kappa'>): number {
  if (model.sigma >= 1) return 1
  if (model.kappa <= 0) return Number.POSITIVE_INFINITY
  return Math.max(1, Math.sqrt((1 - model.sigma) / model.kappa))
}

/** Solves the 3×3 normal equations of y = a + bN + cN² (null when singular). */
function quadraticFit(ns: readonly number[], ys: readonly number[]): [number, number, number] | null {
  const s = [0, 0, 0, 0, 0]
  const t = [0, 0, 0]
  for (let i = 0; i < ns.length; i++) {
    const n = ns[i]!
    let p = 1
    for (let k = 0; k < 5; k++) {
      s[k]! += p
      if (k < 3) t[k]! += p * ys[i]!
      p *= n
    }
  }
  const m = [
    [s[0]!, s[1]!, s[2]!, t[0]!],
    [s[1]!, s[2]!, s[3]!, t[1]!],
    [s[2]!, s[3]!, s[4]!, t[2]!],
  ]
  for (let col = 0; col < 3; col++) {
    let pivot = col
    for (let r = col + 1; r < 3; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r
    if (Math.abs(m[pivot]![col]!) < 1e-12 * Math.max(1, Math.abs(s[4]!))) return null
    ;[m[col], m[pivot]] = [m[pivot]!, m[col]!]
    for (let r = 0; r < 3; r++) {
      if (r === col) continue
      const f = m[r]![col]! / m[col]![col]!
      for (let k = col; k < 4; k++) m[r]![k]! -= f * m[col]![k]!
    }
  }
  return [m[0]![3]! / m[0]![0]!, m[1]![3]! / m[1]![1]!, m[2]![3]! / m[2]![2]!]
}

/** Minimises `f` from `start` with the Nelder–Mead simplex (small, fixed budget). */
function nelderMead(f: (x: number[]) => number, start: number[], step: number[], iterations = 600): number[] {
  const dim = start.length
  let simplex = [start, ...start.map((_, i) => start.map((v, j) => (i === j ? v + step[j]! : v)))]
  let values = simplex.map(f)
  for (let iter = 0; iter < iterations; iter++) {
    const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!)
    simplex = order.map((i) => simplex[i]!)
    values = order.map((i) => values[i]!)
    if (Math.abs(values[dim]! - values[0]!) <= 1e-14 * (Math.abs(values[0]!) + 1e-300)) break
    const centroid = start.map((_, j) => simplex.slice(0, dim).reduce((sum, p) => sum + p[j]!, 0) / dim)
    const toward = (t: number) => centroid.map((c, j) => c + t * (simplex[dim]![j]! - c))
    const reflected = toward(-1)
    const fr = f(reflected)
    if (fr < values[0]!) {
      const expanded = toward(-2)
      const fe = f(expanded)
      simplex[dim] = fe < fr ? expanded : reflected
      values[dim] = Math.min(fe, fr)
    } else if (fr < values[dim - 1]!) {
      simplex[dim] = reflected
      values[dim] = fr
    } else {
      const contracted = fr < values[dim]! ? toward(-0.5) : toward(0.5)
      const fc = f(contracted)
      if (fc < Math.min(fr, values[dim]!)) {
        simplex[dim] = contracted
        values[dim] = fc
      } else {
        for (let i = 1; i <= dim; i++) {
          simplex[i] = simplex[i]!.map((v, j) => simplex[0]![j]! + 0.5 * (v - simplex[0]![j]!))
          values[i] = f(simplex[i]!)
        }
      }
    }
  }
  return simplex[values.indexOf(Math.min(...values))]!
}

/**
 * Least-squares fit of the Universal Scalability Law to measured (concurrency, throughput) points,
 * with σ in 0..1 and κ >= 0. The linearised form N/X = (1/λ)((1−σ) + (σ−κ)N + κN²) gives a first
 * estimate by quadratic regression; a bounded Nelder–Mead then minimises the squared throughput
 * error itself. With fewer than three distinct concurrencies the model is underdetermined, so κ is
 * held at 0 (two levels) or σ and κ both (one level).
 *
 * @example
 * const model = fitUsl([{ concurrency: 1, rps: 100 }, { concurrency: 8, rps: 600 }, { concurrency: 32, rps: 900 }])
 * console.log(model.sigma, model.kappa, model.lambda)
 */
export function fitUsl(points: readonly { concurrency: number; rps: number }[]): UslModel {
  const ns = points.map((p) => p.concurrency)
  const xs = points.map((p) => p.rps)
  const distinct = new Set(ns).size
  const maxX = Math.max(0, ...xs)
  if (points.length === 0 || maxX === 0) return { sigma: 0, kappa: 0, lambda: 0, r2: 0 }

  // First estimate: linearised quadratic regression, clamped into the allowed region.
  let sigma0 = 0.05
  let kappa0 = 0
  let lambda0 = Math.max(...points.map((p) => p.rps / p.concurrency))
  const positive = points.filter((p) => p.rps > 0)
  const q =
    distinct >= 3
      ? quadraticFit(
          positive.map((p) => p.concurrency),
          positive.map((p) => p.concurrency / p.rps),
        )
      : null
  if (q) {
    const inverseLambda = q[0] + q[1] + q[2]
    if (inverseLambda > 0) {
      const lambda = 1 / inverseLambda
      const kappa = q[2] * lambda
      const sigma = q[1] * lambda + kappa
      if (Number.isFinite(lambda) && Number.isFinite(sigma) && Number.isFinite(kappa)) {
        lambda0 = lambda
        sigma0 = Math.min(1, Math.max(0, sigma))
        kappa0 = Math.max(0, kappa)
      }
    }
  }

  // Refine on the throughput error. Parameters are mapped so every simplex point is feasible:
  // λ = e^u, σ = sin²(v) (0..1), κ = w² (>= 0). Errors are scaled by the largest throughput.
  const free = distinct >= 3 ? 3 : distinct === 2 ? 2 : 1
  const decode = (x: number[]) => ({
    lambda: Math.exp(x[0]!),
    sigma: free >= 2 ? Math.sin(x[1]!) ** 2 : 0,
    kappa: free >= 3 ? x[2]! ** 2 : 0,
  })
  const sse = (model: Pick<UslModel, 'sigma' | 'kappa' | 'lambda'>) => {
    let sum = 0
    for (let i = 0; i < ns.length; i++) sum += ((xs[i]! - uslThroughput(model, ns[i]!)) / maxX) ** 2
    return sum
  }
  const objective = (x: number[]) => sse(decode(x))
  const start = [Math.log(Math.max(lambda0, 1e-12)), Math.asin(Math.sqrt(sigma0)), Math.sqrt(kappa0)].slice(
    0,
    free,
  )
  // Restarts from the refined point (and from a κ = 0 guess) escape the simplex collapsing early.
  let best = start
  for (const seed of [start, [start[0]!, Math.asin(Math.sqrt(0.1)), 0].slice(0, free)]) {
    let x = seed
    for (let round = 0; round < 3; round++) {
      const scale = Math.max(1e-3, Math.sqrt(kappa0) || 1e-3)
      x = nelderMead(objective, x, [0.2, 0.2, scale].slice(0, free))
    }
    if (objective(x) < objective(best)) best = x
  }
  const model = decode(best)
  // Floating-point dust from the simplex is not a coefficient.
  if (model.sigma > 1 - 1e-9) model.sigma = 1
  if (model.sigma < 1e-12) model.sigma = 0
  if (model.kappa < 1e-15) model.kappa = 0
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  let total = 0
  for (const x of xs) total += ((x - mean) / maxX) ** 2
  const r2 = total === 0 ? (sse(model) < 1e-12 ? 1 : 0) : Math.max(0, 1 - sse(model) / total)
  return { ...model, r2 }
}
