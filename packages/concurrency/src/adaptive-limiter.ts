import {
  checkFunction,
  checkInteger,
  checkNumber,
  checkOneOf,
  checkString,
  describeMetrics,
  eventChannel,
  getClock,
  invalidOption,
  metricsSource,
  parseDuration,
} from '@hotpath/core'
import type {
  AdaptiveAlgorithm,
  AdaptiveLimiterOptions,
  AdaptiveLimiterStats,
  AdaptiveToken,
} from './adaptive-limiter-types'
import { concurrencyChannels } from './channels'
import { readOptions } from './internal/options'
import type { Permit } from './permit'
import { Semaphore } from './semaphore'
import type { AcquireOptions, ClearOptions } from './semaphore-types'

export type {
  AdaptiveAlgorithm,
  AdaptiveLimiterOptions,
  AdaptiveLimiterStats,
  AdaptiveToken,
} from './adaptive-limiter-types'

/**
 * Message on `hotpath:concurrency:limit`: the adaptive limit changed.
 *
 * @example
 * limitChannel.subscribe(({ name, previous, limit }: LimitChangeEvent) => log.info({ name, previous, limit }, 'limit changed'))
 */
export interface LimitChangeEvent {
  name: string
  algorithm: AdaptiveAlgorithm
  limit: number
  previous: number
}

/**
 * `hotpath:concurrency:limit`: an adaptive limit changed (rounded value).
 *
 * @example
 * limitChannel.subscribe(({ name, limit }) => gauge.set({ name }, limit))
 */
export const limitChannel = eventChannel<LimitChangeEvent>(concurrencyChannels.limit)

const SLOT_OPTIONS = ['signal', 'timeout', 'priority']

/**
 * A concurrency limit that finds itself: it measures each call's round-trip time and adjusts the
 * number of calls allowed in flight (Netflix concurrency-limits' AIMD, Vegas and Gradient2).
 * Callers beyond the limit wait in a bounded queue.
 *
 * @example
 * const upstream = new AdaptiveLimiter({ algorithm: 'gradient2', min: 4, max: 256 })
 * const reply = await upstream.run(() => fetch(url), { timeout: '2s' })
 * upstream.stats().limit
 */
export class AdaptiveLimiter {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `adaptive-limiter` metrics. */
  readonly [metricsSource] = describeMetrics('adaptive-limiter', () => this.stats())
  readonly #algorithm: AdaptiveAlgorithm
  readonly #min: number
  readonly #max: number
  readonly #backoffRatio: number
  readonly #rttTimeout: number
  readonly #tolerance: number
  readonly #smoothing: number
  readonly #longWindow: number
  readonly #queueSize: number
  readonly #maxDrift: number
  readonly #isDropped: (error: unknown) => boolean
  readonly #name: string
  readonly #semaphore: Semaphore
  #limit: number
  #inFlight = 0
  // Samples are aggregated per window (about one RTT, at least `windowSize` samples) and the
  // algorithm updates once per window, like the reference's WindowedLimit: a burst of samples
  // measured under an old limit cannot move the limit many times before feedback arrives.
  #windowStart = -1
  #windowCount = 0
  #windowRttSum = 0
  #windowMaxInFlight = 0
  #windowDropped = false
  readonly #windowSize: number
  #minRtt = 0
  #longRtt = 0
  #samples = 0
  #succeeded = 0
  #ignored = 0
  #dropped = 0

  constructor(options?: AdaptiveLimiterOptions) {
    const raw = readOptions('new AdaptiveLimiter()', options, [
      'algorithm',
      'initialLimit',
      'min',
      'max',
      'maxQueue',
      'timeout',
      'backoffRatio',
      'rttTimeout',
      'tolerance',
      'smoothing',
      'longWindow',
      'queueSize',
      'windowSize',
      'maxDrift',
      'isDropped',
      'name',
    ])
    this.#algorithm = checkOneOf('algorithm', raw.algorithm ?? 'gradient2', [
      'aimd',
      'vegas',
      'gradient2',
    ] as const)
    this.#min = checkInteger('min', raw.min ?? 1, { min: 1 })
    this.#max = checkInteger('max', raw.max ?? 1_000, { min: this.#min })
    this.#limit = checkInteger('initialLimit', raw.initialLimit ?? Math.min(20, this.#max), {
      min: this.#min,
      max: this.#max,
    })
    this.#backoffRatio = checkNumber('backoffRatio', raw.backoffRatio ?? 0.9, { min: 0.1, max: 0.99 })
    this.#rttTimeout = parseDuration(raw.rttTimeout ?? '5s', 'rttTimeout')
    this.#tolerance = checkNumber('tolerance', raw.tolerance ?? 1.5, { min: 1 })
    this.#smoothing = checkNumber('smoothing', raw.smoothing ?? (this.#algorithm === 'vegas' ? 1 : 0.2), {
      min: 0.01,
      max: 1,
    })
    this.#longWindow = checkInteger('longWindow', raw.longWindow ?? 600, { min: 1 })
    this.#queueSize = checkNumber('queueSize', raw.queueSize ?? 4, { min: 0 })
    this.#windowSize = checkInteger('windowSize', raw.windowSize ?? 10, { min: 1 })
    this.#maxDrift = checkNumber('maxDrift', raw.maxDrift ?? 1.1, { min: 1 })
    this.#isDropped = raw.isDropped === undefined ? () => false : checkFunction('isDropped', raw.isDropped)
    this.#name = checkString('name', raw.name ?? 'adaptive')
    this.#semaphore = new Semaphore({
      permits: this.#limit,
      name: this.#name,
      maxQueue: raw.maxQueue ?? 1_000,
      ...(raw.timeout === undefined ? {} : { timeout: raw.timeout }),
    })
  }

  /** The current limit (rounded: the number of calls allowed in flight). */
  get limit(): number {
    return this.#semaphore.permits
  }

  /**
   * Waits for a slot; report the outcome on the returned token.
   *
   * @example
   * const token = await limiter.acquire({ signal })
   * try { await call(); token.success() } catch (err) { isOverload(err) ? token.dropped() : token.ignore() }
   */
  acquire(options?: Omit<AcquireOptions, 'weight'>): Promise<AdaptiveToken> {
    if (options !== undefined) readOptions('AdaptiveLimiter.acquire()', options, SLOT_OPTIONS)
    return this.#semaphore.acquire(options).then(this.#token)
  }

  readonly #token = (permit: Permit): AdaptiveToken => {
    const inFlight = ++this.#inFlight
    const started = getClock().monotonic()
    let done = false
    const finish = (outcome: 0 | 1 | 2) => {
      if (done) return
      done = true
      this.#inFlight--
      const rtt = getClock().monotonic() - started
      if (outcome === 0) {
        this.#succeeded++
        this.#sample(rtt, inFlight, false)
      } else if (outcome === 2) {
        this.#dropped++
        this.#sample(rtt, inFlight, true)
      } else this.#ignored++
      permit.release()
    }
    return { success: () => finish(0), ignore: () => finish(1), dropped: () => finish(2) }
  }

  /**
   * Runs `fn` in a slot: a result is a success; an error is a drop when `isDropped(error)`, else
   * ignored.
   *
   * @example
   * const body = await limiter.run(() => upstream.get(path))
   */
  run<R>(fn: () => R | PromiseLike<R>, options?: Omit<AcquireOptions, 'weight'>): Promise<Awaited<R>> {
    if (typeof fn !== 'function') throw invalidOption('fn', 'a function', fn)
    if (options !== undefined) readOptions('AdaptiveLimiter.run()', options, SLOT_OPTIONS)
    return this.#run(fn, this.#semaphore.acquire(options))
  }

  async #run<R>(fn: () => R | PromiseLike<R>, slot: Promise<Permit>): Promise<Awaited<R>> {
    const token = this.#token(await slot)
    let result: Awaited<R>
    try {
      result = await fn()
    } catch (error) {
      if (this.#isDropped(error)) token.dropped()
      else token.ignore()
      throw error
    }
    token.success()
    return result
  }

  /**
   * A plain snapshot.
   *
   * @example
   * metrics.gauge('upstream_limit', limiter.stats().limit)
   */
  stats(): AdaptiveLimiterStats {
    return {
      name: this.#name,
      algorithm: this.#algorithm,
      limit: this.#limit,
      inFlight: this.#inFlight,
      waiting: this.#semaphore.waiting,
      succeeded: this.#succeeded,
      ignored: this.#ignored,
      dropped: this.#dropped,
      minRtt: this.#minRtt,
    }
  }

  /**
   * Rejects every waiting caller with `reason` (default `E_SEMAPHORE_CLEARED`).
   *
   * @example
   * limiter.clear()
   */
  clear(options?: ClearOptions): number {
    if (options !== undefined) readOptions('AdaptiveLimiter.clear()', options, ['reason'])
    return this.#semaphore.clear(options)
  }

  #sample(rtt: number, inFlight: number, dropped: boolean): void {
    if (this.#minRtt === 0 || rtt < this.#minRtt) this.#minRtt = rtt
    const now = getClock().monotonic()
    if (this.#windowStart < 0) this.#windowStart = now
    this.#windowCount++
    this.#windowRttSum += rtt
    if (inFlight > this.#windowMaxInFlight) this.#windowMaxInFlight = inFlight
    if (dropped) this.#windowDropped = true
    const averageRtt = this.#windowRttSum / this.#windowCount
    if (
      !this.#windowDropped &&
      (this.#windowCount < this.#windowSize || now - this.#windowStart < averageRtt)
    ) {
      return
    }
    const maxInFlight = this.#windowMaxInFlight
    const didDrop = this.#windowDropped
    this.#windowStart = now
    this.#windowCount = 0
    this.#windowRttSum = 0
    this.#windowMaxInFlight = 0
    this.#windowDropped = false
    this.#samples++
    const limit = this.#limit
    let next = limit
    if (this.#algorithm === 'aimd') next = this.#aimd(limit, averageRtt, maxInFlight, didDrop)
    else if (this.#algorithm === 'vegas') next = this.#vegas(limit, averageRtt, maxInFlight, didDrop)
    else next = this.#gradient2(limit, averageRtt, maxInFlight, didDrop)
    next = Math.min(this.#max, Math.max(this.#min, next))
    this.#limit = next
    const rounded = Math.max(this.#min, Math.round(next))
    const previous = this.#semaphore.permits
    if (rounded !== previous) {
      this.#semaphore.permits = rounded
      if (limitChannel.active) {
        limitChannel.publish({ name: this.#name, algorithm: this.#algorithm, limit: rounded, previous })
      }
    }
  }

  #aimd(limit: number, rtt: number, inFlight: number, dropped: boolean): number {
    if (dropped || rtt > this.#rttTimeout) return limit * this.#backoffRatio
    if (inFlight * 2 >= limit) return limit + 1
    return limit
  }

  #vegas(limit: number, rtt: number, inFlight: number, dropped: boolean): number {
    const log = Math.max(1, Math.log10(limit))
    let next = limit
    if (dropped) next = limit - log
    else {
      if (inFlight * 2 < limit) return limit
      const queue = Math.ceil(limit * (1 - this.#minRtt / rtt))
      if (queue <= log) next = limit + 6 * log
      else if (queue < 3 * log) next = limit + log
      else if (queue > 6 * log) next = limit - log
    }
    return limit * (1 - this.#smoothing) + next * this.#smoothing
  }

  #gradient2(limit: number, rtt: number, inFlight: number, dropped: boolean): number {
    const window = Math.min(this.#samples, this.#longWindow)
    this.#longRtt = this.#longRtt === 0 ? rtt : this.#longRtt + (rtt - this.#longRtt) / window
    // A long average far above the current RTT (load went away): let it come down faster.
    if (this.#longRtt / rtt > 2) this.#longRtt *= 0.95
    this.#longRtt = Math.min(this.#longRtt, this.#minRtt * this.#maxDrift)
    if (!dropped && inFlight < limit / 2) return limit
    const gradient = dropped ? 0.5 : Math.max(0.5, Math.min(1, (this.#tolerance * this.#longRtt) / rtt))
    const next = limit * gradient + this.#queueSize
    return limit * (1 - this.#smoothing) + next * this.#smoothing
  }
}
