/**
 * HdrHistogram counts with the exact bucket layout of HdrHistogram (and hdr-histogram-js), recorded
 * inline: an integer index computed with `Math.clz32`, one typed-array increment. Percentiles are
 * read with HdrHistogram's algorithm; the wire form (V2 compressed base64) goes through
 * hdr-histogram-js, loaded only when encoding or decoding (see docs/decisions/040).
 */

/** The fixed geometry of a histogram: value range and precision, in internal integer units. */
export class HdrLayout {
  /** Internal values are `value / lowest`, truncated. */
  readonly lowest: number
  readonly scale: number
  readonly highest: number
  readonly significantDigits: number
  readonly subBucketHalfCountMagnitude: number
  readonly subBucketHalfCount: number
  readonly subBucketCount: number
  readonly subBucketMask: number
  /** Full counts length needed to reach `highest`. */
  readonly length: number
  /** Highest trackable value in internal units (what an HDR encoding carries). */
  readonly highestInternal: number

  constructor(lowest: number, highest: number, significantDigits: number) {
    this.lowest = lowest
    this.scale = 1 / lowest
    this.highest = highest
    this.significantDigits = significantDigits
    this.highestInternal = Math.max(2, Math.ceil(highest / lowest))
    const largestSingleUnit = 2 * 10 ** significantDigits
    const subBucketCountMagnitude = Math.ceil(Math.log2(largestSingleUnit))
    this.subBucketHalfCountMagnitude = Math.max(subBucketCountMagnitude, 1) - 1
    this.subBucketCount = 2 ** (this.subBucketHalfCountMagnitude + 1)
    this.subBucketHalfCount = this.subBucketCount / 2
    this.subBucketMask = this.subBucketCount - 1
    this.length = this.lengthForValue(this.highestInternal)
  }

  /** Counts length covering internal values up to `value` (HdrHistogram's bucketsNeeded). */
  lengthForValue(value: number): number {
    let smallestUntrackable = this.subBucketCount
    let buckets = 1
    while (smallestUntrackable <= value) {
      smallestUntrackable *= 2
      buckets++
    }
    return (buckets + 1) * this.subBucketHalfCount
  }

  /** Counts index of an internal value (>= 0). */
  index(x: number): number {
    const half = this.subBucketHalfCountMagnitude
    if (x < 4294967296) {
      const i = x >>> 0
      const bucket = 31 - Math.clz32(i | this.subBucketMask) - half
      return ((bucket + 1) << half) + (i >>> bucket) - this.subBucketHalfCount
    }
    const i = Math.floor(x)
    const bucket = Math.max(Math.floor(Math.log2(i)) - half, 0)
    return (bucket + 1) * this.subBucketHalfCount + Math.floor(i / 2 ** bucket) - this.subBucketHalfCount
  }

  /** Lowest internal value that lands at `index`. */
  lowestAt(index: number): number {
    const half = this.subBucketHalfCountMagnitude
    const bucket = (index >> half) - 1
    const sub = (index & (this.subBucketHalfCount - 1)) + this.subBucketHalfCount
    return bucket < 0 ? sub - this.subBucketHalfCount : sub * POW2[bucket]!
  }

  /** Highest internal value that lands at `index`. */
  highestAt(index: number): number {
    const bucket = (index >> this.subBucketHalfCountMagnitude) - 1
    return this.lowestAt(index) + (bucket <= 0 ? 1 : POW2[bucket]!) - 1
  }

  /** True when `other` has the same geometry (counts can be added index by index). */
  sameAs(other: HdrLayout): boolean {
    return (
      other.lowest === this.lowest &&
      other.highest === this.highest &&
      other.significantDigits === this.significantDigits
    )
  }
}

const EMPTY = new Float64Array(0)
const POW2 = Array.from({ length: 64 }, (_, i) => 2 ** i)

/**
 * One set of counts plus exact count, sum, min and max. `record` allocates nothing unless the
 * counts array has to grow to a new highest value (it grows by octaves, at most `layout.length`).
 */
export class HdrCounts {
  readonly layout: HdrLayout
  counts: Float64Array = EMPTY
  count = 0
  sum = 0
  min = Number.POSITIVE_INFINITY
  max = Number.NEGATIVE_INFINITY
  /** Values above `highest`, counted in the last bucket. */
  clamped = 0
  /** Values refused by `record()` (negative, NaN, infinite, not a number); in no other field. */
  dropped = 0

  constructor(layout: HdrLayout) {
    this.layout = layout
  }

  /** Records `value` (already checked to be >= 0) at internal value `x`. */
  recordScaled(value: number, x: number, n: number): void {
    this.count += n
    this.sum += value * n
    if (value < this.min) this.min = value
    if (value > this.max) this.max = value
    let index = this.layout.index(x)
    if (index >= this.counts.length) index = this.grow(index)
    this.counts[index]! += n
  }

  grow(index: number): number {
    const layout = this.layout
    if (index >= layout.length) {
      this.clamped++
      index = layout.length - 1
    }
    if (index < this.counts.length) return index
    const needed = Math.min(layout.length, layout.lengthForValue(layout.lowestAt(index) * 2))
    const next = new Float64Array(needed)
    next.set(this.counts)
    this.counts = next
    return index
  }

  /** Index range holding every recorded value (empty when `count` is 0). */
  range(): [number, number] {
    if (this.count === 0) return [0, -1]
    const scale = this.layout.scale
    // One slot of margin each side: min/max scaled back may round across a bucket edge (merged data).
    const hi = Math.min(this.layout.index(this.max * scale) + 1, this.counts.length - 1)
    return [Math.max(this.layout.index(this.min * scale) - 1, 0), hi]
  }

  /** Adds every count of `other` (same layout) into this one. */
  add(other: HdrCounts): void {
    this.dropped += other.dropped
    if (other.count === 0) return
    const [lo, hi] = other.range()
    if (hi >= this.counts.length) this.grow(hi)
    const target = this.counts
    const source = other.counts
    for (let i = lo; i <= hi; i++) target[i]! += source[i]!
    this.count += other.count
    this.sum += other.sum
    this.clamped += other.clamped
    if (other.min < this.min) this.min = other.min
    if (other.max > this.max) this.max = other.max
  }

  /** Copies `other` into this one (same layout), reusing this array when it is large enough. */
  copyFrom(other: HdrCounts): void {
    this.reset()
    this.add(other)
  }

  /** Forgets every value; keeps the counts array for reuse. */
  reset(): void {
    if (this.count > 0) {
      const [lo, hi] = this.range()
      this.counts.fill(0, lo, hi + 1)
    }
    this.count = 0
    this.sum = 0
    this.clamped = 0
    this.dropped = 0
    this.min = Number.POSITIVE_INFINITY
    this.max = Number.NEGATIVE_INFINITY
  }

  /**
   * Values at each percentile in `percentiles` (ascending, 0..100), in value units, clamped to the
   * exact min and max. One pass over the occupied index range.
   */
  percentiles(percentiles: readonly number[], out: number[] = []): number[] {
    if (out.length !== percentiles.length) out.length = percentiles.length
    if (this.count === 0) {
      out.fill(0)
      return out
    }
    const [lo, hi] = this.range()
    const counts = this.counts
    const layout = this.layout
    let seen = 0
    let p = 0
    let target = rankOf(percentiles[0]!, this.count)
    for (let i = lo; i <= hi && p < percentiles.length; i++) {
      seen += counts[i]!
      while (seen >= target && p < percentiles.length) {
        const internal = percentiles[p] === 0 ? layout.lowestAt(i) : layout.highestAt(i)
        out[p] = Math.min(this.max, Math.max(this.min, internal * layout.lowest))
        p++
        if (p < percentiles.length) target = rankOf(percentiles[p]!, this.count)
      }
    }
    for (; p < percentiles.length; p++) out[p] = this.max
    return out
  }

  /**
   * Number of recorded values <= each bound in `bounds` (ascending, value units), to the
   * histogram's precision: a bucket counts when its lowest equivalent value is <= the bound.
   */
  cumulativeAt(bounds: readonly number[], out: number[] = []): number[] {
    if (out.length !== bounds.length) out.length = bounds.length
    if (this.count === 0) return out.fill(0)
    const [lo, hi] = this.range()
    const counts = this.counts
    const layout = this.layout
    let seen = 0
    let i = lo
    for (let b = 0; b < bounds.length; b++) {
      const x = bounds[b]! * layout.scale
      const last = x < 0 ? -1 : Math.min(hi, layout.index(Math.min(x, layout.highestInternal * 2)))
      for (; i <= last; i++) seen += counts[i]!
      out[b] = seen
    }
    return out
  }
}

function rankOf(percentile: number, count: number): number {
  const fp = (Math.min(percentile, 100) / 100) * count
  return Math.max(Math.ceil(fp - fp * Number.EPSILON), 1)
}

/** A reusable scratch `HdrCounts` per layout, for reads that combine buffers. */
export function scratchFor(cache: Map<HdrLayout, HdrCounts>, layout: HdrLayout): HdrCounts {
  let counts = cache.get(layout)
  if (!counts) {
    counts = new HdrCounts(layout)
    cache.set(layout, counts)
  }
  return counts
}
