import type { Cache } from '@hotpath/cache'
import { createRegistry } from '@hotpath/metrics'

/** The router's figures over the last completed interval, as the live page plots them. */
export interface LiveFigures {
  /** Number of the interval; the page adds a point only when it changes. */
  seq: number
  /** When the interval ended (epoch ms). */
  at: number
  intervalMs: number
  /** Completions answered per second (any status). */
  throughput: number
  completions: number
  /** Completions answered 5xx (every provider failed). */
  failed: number
  /** Router-side completion latency, ms (null when there was no completion). */
  latency: { p50: number; p95: number; p99: number } | null
  /** Cache hits / lookups in the interval (null when there was no lookup). */
  cacheHitRate: number | null
}

/**
 * Completion latency and counts over fixed intervals (1 s by default): a histogram in its own
 * registry rolled over by a timer, so each read shows the last whole interval rather than a
 * cumulative figure that barely moves after a minute.
 *
 * @example
 * const live = new LiveWindow(cache)
 * const stop = live.start()
 * await handle(request)
 * stop(502)
 * live.figures() // { throughput, latency: { p50, p95, p99 }, ... }
 */
export class LiveWindow {
  readonly #registry = createRegistry()
  readonly #latency = this.#registry.histogram('completion_latency', { unit: 'ms' }).with({})
  readonly #failed = this.#registry.counter('completions_failed').with({})
  readonly #cache: Cache
  readonly #timer: NodeJS.Timeout
  #seq = 0
  #startedAt = performance.now()
  #lastCache = { hits: 0, lookups: 0 }
  #figures: LiveFigures

  constructor(cache: Cache, intervalMs = 1_000) {
    this.#cache = cache
    this.#figures = {
      seq: 0,
      at: Date.now(),
      intervalMs: 0,
      throughput: 0,
      completions: 0,
      failed: 0,
      latency: null,
      cacheHitRate: null,
    }
    // unref: an idle router must not be kept alive by its own statistics.
    this.#timer = setInterval(() => this.#roll(), intervalMs).unref()
  }

  /** Starts timing one completion; call the returned function with its HTTP status. */
  start(): (status: number) => void {
    const started = performance.now()
    return (status) => {
      this.#latency.record(performance.now() - started)
      if (status >= 500) this.#failed.inc()
    }
  }

  /** The last completed interval. */
  figures(): LiveFigures {
    return this.#figures
  }

  /** Stops the interval timer. */
  close(): void {
    clearInterval(this.#timer)
  }

  #roll(): void {
    const now = performance.now()
    const intervalMs = now - this.#startedAt
    this.#startedAt = now
    this.#registry.rollover()
    const latency = this.#latency.stats('interval')
    const cache = this.#cache.stats()
    const hits = cache.l1.hits + cache.l2.hits
    const lookups = hits + cache.misses
    const cacheLookups = lookups - this.#lastCache.lookups
    const cacheHits = hits - this.#lastCache.hits
    this.#lastCache = { hits, lookups }
    this.#figures = {
      seq: ++this.#seq,
      at: Date.now(),
      intervalMs,
      throughput: (latency.count * 1000) / intervalMs,
      completions: latency.count,
      failed: this.#failed.intervalValue,
      latency: latency.count === 0 ? null : { p50: latency.p50, p95: latency.p95, p99: latency.p99 },
      cacheHitRate: cacheLookups === 0 ? null : cacheHits / cacheLookups,
    }
  }
}
