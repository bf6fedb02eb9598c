import { invalidOption } from '@hotpath/core'
import type { LabelValues } from './labels'
import { renderLabels } from './labels'
import { Metric, type SeriesBase } from './metric'

/**
 * One label combination of a counter: a monotonically increasing total.
 *
 * @example
 * const ok = requests.with({ status: '200' })
 * ok.inc()
 */
export class CounterSeries implements SeriesBase {
  readonly labels: Readonly<Record<string, string>>
  readonly rendered: string
  readonly overflow: boolean
  /** Total since creation. */
  value = 0
  /** Increase during the last completed interval. */
  intervalValue = 0
  #mark = 0

  constructor(labels: Readonly<Record<string, string>>, overflow: boolean) {
    this.labels = labels
    this.rendered = renderLabels(labels)
    this.overflow = overflow
  }

  /** Adds `amount` (>= 0, default 1). Allocates nothing. */
  inc(amount = 1): void {
    if (!(amount >= 0)) throw invalidOption('amount', 'a number >= 0', amount)
    this.value += amount
  }

  /** Closes the current interval. */
  rollover(): void {
    this.intervalValue = this.value - this.#mark
    this.#mark = this.value
  }
}

/**
 * A counter: totals that only go up (requests, errors, bytes sent).
 *
 * @example
 * const requests = registry.counter('http_requests', { labels: ['status'] })
 * requests.with({ status: 200 }).inc()
 */
export class Counter<L extends string = never> extends Metric<L, CounterSeries> {
  readonly type = 'counter' as const

  protected createSeries(labels: Readonly<Record<string, string>>, overflow: boolean): CounterSeries {
    return new CounterSeries(labels, overflow)
  }

  /**
   * Adds `amount` to the unlabeled series, or to the series of `labels`.
   *
   * @example
   * counter.inc()
   * counter.inc(5, { status: 500 })
   */
  inc(amount = 1, labels?: LabelValues<L>): void {
    ;(labels ? this.with(labels) : this.unlabeled()).inc(amount)
  }

  rollover(): void {
    for (const series of this.series()) series.rollover()
  }
}
