import { checkNumber, invalidOption } from './options'

/**
 * A plain snapshot of a {@link Summary}; times in milliseconds.
 *
 * @example
 * const { count, p50, p99 }: SummarySnapshot = waits.snapshot()
 */
export interface SummarySnapshot {
  count: number
  min: number
  max: number
  mean: number
  p50: number
  p90: number
  p99: number
}

const SUB_BUCKETS = 16 // 2^(1/16): about 4.4% relative precision
const MIN_VALUE = 0.001 // 1 microsecond, in milliseconds
const BUCKETS = 40 * SUB_BUCKETS // up to 2^40 µs ≈ 12.7 days

/**
 * A fixed-size log-bucketed summary of durations (or any non-negative values) for `stats()`:
 * O(1) record with no allocation, bounded memory, percentiles within about 4.4%.
 * (`@hotpath/metrics` has the exact HDR histograms; this is the light one every primitive carries.)
 *
 * @example
 * const waits = new Summary()
 * waits.record(12.5)
 * waits.snapshot().p99
 */
export class Summary {
  #counts = new Uint32Array(BUCKETS + 1)
  #count = 0
  #sum = 0
  #min = Number.POSITIVE_INFINITY
  #max = 0

  /** Number of recorded values. */
  get count(): number {
    return this.#count
  }

  /** Records one value (negative values count as 0). */
  record(value: number): void {
    if (typeof value !== 'number') throw invalidOption('value', 'a number', value)
    if (!(value > 0)) value = 0
    this.#count++
    this.#sum += value
    if (value < this.#min) this.#min = value
    if (value > this.#max) this.#max = value
    const index =
      value <= MIN_VALUE ? 0 : Math.min(BUCKETS, 1 + Math.floor(Math.log2(value / MIN_VALUE) * SUB_BUCKETS))
    this.#counts[index]!++
  }

  /** The value at quantile `q` (0..1), clamped to the observed min and max. */
  quantile(q: number): number {
    checkNumber('q', q, { min: 0, max: 1 })
    if (this.#count === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.#count))
    let seen = 0
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!
      if (seen >= rank) {
        const upper = i === 0 ? MIN_VALUE : MIN_VALUE * 2 ** (i / SUB_BUCKETS)
        return Math.min(this.#max, Math.max(this.#min, upper))
      }
    }
    return this.#max
  }

  /** A plain snapshot. */
  snapshot(): SummarySnapshot {
    const empty = this.#count === 0
    return {
      count: this.#count,
      min: empty ? 0 : this.#min,
      max: this.#max,
      mean: empty ? 0 : this.#sum / this.#count,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
    }
  }

  /** Forgets every value. */
  reset(): void {
    this.#counts.fill(0)
    this.#count = 0
    this.#sum = 0
    this.#min = Number.POSITIVE_INFINITY
    this.#max = 0
  }
}
