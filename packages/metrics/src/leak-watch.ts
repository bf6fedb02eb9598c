import {
  checkFunction,
  checkInteger,
  checkKnownOptions,
  checkNumber,
  checkOptionsObject,
  type Duration,
  eventChannel,
  getClock,
  parseDuration,
  schedule,
  type TimerHandle,
} from '@hotpath/core'
import type { Registry } from './registry'

/**
 * What {@link leakWatch} concludes from its window of heap samples.
 *
 * @example
 * const { growing, bytesPerMinute, confidence } = watch.report()
 */
export interface LeakReport {
  /** Samples in the window. */
  samples: number
  /** Heap growth rate from a least-squares fit, in bytes per minute (negative = shrinking). */
  bytesPerMinute: number
  /** Confidence in the trend: R² of the linear fit (0..1; 1 = perfectly steady growth). */
  confidence: number
  /** Heap in use at the last sample, in bytes. */
  heapUsed: number
  /** True when the window is full, the rate is above `minGrowth` and the confidence above `minConfidence`. */
  growing: boolean
}

/**
 * Options of {@link leakWatch}.
 *
 * @example
 * leakWatch({ interval: '1m', window: 30, minGrowth: 512 * 1024, minConfidence: 0.9, registry })
 */
export interface LeakWatchOptions {
  /** Time between heap samples. @default '1m' */
  interval?: Duration
  /** Samples kept for the trend (the window is `interval × window`). @default 10 */
  window?: number
  /** Growth below this rate (bytes per minute) is not reported. @default 1_048_576 (1 MiB/min) */
  minGrowth?: number
  /** R² needed to call the growth sustained. @default 0.8 */
  minConfidence?: number
  /** Also exports `runtime_heap_growth_rate` (bytes/min) and `runtime_heap_growth_confidence`. @default undefined */
  registry?: Registry
  /** Called once each time the trend becomes `growing`. @default undefined */
  onLeak?: (report: LeakReport) => void
  /** What is measured, in bytes. @default () => process.memoryUsage().heapUsed */
  measure?: () => number
}

/**
 * A running leak watch.
 *
 * @example
 * using watch = leakWatch({ interval: '30s' })
 * if (watch.report().growing) await heapSnapshot()
 */
export interface LeakWatch {
  /** The trend over the current window. */
  report(): LeakReport
  /** Stops sampling. */
  stop(): void
  /** Same as `stop()`, for `using`. */
  [Symbol.dispose](): void
}

let leakChannel: ReturnType<typeof eventChannel<LeakReport>> | undefined

/**
 * Least-squares slope and R² of `ys` against `xs`.
 *
 * @example
 * linearFit([0, 1, 2], [1, 3, 5]) // { slope: 2, r2: 1 }
 */
export function linearFit(xs: readonly number[], ys: readonly number[]): { slope: number; r2: number } {
  const n = xs.length
  if (n < 2) return { slope: 0, r2: 0 }
  let mx = 0
  let my = 0
  for (let i = 0; i < n; i++) {
    mx += xs[i]!
    my += ys[i]!
  }
  mx /= n
  my /= n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx
    const dy = ys[i]! - my
    sxy += dx * dy
    sxx += dx * dx
    syy += dy * dy
  }
  if (sxx === 0) return { slope: 0, r2: 0 }
  const slope = sxy / sxx
  const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy)
  return { slope, r2 }
}

/**
 * Samples the heap every `interval` and reports sustained growth over the last `window` samples:
 * the growth rate from a linear regression and its R² as the confidence. Publishes
 * `hotpath:metrics:leak` (and calls `onLeak`) when the trend turns into a leak.
 *
 * @example
 * const watch = leakWatch({ interval: '1m', window: 15, onLeak: (r) => log.warn(r, 'heap growing') })
 * watch.report() // { bytesPerMinute: 3.2e6, confidence: 0.94, growing: true, ... }
 */
export function leakWatch(options: LeakWatchOptions = {}): LeakWatch {
  const raw = checkOptionsObject('options', options)
  checkKnownOptions('leakWatch()', raw, [
    'interval',
    'window',
    'minGrowth',
    'minConfidence',
    'registry',
    'onLeak',
    'measure',
  ])
  const interval = parseDuration(raw.interval ?? '1m', 'interval')
  const window = checkInteger('window', raw.window ?? 10, { min: 3, max: 10_000 })
  const minGrowth = checkNumber('minGrowth', raw.minGrowth ?? 1_048_576, { min: 0 })
  const minConfidence = checkNumber('minConfidence', raw.minConfidence ?? 0.8, { min: 0, max: 1 })
  const measure =
    raw.measure === undefined
      ? () => process.memoryUsage().heapUsed
      : checkFunction<() => number>('measure', raw.measure)
  const onLeak =
    raw.onLeak === undefined ? undefined : checkFunction<(r: LeakReport) => void>('onLeak', raw.onLeak)
  const rate = raw.registry?.gauge('runtime_heap_growth_rate', {
    unit: 'bytes',
    help: 'Heap growth per minute over the leak-watch window (linear fit).',
  })
  const confidence = raw.registry?.gauge('runtime_heap_growth_confidence', {
    help: 'R² of the heap growth fit (0..1).',
  })
  const times: number[] = []
  const heaps: number[] = []
  let wasGrowing = false
  let timer: TimerHandle | undefined
  let stopped = false

  const report = (): LeakReport => {
    const { slope, r2 } = linearFit(times, heaps)
    const bytesPerMinute = slope * 60_000
    return {
      samples: heaps.length,
      bytesPerMinute,
      confidence: r2,
      heapUsed: heaps[heaps.length - 1] ?? 0,
      growing: heaps.length >= window && bytesPerMinute > minGrowth && r2 >= minConfidence,
    }
  }

  const tick = () => {
    times.push(getClock().monotonic())
    heaps.push(measure())
    if (heaps.length > window) {
      times.shift()
      heaps.shift()
    }
    const r = report()
    rate?.set(r.bytesPerMinute)
    confidence?.set(r.confidence)
    if (r.growing && !wasGrowing) {
      leakChannel ??= eventChannel<LeakReport>('hotpath:metrics:leak')
      leakChannel.publish(r)
      onLeak?.(r)
    }
    wasGrowing = r.growing
  }

  const arm = () => {
    timer = schedule(() => {
      if (stopped) return
      tick()
      arm()
    }, interval).unref()
  }
  tick()
  arm()
  return {
    report,
    stop() {
      stopped = true
      timer?.cancel()
      timer = undefined
    },
    [Symbol.dispose]() {
      this.stop()
    },
  }
}
