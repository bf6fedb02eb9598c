import { getClock } from '@hotpath/core'
import { HistogramDecodeError } from './errors'
import { HdrCounts, type HdrLayout } from './hdr'
import type { LabelValues } from './labels'
import { renderLabels } from './labels'
import { Metric, type SeriesBase } from './metric'

/**
 * Which values a read covers: everything since creation, or the last completed interval.
 *
 * @example
 * const view: View = 'interval'
 * registry.snapshot({ view })
 */
export type View = 'cumulative' | 'interval'

/**
 * Percentiles every histogram snapshot reports (p50, p90, p95, p99, p99.9).
 *
 * @example
 * SNAPSHOT_PERCENTILES // [50, 90, 95, 99, 99.9]
 */
export const SNAPSHOT_PERCENTILES: readonly number[] = Object.freeze([50, 90, 95, 99, 99.9])

/**
 * A histogram's figures, in its unit.
 *
 * @example
 * const { p50, p99, count } = latency.with({ route: '/chat' }).stats('interval')
 */
export interface HistogramStats {
  count: number
  /** Values refused: negative, NaN, infinite or not a number. They are in no other figure. */
  dropped: number
  sum: number
  min: number
  max: number
  mean: number
  p50: number
  p90: number
  p95: number
  p99: number
  p999: number
}

type HdrModule = typeof import('hdr-histogram-js')
let hdrModule: Promise<HdrModule> | undefined
const loadHdr = (): Promise<HdrModule> => {
  hdrModule ??= import('hdr-histogram-js').then(
    (m) => ((m as { default?: HdrModule }).default ?? m) as HdrModule,
  )
  return hdrModule
}

/**
 * One label combination of a histogram. Recording writes into the active buffer; `rollover()`
 * swaps it with a spare one (Recorder-style), so values of one interval never reach the next.
 *
 * @example
 * const chat = latency.with({ route: '/chat' })
 * chat.record(12.3)
 * const stop = chat.startTimer(); await work(); stop()
 */
export class HistogramSeries implements SeriesBase {
  readonly labels: Readonly<Record<string, string>>
  readonly rendered: string
  readonly overflow: boolean
  /** Counts of the current, open interval. */
  active: HdrCounts
  /** Counts of the last completed interval (null before the first rollover). */
  previous: HdrCounts | null = null
  /** Sum of every completed interval (null before the first rollover). */
  completed: HdrCounts | null = null
  readonly #scale: number
  readonly #fromMs: number

  constructor(
    labels: Readonly<Record<string, string>>,
    overflow: boolean,
    layout: HdrLayout,
    fromMs: number,
  ) {
    this.labels = labels
    this.rendered = renderLabels(labels)
    this.overflow = overflow
    this.active = new HdrCounts(layout)
    this.#scale = layout.scale
    this.#fromMs = fromMs
  }

  /**
   * Records one value in the histogram's unit. Negative, NaN and infinite values, and anything
   * that is not a number, are refused and counted in `dropped`; the series stays as it was.
   */
  record(value: number): void {
    // typeof first: a string such as '5' would multiply fine and end up as the stored min.
    if (typeof value === 'number') {
      const x = value * this.#scale
      if (x >= 0 && x < Number.POSITIVE_INFINITY) {
        this.active.recordScaled(value, x, 1)
        return
      }
    }
    this.active.dropped++
  }

  /** Records `value` `count` times (both refused like in `record()`, counted in `dropped`). */
  recordMany(value: number, count: number): void {
    if (
      typeof value === 'number' &&
      typeof count === 'number' &&
      count > 0 &&
      count < Number.POSITIVE_INFINITY
    ) {
      const x = value * this.#scale
      if (x >= 0 && x < Number.POSITIVE_INFINITY) {
        this.active.recordScaled(value, x, count)
        return
      }
      this.active.dropped += count
      return
    }
    this.active.dropped++
  }

  /**
   * Values refused since creation (negative, NaN, infinite or not a number); per view in
   * `stats().dropped`.
   *
   * @example
   * h.record(Number.NaN)
   * h.dropped // 1
   */
  get dropped(): number {
    return this.active.dropped + (this.completed?.dropped ?? 0)
  }

  /**
   * Starts a timer; calling the returned function records the elapsed time (in the histogram's
   * unit) and returns it.
   *
   * @example
   * const stop = h.startTimer()
   * await handle(req)
   * stop()
   */
  startTimer(): () => number {
    const started = getClock().monotonic()
    return () => {
      const elapsed = (getClock().monotonic() - started) * this.#fromMs
      this.record(elapsed)
      return elapsed
    }
  }

  /** Closes the current interval: the open buffer becomes `previous`, a cleared spare takes its place. */
  rollover(): void {
    const closed = this.active
    this.completed ??= new HdrCounts(closed.layout)
    this.completed.add(closed)
    const spare = this.previous ?? new HdrCounts(closed.layout)
    spare.reset()
    this.active = spare
    this.previous = closed
  }

  /**
   * The counts of `view` (cumulative = completed intervals + the open one). Returns a buffer of the
   * series itself when no combining is needed, else fills and returns `target`; read it, never
   * write it.
   */
  read(view: View, target: HdrCounts): HdrCounts {
    if (view === 'interval') {
      if (this.previous) return this.previous
      target.reset()
      return target
    }
    if (!this.completed) return this.active
    target.reset()
    target.add(this.completed)
    target.add(this.active)
    return target
  }

  /**
   * Figures for `view`: count, sum, min, max, mean and p50/p90/p95/p99/p999.
   *
   * @example
   * h.stats('interval').p99 // p99 over the last completed interval
   */
  stats(view: View = 'cumulative'): HistogramStats {
    return statsOf(this.read(view, new HdrCounts(this.active.layout)))
  }

  /**
   * The counts of `view` in HdrHistogram's V2 compressed base64 form, readable by any
   * HdrHistogram implementation (values in internal units of `lowest`).
   *
   * @example
   * parentPort.postMessage(await h.encode())
   */
  async encode(view: View = 'cumulative'): Promise<string> {
    const hdr = await loadHdr()
    const counts = this.read(view, new HdrCounts(this.active.layout))
    const layout = counts.layout
    const out = new hdr.Float64Histogram(1, layout.highestInternal, layout.significantDigits)
    const [lo, hi] = counts.range()
    for (let i = lo; i <= hi; i++) {
      const n = counts.counts[i]!
      if (n > 0) out.recordValueWithCount(layout.lowestAt(i), n)
    }
    return hdr.encodeIntoCompressedBase64(out)
  }

  /**
   * Adds an encoded histogram (from `encode()` in another worker or process) into the open interval.
   * Both sides must use the same `lowest` and `significantDigits`.
   *
   * @example
   * for (const encoded of fromWorkers) await h.merge(encoded)
   */
  async merge(encoded: string): Promise<void> {
    const hdr = await loadHdr()
    let decoded: ReturnType<HdrModule['decodeFromCompressedBase64']>
    try {
      decoded = hdr.decodeFromCompressedBase64(encoded, 64, false)
    } catch (cause) {
      throw new HistogramDecodeError(
        'Could not decode the histogram: expected HdrHistogram V2 compressed base64.',
        {
          cause,
        },
      )
    }
    const layout = this.active.layout
    const js = decoded as unknown as {
      numberOfSignificantValueDigits: number
      lowestDiscernibleValue: number
      countsArrayLength: number
      getCountAtIndex(i: number): number
      valueFromIndex(i: number): number
    }
    if (js.numberOfSignificantValueDigits !== layout.significantDigits || js.lowestDiscernibleValue !== 1) {
      throw new HistogramDecodeError(
        `Cannot merge a histogram with ${js.numberOfSignificantValueDigits} significant digits into one with ` +
          `${layout.significantDigits}; encode both with the same options.`,
      )
    }
    const target = this.active
    const lowest = layout.lowest
    for (let i = 0; i < js.countsArrayLength; i++) {
      const n = js.getCountAtIndex(i)
      if (n > 0) {
        const x = js.valueFromIndex(i)
        const mid = (layout.lowestAt(layout.index(x)) + layout.highestAt(layout.index(x))) / 2
        target.recordScaled(mid * lowest, x, n)
      }
    }
  }
}

/** Computes the snapshot figures of a set of counts. */
export function statsOf(counts: HdrCounts, scratch: number[] = []): HistogramStats {
  const [p50, p90, p95, p99, p999] = counts.percentiles(SNAPSHOT_PERCENTILES, scratch) as [
    number,
    number,
    number,
    number,
    number,
  ]
  const empty = counts.count === 0
  return {
    count: counts.count,
    dropped: counts.dropped,
    sum: counts.sum,
    min: empty ? 0 : counts.min,
    max: empty ? 0 : counts.max,
    mean: empty ? 0 : counts.sum / counts.count,
    p50,
    p90,
    p95,
    p99,
    p999,
  }
}

/**
 * An HDR histogram: latency or size distributions with percentiles within a fixed relative error
 * (0.1% with 3 significant digits).
 *
 * @example
 * const latency = registry.histogram('http_request_duration', { unit: 'ms', labels: ['route'] })
 * latency.with({ route: '/chat' }).record(12.3)
 */
export class Histogram<L extends string = never> extends Metric<L, HistogramSeries> {
  readonly type = 'histogram' as const
  /** Value range and precision shared by every series. */
  readonly layout: HdrLayout
  /** Classic bucket bounds used by the Prometheus exposition (computed at scrape time). */
  readonly buckets: readonly number[]
  readonly #fromMs: number

  constructor(
    name: string,
    help: string,
    unit: string,
    labelNames: readonly string[],
    maxSeries: number,
    layout: HdrLayout,
    buckets: readonly number[],
    fromMs: number,
  ) {
    super(name, help, unit, labelNames, maxSeries)
    this.layout = layout
    this.buckets = buckets
    this.#fromMs = fromMs
  }

  protected createSeries(labels: Readonly<Record<string, string>>, overflow: boolean): HistogramSeries {
    return new HistogramSeries(labels, overflow, this.layout, this.#fromMs)
  }

  /**
   * Records into the unlabeled series, or into the series of `labels` (prefer a `with()` handle on
   * hot paths).
   *
   * @example
   * histogram.record(12.3)
   */
  record(value: number, labels?: LabelValues<L>): void {
    ;(labels ? this.with(labels) : this.unlabeled()).record(value)
  }

  /**
   * Starts a timer on the unlabeled series, or on the series of `labels`.
   *
   * @example
   * const stop = histogram.startTimer(); stop()
   */
  startTimer(labels?: LabelValues<L>): () => number {
    return (labels ? this.with(labels) : this.unlabeled()).startTimer()
  }

  rollover(): void {
    for (const series of this.series()) series.rollover()
  }
}
