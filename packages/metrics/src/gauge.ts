import type { LabelValues } from './labels'
import { renderLabels } from './labels'
import { Metric, type SeriesBase } from './metric'

/**
 * One label combination of a gauge: a value that goes up and down.
 *
 * @example
 * const size = queueSize.with({ queue: 'jobs' })
 * size.set(12)
 */
export class GaugeSeries implements SeriesBase {
  readonly labels: Readonly<Record<string, string>>
  readonly rendered: string
  readonly overflow: boolean
  /** Current value. */
  value = 0

  constructor(labels: Readonly<Record<string, string>>, overflow: boolean) {
    this.labels = labels
    this.rendered = renderLabels(labels)
    this.overflow = overflow
  }

  /** Sets the value. Allocates nothing. */
  set(value: number): void {
    this.value = value
  }

  /** Adds `amount` (default 1). */
  inc(amount = 1): void {
    this.value += amount
  }

  /** Subtracts `amount` (default 1). */
  dec(amount = 1): void {
    this.value -= amount
  }
}

/**
 * A gauge: a current level (queue size, connections, heap bytes).
 *
 * @example
 * const inFlight = registry.gauge('in_flight')
 * inFlight.inc(); inFlight.dec()
 */
export class Gauge<L extends string = never> extends Metric<L, GaugeSeries> {
  readonly type = 'gauge' as const

  protected createSeries(labels: Readonly<Record<string, string>>, overflow: boolean): GaugeSeries {
    return new GaugeSeries(labels, overflow)
  }

  /**
   * Sets the unlabeled series, or the series of `labels`.
   *
   * @example
   * gauge.set(3)
   * gauge.set(3, { pool: 'main' })
   */
  set(value: number, labels?: LabelValues<L>): void {
    ;(labels ? this.with(labels) : this.unlabeled()).set(value)
  }

  /**
   * Adds to the unlabeled series, or to the series of `labels`.
   *
   * @example
   * gauge.inc()
   */
  inc(amount = 1, labels?: LabelValues<L>): void {
    ;(labels ? this.with(labels) : this.unlabeled()).inc(amount)
  }

  /**
   * Subtracts from the unlabeled series, or from the series of `labels`.
   *
   * @example
   * gauge.dec()
   */
  dec(amount = 1, labels?: LabelValues<L>): void {
    ;(labels ? this.with(labels) : this.unlabeled()).dec(amount)
  }

  rollover(): void {}
}
