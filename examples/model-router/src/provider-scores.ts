/** Live figures for one provider, updated on every upstream call. */
export interface ProviderScore {
  readonly name: string
  /** Exponentially weighted mean latency of successful calls, ms. */
  latencyMs: number
  /** Exponentially weighted success rate, 0..1. */
  successRate: number
  calls: number
  failures: number
  /** Failures since the last success. */
  consecutiveFailures: number
  /** While now < this (ms, monotonic) the provider is ranked last. */
  coolingUntil: number
}

const ALPHA = 0.2
/** Consecutive failures after which a provider is ranked last for {@link COOL_DOWN_MS}. */
const TRIP_AFTER = 3
const COOL_DOWN_MS = 5_000

/**
 * Ranks providers by live latency and success rate: the expected cost of a call is its latency
 * divided by its chance of success, so a fast provider that fails half the time ranks behind a
 * slower reliable one.
 *
 * @example
 * const scores = new ProviderScores(['alpha', 'beta'])
 * scores.record('alpha', { ok: true, latencyMs: 40 })
 * scores.rank(['alpha', 'beta']) // best first
 */
export class ProviderScores {
  readonly #scores = new Map<string, ProviderScore>()

  constructor(names: readonly string[]) {
    for (const name of names) {
      this.#scores.set(name, {
        name,
        latencyMs: 50,
        successRate: 1,
        calls: 0,
        failures: 0,
        consecutiveFailures: 0,
        coolingUntil: 0,
      })
    }
  }

  /** Records the outcome of one upstream call. */
  record(name: string, outcome: { ok: boolean; latencyMs: number }): void {
    const score = this.#scores.get(name)
    if (!score) return
    score.calls++
    if (outcome.ok) score.consecutiveFailures = 0
    else {
      score.failures++
      score.consecutiveFailures++
      // A provider that keeps failing is ranked last for a while, then probed again by traffic.
      if (score.consecutiveFailures >= TRIP_AFTER) score.coolingUntil = performance.now() + COOL_DOWN_MS
    }
    score.successRate = score.successRate * (1 - ALPHA) + (outcome.ok ? ALPHA : 0)
    if (outcome.ok) score.latencyMs = score.latencyMs * (1 - ALPHA) + outcome.latencyMs * ALPHA
  }

  /** Candidates ordered best first; providers cooling down after repeated failures come last. */
  rank(candidates: readonly string[]): string[] {
    const now = performance.now()
    const cost = (name: string) => {
      const s = this.#scores.get(name)
      if (!s) return Number.POSITIVE_INFINITY
      const penalty = s.coolingUntil > now ? 1e9 : 0
      return penalty + s.latencyMs / Math.max(0.01, s.successRate)
    }
    return [...candidates].sort((a, b) => cost(a) - cost(b))
  }

  /** Plain snapshot for `/stats`. */
  snapshot(): ProviderScore[] {
    return [...this.#scores.values()].map((s) => ({
      ...s,
      latencyMs: Math.round(s.latencyMs * 10) / 10,
      successRate: Math.round(s.successRate * 1000) / 1000,
    }))
  }
}
