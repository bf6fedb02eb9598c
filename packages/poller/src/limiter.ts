import {
  checkInteger,
  checkKnownOptions,
  checkOptionsObject,
  checkString,
  type Duration,
  describeMetrics,
  getTimerService,
  invalidOption,
  metricsSource,
  parseDuration,
  Timeout,
  withDefaults,
} from '@hotpath/core'

/**
 * Options of {@link PollLimiter}.
 *
 * @example
 * new PollLimiter({ maxConcurrent: 10, rate: 60, per: '1m' })
 */
export interface PollLimiterOptions {
  /** Name shown in stats. @default 'default' */
  name?: string
  /** Most checks running at once across every poller sharing the limiter. @default Infinity */
  maxConcurrent?: number
  /**
   * Most checks started per `per` window (a sliding window: never more than `rate` starts in
   * any window of that length). At most 100,000. @default Infinity
   */
  rate?: number
  /** The window of `rate`. @default '1s' */
  per?: Duration
}

/**
 * A plain snapshot of a {@link PollLimiter}.
 *
 * @example
 * const { running, queued } = getLimiter('sora')?.stats() ?? { running: 0, queued: 0 }
 */
export interface PollLimiterStats {
  name: string
  /** Checks running now. */
  running: number
  /** Pollers waiting for a slot. */
  queued: number
  /** Checks granted so far. */
  granted: number
  /** Grants that had to wait. */
  delayed: number
}

/**
 * A poll's place in limiter queues, created the first time it uses a limiter (most polls never
 * queue, so the links are not kept on every poll): an intrusive list node, so leaving the queue
 * on abort is O(1).
 */
export class LimiterTicket {
  limiterPrev: LimiterTicket | undefined = undefined
  limiterNext: LimiterTicket | undefined = undefined
  /** @param grant called when the ticket's poll got its slot */
  constructor(readonly grant: () => void) {}
}

const MAX_RATE = 100_000

/**
 * A quota shared by many pollers: at most `maxConcurrent` checks at once and at most `rate`
 * check starts per `per`, so 500 pollers cannot exceed a provider's request quota. Waiting
 * pollers are served first come, first served. The queue is bounded by the number of pollers
 * using the limiter (each waits with at most one check).
 *
 * @example
 * const quota = new PollLimiter({ maxConcurrent: 5, rate: 20, per: '1s' })
 * await Promise.all(jobIds.map((id) => poll(() => api.status(id), { isDone, limiter: quota })))
 */
export class PollLimiter {
  /** Lets `collect()` from @hotpath/metrics read this primitive's stats as `other` metrics. */
  readonly [metricsSource] = describeMetrics('other', () => this.stats())
  readonly name: string
  readonly maxConcurrent: number
  readonly rate: number
  readonly per: number
  readonly #starts: Float64Array | undefined
  #startHead = 0
  #startCount = 0
  #running = 0
  #head: LimiterTicket | undefined
  #tail: LimiterTicket | undefined
  #queued = 0
  #granted = 0
  #delayed = 0
  /** Wakes the queue when the rate window frees a slot (a queued poll waits on it). */
  readonly #wake = new Timeout(() => this.#pump())

  constructor(options: PollLimiterOptions = {}) {
    const raw = checkOptionsObject('options', options)
    checkKnownOptions('new PollLimiter()', raw, ['name', 'maxConcurrent', 'rate', 'per'])
    const o = withDefaults(
      { name: 'default', maxConcurrent: Number.POSITIVE_INFINITY, rate: Number.POSITIVE_INFINITY, per: '1s' },
      raw,
    )
    this.name = checkString('name', o.name)
    this.maxConcurrent = checkInteger('maxConcurrent', o.maxConcurrent, { min: 1, allowInfinity: true })
    this.rate = checkInteger('rate', o.rate, { min: 1, max: MAX_RATE, allowInfinity: true })
    this.per = parseDuration(o.per, 'per', { positive: true })
    this.#starts = Number.isFinite(this.rate) ? new Float64Array(this.rate) : undefined
  }

  /**
   * Takes a slot at once (returns true) or queues `waiter` until `grant()` (returns false).
   * @internal called by pollers; pass the limiter to `poll()` instead
   */
  acquire(waiter: LimiterTicket): boolean {
    const now = getTimerService().now()
    if (this.#head === undefined && this.#waitFor(now) === 0) {
      this.#take(now)
      return true
    }
    waiter.limiterPrev = this.#tail
    waiter.limiterNext = undefined
    if (this.#tail) this.#tail.limiterNext = waiter
    else this.#head = waiter
    this.#tail = waiter
    this.#queued++
    this.#pump()
    return false
  }

  /**
   * Gives back a slot taken by `acquire`.
   * @internal called by pollers; a release without an acquire is ignored
   */
  release(): void {
    if (this.#running === 0) return
    this.#running--
    if (this.#head !== undefined) this.#pump()
  }

  /**
   * Removes a queued waiter (after an abort).
   * @internal called by pollers
   */
  cancel(waiter: LimiterTicket): void {
    const { limiterPrev: prev, limiterNext: next } = waiter
    if (prev) prev.limiterNext = next
    else if (this.#head === waiter) this.#head = next
    else return
    if (next) next.limiterPrev = prev
    else this.#tail = prev
    waiter.limiterPrev = waiter.limiterNext = undefined
    this.#queued--
    if (this.#head === undefined) getTimerService().remove(this.#wake)
  }

  /** A plain snapshot. */
  stats(): PollLimiterStats {
    return {
      name: this.name,
      running: this.#running,
      queued: this.#queued,
      granted: this.#granted,
      delayed: this.#delayed,
    }
  }

  /** 0 when a check may start now; Infinity when only a release can help; else ms to wait. */
  #waitFor(now: number): number {
    if (this.#running >= this.maxConcurrent) return Number.POSITIVE_INFINITY
    const starts = this.#starts
    if (starts === undefined || this.#startCount < this.rate) return 0
    const freeAt = starts[this.#startHead]! + this.per
    return freeAt <= now ? 0 : freeAt - now
  }

  #take(now: number): void {
    this.#running++
    this.#granted++
    const starts = this.#starts
    if (starts === undefined) return
    if (this.#startCount < this.rate) {
      starts[(this.#startHead + this.#startCount) % this.rate] = now
      this.#startCount++
    } else {
      starts[this.#startHead] = now
      this.#startHead = (this.#startHead + 1) % this.rate
    }
  }

  #pump(): void {
    const timers = getTimerService()
    const now = timers.now()
    if (this.#head === undefined) {
      timers.remove(this.#wake)
      return
    }
    for (let waiter: LimiterTicket | undefined = this.#head; waiter !== undefined; waiter = this.#head) {
      const wait = this.#waitFor(now)
      if (wait === Number.POSITIVE_INFINITY) return
      if (wait > 0) {
        if (!this.#wake.pending) timers.add(this.#wake, wait)
        return
      }
      this.#head = waiter.limiterNext
      if (this.#head) this.#head.limiterPrev = undefined
      else this.#tail = undefined
      waiter.limiterNext = undefined
      this.#queued--
      this.#delayed++
      this.#take(now)
      waiter.grant()
    }
    // Nobody waits any more: a wake-up still scheduled would only hold the timer.
    timers.remove(this.#wake)
  }
}

const registry = new Map<string, PollLimiter>()

/**
 * Creates (or replaces) the named limiter that pollers select with `limiter: name`.
 *
 * @example
 * defineLimiter('sora', { maxConcurrent: 5, rate: 20 })
 * await poll(check, { isDone, limiter: 'sora' })
 */
export function defineLimiter(name: string, options: Omit<PollLimiterOptions, 'name'> = {}): PollLimiter {
  const limiter = new PollLimiter({ ...checkOptionsObject('options', options), name })
  registry.set(limiter.name, limiter)
  return limiter
}

/**
 * The named limiter, or undefined.
 *
 * @example
 * getLimiter('sora')?.stats()
 */
export function getLimiter(name: string): PollLimiter | undefined {
  return registry.get(name)
}

/** Resolves a `limiter` option. */
export function resolveLimiter(value: unknown): PollLimiter | undefined {
  if (value === undefined || value === false) return undefined
  if (value instanceof PollLimiter) return value
  const name = value === true ? 'default' : value
  if (typeof name === 'string') {
    const limiter = registry.get(name)
    if (limiter) return limiter
  }
  throw invalidOption(
    'limiter',
    "a PollLimiter, the name of one created with defineLimiter(), or true for defineLimiter('default', ...)",
    value,
  )
}

/** Stats of every named limiter. */
export function namedLimiterStats(): PollLimiterStats[] {
  return [...registry.values()].map((limiter) => limiter.stats())
}
